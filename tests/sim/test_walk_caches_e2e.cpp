// Issue 17 (walk caching), end to end: a nested page-walk cache hit costs
// walker.cache_hit_cycles like the other walk caches, and its counters reach
// stats.json.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/cli_runner.hpp"

using rmpsim::test::run_cli;
using rmpsim::test::slurp;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
using Json = nlohmann::json;

TEST_CASE("run: issue 17 nested page-walk cache hits are counted and charged", "[cli][run]") {
  TempDir tmp;
  // Two pages read twice each; with every TLB, the guest PWC and the nested
  // TLB off, every access walks and every nested walk after the first can
  // start below the nested root.
  spit(tmp.file("t.rmpt"),
       "#!rmpsim-trace v1\n0 R 0x1000 8\n0 R 0x2000 8\n0 R 0x1000 8\n0 R 0x2000 8\n");
  // Every memory latency 0: the walk's cycles are its walk-cache hits alone.
  const std::string sets =
      " --set memory.l1d.hit_cycles=0 --set memory.l2.hit_cycles=0"
      " --set memory.l3.hit_cycles=0 --set memory.dram.latency_ns=0"
      " --set memory.dram.busy_ns=0 --set mmu.l1d.entries=0 --set mmu.l1i.entries=0"
      " --set mmu.l2.entries=0 --set walker.pwc.entries=0 --set walker.ntlb.entries=0"
      " --set walker.cache_hit_cycles=1000";
  auto run = [&](const std::string& out, const std::string& more) {
    const auto r = run_cli("run " + tmp.file("t.rmpt") + sets + more + " --out " + tmp.file(out),
                           tmp);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return Json::parse(slurp(tmp.file(out + "/stats.json")))["stats"]["system"]["cpu0"]["mmu"]
                                                                  ["walker"];
  };
  const Json on = run("on", "");
  const Json off = run("off", " --set walker.npwc.entries=0");
  CHECK(on["npwc_hits"].get<std::uint64_t>() > 0);
  CHECK(on["cycles"] == 1000 * on["npwc_hits"].get<std::uint64_t>());
  CHECK(off["npwc_hits"] == 0);
  CHECK(off["npwc_misses"] == 0);
  CHECK(off["cycles"] == 0);
  // The same walks, each nested walk that hit two levels shorter (the
  // default caches PML4 and PDP entries).
  CHECK(on["walks"] == off["walks"]);
  CHECK(off["nested_refs"].get<std::uint64_t>() - on["nested_refs"].get<std::uint64_t>() ==
        2 * on["npwc_hits"].get<std::uint64_t>());
}
