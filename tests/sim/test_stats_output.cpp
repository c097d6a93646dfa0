// The output side of the stats tree (sim/stats.hpp): stats.json's tree and
// stats.txt's lines.
#include <catch2/catch.hpp>

#include "sim/stats.hpp"

using rmpsim::Json;
using rmpsim::stats::Distribution;
using rmpsim::stats::Group;
using rmpsim::stats::Value;

TEST_CASE("stats tree: hierarchical JSON and gem5-style text", "[stats]") {
  Group system("system"), cpu0("cpu0"), dtlb("dtlb");
  std::uint64_t hits = 12, misses = 3;
  dtlb.add_counter("hits", &hits, "DTLB hits");
  dtlb.add_counter("misses", &misses, "DTLB misses");
  cpu0.add_formula("ratio", [] { return Value(0.25); }, "a ratio");
  cpu0.add_formula("name", [] { return Value(std::string("cpu")); }, "a string");
  cpu0.add_child(dtlb);
  system.add_child(cpu0);
  hits = 13;  // the writers read the live counter
  auto j = rmpsim::stats_json_tree(system);
  CHECK(j["system"]["cpu0"]["dtlb"]["hits"] == 13);
  CHECK(j["system"]["cpu0"]["dtlb"]["misses"] == 3);
  CHECK(j["system"]["cpu0"]["ratio"] == 0.25);
  CHECK(j["system"]["cpu0"]["name"] == "cpu");
  const std::string text = rmpsim::stats_text_lines(system);
  CHECK(text.find("system.cpu0.ratio") == 0);  // a group's own stats before its children's
  CHECK(text.find(" 0.25 # a ratio\n") != std::string::npos);
  CHECK(text.find(" cpu # a string\n") != std::string::npos);
  CHECK(text.find("system.cpu0.dtlb.hits") != std::string::npos);
  CHECK(text.find(" 13 # DTLB hits\n") != std::string::npos);
}

TEST_CASE("stats tree: a distribution in JSON and text", "[stats]") {
  Group system("system");
  Distribution d;
  for (std::uint64_t v : {1, 3, 8}) d.sample(v);
  system.add_distribution("lat", &d, "latency");
  const Json j = rmpsim::stats_json_tree(system)["system"]["lat"];
  CHECK(j["count"] == 3);
  CHECK(j["mean"] == Approx(4.0));
  CHECK(j["p50"] == 3);
  CHECK(j["p99"] == 8);
  CHECK(j["max"] == 8);
  CHECK(j["buckets"] == Json::parse("[[1, 1], [2, 1], [8, 1]]"));
  const std::string text = rmpsim::stats_text_lines(system);
  CHECK(text.find("system.lat::count") == 0);
  CHECK(text.find(" 4.000 # latency (mean)\n") != std::string::npos);
  CHECK(text.find("system.lat::[8,16)") != std::string::npos);
}
