#include <catch2/catch.hpp>

#include "sim/stats.hpp"

using rmpsim::Distribution;
using rmpsim::StatsRegistry;

TEST_CASE("distribution: nearest-rank percentiles, mean and max", "[stats]") {
  Distribution d;
  for (std::uint64_t v = 100; v >= 1; --v) d.sample(v);  // 1..100, unsorted
  CHECK(d.count() == 100);
  CHECK(d.percentile(50) == 50);
  CHECK(d.percentile(99) == 99);
  CHECK(d.percentile(100) == 100);
  CHECK(d.max() == 100);
  CHECK(d.mean() == Approx(50.5));
}

TEST_CASE("distribution: small and empty cases", "[stats]") {
  Distribution d;
  CHECK(d.percentile(50) == 0);
  CHECK(d.mean() == 0.0);
  d.sample(7);
  CHECK(d.percentile(1) == 7);
  CHECK(d.percentile(99) == 7);
  d.sample(3);  // {3, 7}: rank ceil(0.5*2)=1 -> 3, rank ceil(0.99*2)=2 -> 7
  CHECK(d.percentile(50) == 3);
  CHECK(d.percentile(99) == 7);
}

TEST_CASE("distribution: power-of-two buckets", "[stats]") {
  Distribution d;
  for (std::uint64_t v : {0, 1, 2, 3, 4, 7, 8, 1000}) d.sample(v);
  using B = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  // [0], [1,2), [2,4), [4,8), [8,16), [512,1024)
  CHECK(d.buckets() == B{{0, 1}, {1, 1}, {2, 2}, {4, 2}, {8, 1}, {512, 1}});
}

TEST_CASE("registry: hierarchical JSON and gem5-style text", "[stats]") {
  StatsRegistry r;
  std::uint64_t hits = 12, misses = 3;
  r.add_counter("system.cpu0.dtlb.hits", &hits, "DTLB hits");
  r.add_counter("system.cpu0.dtlb.misses", &misses, "DTLB misses");
  hits = 13;  // the registry reads the live counter when it writes
  auto j = r.to_json();
  CHECK(j["system"]["cpu0"]["dtlb"]["hits"] == 13);
  CHECK(j["system"]["cpu0"]["dtlb"]["misses"] == 3);
  const std::string text = r.to_text();
  CHECK(text.find("system.cpu0.dtlb.hits") == 0);
  CHECK(text.find(" 13 # DTLB hits\n") != std::string::npos);
  CHECK_THROWS(r.add_counter("system.cpu0.dtlb.hits", &hits, "again"));
}
