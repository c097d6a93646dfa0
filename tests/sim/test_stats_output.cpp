// The output side of the stats tree (sim/stats.hpp): stats.json's tree,
// stats.txt's lines and the summary keys computed from the tree.
#include <catch2/catch.hpp>

#include "sim/stats.hpp"
#include "support/run_trace.hpp"

using rmpsim::Json;
using rmpsim::Reduce;
using rmpsim::SummaryKey;
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

TEST_CASE("summary keys: sums and maxima over two vCPUs", "[stats]") {
  // The shape of the platform's tree, with hand-set values.
  Group system("system"), cpu0("cpu0"), cpu1("cpu1"), mmu0("mmu"), mmu1("mmu"),
      hv("hypervisor");
  std::uint64_t cycles0 = 700, cycles1 = 900, ih0 = 1, dh0 = 2, ih1 = 30, dh1 = 40, vc0 = 5,
                rvc1 = 6, npf = 8;
  cpu0.add_counter("cycles", &cycles0, "");
  cpu1.add_counter("cycles", &cycles1, "");
  cpu1.add_counter("rmpadjust_vc", &rvc1, "");
  mmu0.add_counters({{"itlb.hits", &ih0, ""}, {"dtlb.hits", &dh0, ""}, {"vc_not_validated", &vc0, ""}});
  mmu1.add_counters({{"itlb.hits", &ih1, ""}, {"dtlb.hits", &dh1, ""}});
  hv.add_counter("npf", &npf, "");
  cpu0.add_child(mmu0);
  cpu1.add_child(mmu1);
  system.add_child(cpu0);
  system.add_child(cpu1);
  system.add_child(hv);

  Json s = Json::object();
  rmpsim::add_summary_keys(
      s, system,
      {{"cycles", Reduce::Max, {"cpu*.cycles"}},
       {"tlb_l1_hits", Reduce::Sum, {"cpu*.mmu.itlb.hits", "cpu*.mmu.dtlb.hits"}},
       {"npf_total", Reduce::Sum, {"hypervisor.npf"}},
       {"vc_not_validated", Reduce::Sum, {"cpu*.mmu.vc_not_validated", "cpu*.rmpadjust_vc"}}});
  CHECK(s.dump() == R"({"cycles":900,"tlb_l1_hits":73,"npf_total":8,"vc_not_validated":11})");

  // A name no stat has any more (a renamed counter) must not read as 0.
  const std::vector<SummaryKey> stale = {{"walks", Reduce::Sum, {"cpu*.mmu.walks"}}};
  CHECK_THROWS_AS(rmpsim::add_summary_keys(s, system, stale), std::logic_error);
}

TEST_CASE("e2e: the summary sums both vCPUs' stats", "[stats][e2e]") {
  using namespace rmpsim::test;
  TempDir tmp;
  // vCPU 0 maps a page and reads it 10 times: the first read walks 6 times
  // (5 not-present #NPF: 4 guest table pages and the data page), then 9 L1
  // hits. vCPU 1 reads the same page 5 times, well after: its own TLBs are
  // empty, so 1 walk that succeeds, then 4 L1 hits.
  std::string t = kMagic + "0 MAP 0x400000 0x80000000 0x1000 private,4k,rw\n1 D 1000000\n";
  for (int i = 0; i < 10; ++i) t += "0 R 0x400010\n";
  for (int i = 0; i < 5; ++i) t += "1 W 0x400020\n";
  const auto s = run_ok(tmp, t, "--set cpu.count=2");
  const auto& sum = s["summary"];
  const auto& sys = s["stats"]["system"];
  CHECK(sum["accesses"] == 15);
  CHECK(sum["walks"] == 7);
  CHECK(sum["tlb_l1_misses"] == 7);
  CHECK(sum["tlb_l1_hits"] == 13);
  CHECK(sum["npf_not_present"] == 5);
  CHECK(sys["cpu0"]["accesses"] == 10);
  CHECK(sys["cpu1"]["accesses"] == 5);
  CHECK(sum["cycles"] == std::max(sys["cpu0"]["cycles"].get<std::uint64_t>(),
                                  sys["cpu1"]["cycles"].get<std::uint64_t>()));
  CHECK(sum["cycles"] >= 1000000);
}
