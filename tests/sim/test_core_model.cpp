// Issue 17, item 3: the window core model (cpu.core_model=window,
// models/guest/miss_window.hpp), against timings computed by hand.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/guest/miss_window.hpp"
#include "support/cli_runner.hpp"

using rmpsim::guest::MissWindow;
using rmpsim::test::run_cli;
using rmpsim::test::slurp;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
using Json = nlohmann::json;

TEST_CASE("issue 17 item 3: a miss window issues until full, then waits for the earliest",
          "[core_model]") {
  MissWindow w(2);
  CHECK(w.issue(0, 100) == 0);   // slot A busy until 100
  CHECK(w.issue(4, 10) == 4);    // slot B busy until 14
  CHECK(w.issue(8, 50) == 14);   // full: waits for B (14), B busy until 64
  CHECK(*w.stall_cycles() == 6);
  CHECK(w.issue(70, 5) == 70);   // B completed at 64: free again, no wait
  CHECK(w.drain(71) == 100);     // A is the last to complete
  CHECK(w.drain(200) == 200);
}

namespace {
// 100 pages touched during the warm-up, then re-read in the same order: in
// the region every read misses the 64-entry L1 DTLB and hits the L2 TLB,
// whose latency is set to 20 cycles; the data access hits the L1D (the
// warm-up brought the lines in) and costs 4 (memory.l1d.hit_cycles).
std::uint64_t region_cycles(const TempDir& tmp, const std::string& model) {
  std::string t = "#!rmpsim-trace v1\n";
  for (int round = 0; round < 2; ++round)
    for (int p = 0; p < 100; ++p)  // line p % 64 of its page: a different L1D set each
      t += "0 R " + std::to_string(0x100000 + p * 0x1000 + (p % 64) * 64) + "\n";
  spit(tmp.file("w.rmpt"), t);
  const auto r = run_cli("run " + tmp.file("w.rmpt") +
                             " --warmup 100 --set mmu.l2.hit_cycles=20 --set "
                             "memory.l1d.hit_cycles=4 --quiet --out " +
                             tmp.file("o") + " " + model,
                         tmp);
  REQUIRE(r.status == 0);
  const Json j = Json::parse(slurp(tmp.file("o/stats.json")));
  REQUIRE(j["summary"]["tlb_l1_misses"] == 100);
  REQUIRE(j["summary"]["tlb_l2_hits"] == 100);
  return j["summary"]["cycles"];
}
}  // namespace

TEST_CASE("issue 17 item 3: blocking and window timings of 100 independent L2 TLB hits",
          "[core_model][cli]") {
  TempDir tmp;
  // Blocking: every access waits for its translation and its data: 100 x (20 + 4).
  CHECK(region_cycles(tmp, "") == 2400);
  CHECK(region_cycles(tmp, "--set cpu.core_model=blocking") == 2400);
  // Window of 24: each access holds a slot for 24 cycles and the core issues
  // one every 4 (an L1D hit), so at most 6 are outstanding and it never
  // fills: the last issues at 396 and completes at 420.
  CHECK(region_cycles(tmp, "--set cpu.core_model=window") == 420);
  // Window of 2: pairs of accesses 24 cycles apart (issued at 24k and
  // 24k+4); the last pair (k = 49) completes at 1176 + 4 + 24.
  CHECK(region_cycles(tmp, "--set cpu.core_model=window --set cpu.mlp_window=2") == 1204);
  // Window of 1: each access waits for the one before, as in the blocking
  // model: the last issues at 99 x 24 and completes 24 later.
  CHECK(region_cycles(tmp, "--set cpu.core_model=window --set cpu.mlp_window=1") == 2400);
}
