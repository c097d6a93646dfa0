// End-to-end: `rmpsim run` on small traces, checked against hand-computed
// counts (the trace below is simple enough to count by hand).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <sstream>

#include "support/cli_runner.hpp"

using rmpsim::test::run_cli;
using rmpsim::test::slurp;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
const char* kSmall =
    "#!rmpsim-trace v1\n"
    "# three accesses, one of which crosses a 4K page, and a compute delay\n"
    "0 R 0x1000 8\n"
    "0 W 0x1ffc 8\n"  // bytes 0x1ffc..0x2003: two pages -> two accesses
    "0 D 100\n"
    "0 X 0x400000\n";

Json read_json(const std::string& path) { return Json::parse(slurp(path)); }

// A CSV without quoted commas, as {first cell of the row: {column: cell}}.
std::map<std::string, std::map<std::string, std::string>> csv_table(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) rows.back().push_back(cell);
  }
  std::map<std::string, std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size() && c < rows[0].size(); ++c)
      out[rows[r][0]][rows[0][c]] = rows[r][c];
  return out;
}
}  // namespace

// With every translation latency set to 0, the cycles are the hand-countable
// costs: accesses, the D delay, and the faults of first touches.
const char* kZeroTranslation =
    " --set memory.l2.hit_cycles=0 --set memory.l3.hit_cycles=0 --set memory.dram.latency_ns=0 --set memory.dram.busy_ns=0"
    " --set walker.cache_hit_cycles=0 --set mmu.l2.hit_cycles=0";

TEST_CASE("run: summary counts accesses after page splitting and cycles", "[cli][run]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kSmall);
  auto r = run_cli("run " + tmp.file("t.rmpt") + kZeroTranslation + " --out " + tmp.file("out"),
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  Json s = read_json(tmp.file("out/stats.json"));
  CHECK(s["summary"]["accesses"] == 4);
  // Pages touched: GVA 0x1000, 0x2000 and 0x400000 -> 3 demand-mapping guest
  // #PFs. Guest page-table pages: the root, a PDPT, a PD, and two page tables
  // (0x1000/0x2000 share PD entry 0; 0x400000 uses PD entry 2) = 5; each, and
  // each of the 3 data frames, is first touched through a not-present NPT
  // entry: 8 #NPF.
  CHECK(s["summary"]["npf_not_present"] == 8);
  CHECK(s["stats"]["system"]["guest_os"]["demand_maps"] == 3);
  // Every one of those pages is private (demand mapping, no shared ranges),
  // so each fault-in also RMPUPDATEs the page to the guest: 8 RMPUPDATEs.
  CHECK(s["summary"]["rmpupdate"] == 8);
  // cycles = 4 accesses x 0 (each touches a new line: an L1D miss, served
  //          at 0 cycles by the levels below) + D 100
  //        + 3 x guest fault (1000 ns = 2700 cycles)
  //        + 8 x (exit 3860 ns = 10422 + NPT map 500 ns = 1350
  //               + RMPUPDATE 400 ns = 1080) = 111016.
  CHECK(s["summary"]["cycles"] == 0 + 100 + 3 * 2700 + 8 * (10422 + 1350 + 1080));
  CHECK(s["stats"]["system"]["cpu0"]["split_accesses"] == 1);
  CHECK(s["stats"]["system"]["cpu0"]["writes"] == 2);
  CHECK(s["rmpsim"]["trace"] == tmp.file("t.rmpt"));
  CHECK(r.out.find("cycles         111016 (") != std::string::npos);
  // The resolved config is written beside the stats, and stats.txt exists.
  CHECK(read_json(tmp.file("out/config.json"))["cpu"]["count"] == 1);
  CHECK(slurp(tmp.file("out/stats.txt")).find("system.cpu0.accesses") != std::string::npos);
}

TEST_CASE("run: every summary key of the output contract is present", "[cli][run]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kSmall);
  REQUIRE(run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out"), tmp).status == 0);
  Json s = read_json(tmp.file("out/stats.json"))["summary"];
  for (const char* k :
       {"accesses", "cycles", "tlb_l1_hits", "tlb_l1_misses", "tlb_l2_hits", "tlb_l2_misses",
        "walks", "walk_mem_refs", "npf_total", "npf_rmp", "npf_not_present", "vc_not_validated",
        "host_rmp_faults", "vmexits", "userspace_exits", "psc_requests", "psc_pages", "rmpupdate",
        "psmash", "pvalidate", "conversions", "conversion_latency_cycles", "guest_terminated",
        "termination_reason", "host_seconds", "accesses_per_host_second"}) {
    INFO(k);
    CHECK(s.contains(k));
  }
  for (const char* k : {"count", "mean", "p50", "p99", "max"})
    CHECK(s["conversion_latency_cycles"].contains(k));
}

TEST_CASE("run: same trace and config give identical stats but for host keys", "[cli][run]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"),
       std::string(kSmall) + "1 R 0x5000\n1 D 7\n0 M 0x1234 16\n1 W 0x9ff8 16\n");
  const std::string common = "run " + tmp.file("t.rmpt") + " --set cpu.count=2 --out ";
  REQUIRE(run_cli(common + tmp.file("a"), tmp).status == 0);
  REQUIRE(run_cli(common + tmp.file("b"), tmp).status == 0);
  Json a = read_json(tmp.file("a/stats.json")), b = read_json(tmp.file("b/stats.json"));
  for (auto* j : {&a, &b}) {
    (*j)["summary"].erase("host_seconds");
    (*j)["summary"].erase("accesses_per_host_second");
  }
  CHECK(a == b);
  // vCPU 0: 4 + M = 5 accesses; vCPU 1: R + W crossing a page = 3.
  CHECK(a["summary"]["accesses"] == 8);
  CHECK(a["stats"]["system"]["cpu1"]["accesses"] == 3);
}

TEST_CASE("config dump prints the resolved configuration", "[cli][config]") {
  TempDir tmp;
  auto r = run_cli("config dump --set cpu.count=3", tmp);
  REQUIRE(r.status == 0);
  Json j = Json::parse(r.out);
  CHECK(j["cpu"]["count"] == 3);
  CHECK(j["cpu"]["freq_ghz"] == 2.7);
}

TEST_CASE("docs/stats.md lists every stat the tree writes", "[cli][docs]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kSmall);
  REQUIRE(run_cli("run " + tmp.file("t.rmpt") + " --set cpu.count=2 --out " + tmp.file("out"),
                  tmp)
              .status == 0);
  const std::string doc = slurp(RMPSIM_SOURCE_DIR "/docs/stats.md");
  std::istringstream lines(slurp(tmp.file("out/stats.txt")));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("system.", 0) != 0) continue;
    std::string name = line.substr(0, line.find(' '));
    name = name.substr(0, name.find("::"));  // distribution fields share one entry
    for (const char* cpu : {"cpu0", "cpu1"})
      if (auto p = name.find(cpu); p != std::string::npos) name.replace(p, 4, "cpuN");
    INFO(name);
    CHECK(doc.find("`" + name + "`") != std::string::npos);
    ++checked;
  }
  CHECK(checked > 40);
}

TEST_CASE("run --expect: exit 0 on a match, 3 with a readable diff, tolerances", "[cli][expect]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kSmall);
  const std::string run = "run " + tmp.file("t.rmpt") + " --quiet --out " + tmp.file("out");
  REQUIRE(run_cli(run, tmp).status == 0);
  Json got = read_json(tmp.file("out/stats.json"))["summary"];
  const std::uint64_t cycles = got["cycles"];

  spit(tmp.file("same.json"), Json{{"summary", {{"accesses", 4}, {"cycles", cycles}}}}.dump());
  CHECK(run_cli(run + " --expect " + tmp.file("same.json"), tmp).status == 0);

  spit(tmp.file("diff.json"),
       Json{{"summary", {{"accesses", 5}, {"cycles", cycles}, {"conversions", 0}}}}.dump());
  auto r = run_cli(run + " --expect " + tmp.file("diff.json"), tmp);
  CHECK(r.status == 3);
  CHECK(r.err.find("accesses: expected 5, got 4 (-20.00%)") != std::string::npos);
  CHECK(r.err.find("cycles") == std::string::npos);  // only what differs is listed
  // The outputs are still written: a difference is a result, not a failure.
  CHECK(read_json(tmp.file("out/stats.json"))["summary"]["accesses"] == 4);

  spit(tmp.file("tol.json"),
       Json{{"summary", {{"cycles", cycles + 10}}}, {"tolerances", {{"cycles", {{"abs", 10}}}}}}
           .dump());
  CHECK(run_cli(run + " --expect " + tmp.file("tol.json"), tmp).status == 0);

  spit(tmp.file("bad.json"), "[1, 2]");
  r = run_cli(run + " --expect " + tmp.file("bad.json"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("bad.json") + ": error: ", 0) == 0);
}

TEST_CASE("compare: one column per policy, CSV and JSON forms, bad policy is exit 2",
          "[cli][compare]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), "#!rmpsim-trace v1\n"
                           "0 MAP 0x700000 0x98000000 0x1000 shared\n0 W 0x700000\n");
  auto r = run_cli("compare " + tmp.file("t.rmpt"), tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("exit-to-userspace") != std::string::npos);
  CHECK(r.out.find("auto-convert") != std::string::npos);
  CHECK(r.out.find("implicit conversion refused") != std::string::npos);  // terminate's reason

  r = run_cli("compare " + tmp.file("t.rmpt") + " --policies exit-to-userspace,auto-convert --csv",
              tmp);
  REQUIRE(r.status == 0);
  // One row per column (issue 18, item 4; docs/analysis.md), typed cells.
  CHECK(r.out.rfind("column,accesses,cycles,", 0) == 0);
  auto table = csv_table(r.out);
  REQUIRE(table.size() == 2);
  // One memory-fault exit to userspace under upstream KVM, none in-kernel.
  CHECK(table["exit-to-userspace"]["userspace_exits"] == "1");
  CHECK(table["auto-convert"]["userspace_exits"] == "0");
  CHECK(table["auto-convert"]["guest_terminated"] == "false");

  r = run_cli("compare " + tmp.file("t.rmpt") + " --policies terminate --json", tmp);
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["terminate"]["guest_terminated"] == true);

  // --variant columns: each variant under the given policy, after the base
  // column (issue 16, item 4).
  r = run_cli("compare " + tmp.file("t.rmpt") +
                  " --policies exit-to-userspace --csv --variant fast:userspace.exit_roundtrip_ns=0"
                  " --variant slow:userspace.exit_roundtrip_ns=60000",
              tmp);
  REQUIRE(r.status == 0);
  table = csv_table(r.out);
  CHECK(table.size() == 3);
  CHECK(table.count("exit-to-userspace") == 1);
  CHECK(table.count("fast") == 1);
  CHECK(table.count("slow") == 1);

  r = run_cli("compare " + tmp.file("t.rmpt") + " --policies sometimes", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("hypervisor.policy") != std::string::npos);
}

// Issue 16, item 3: a scenario runs from its directory, whether or not it has
// a trace.rmpt of its own; scenario.json names trace and config, relative to
// the directory. The oracle is the same run spelled out by hand.
TEST_CASE("run: a scenario directory runs its trace under its config", "[cli][run][scenario]") {
  TempDir tmp;
  fs::create_directories(tmp.file("scen/sub"));
  spit(tmp.file("scen/sub/t.rmpt"), kSmall);
  spit(tmp.file("scen/config.json"), R"({"hypervisor": {"exit_roundtrip_ns": 1000}})");
  spit(tmp.file("scen/scenario.json"), R"({"about": "x", "config": "config.json",
                                           "trace": "sub/t.rmpt"})");
  auto by_dir = run_cli("run " + tmp.file("scen") + " --quiet --out " + tmp.file("a"), tmp);
  INFO(by_dir.err);
  REQUIRE(by_dir.status == 0);
  auto by_hand = run_cli("run " + tmp.file("scen/sub/t.rmpt") + " --config " +
                             tmp.file("scen/config.json") + " --quiet --out " + tmp.file("b"),
                         tmp);
  REQUIRE(by_hand.status == 0);
  Json a = read_json(tmp.file("a/stats.json")), b = read_json(tmp.file("b/stats.json"));
  CHECK(a["rmpsim"]["trace"] == tmp.file("scen/sub/t.rmpt"));
  CHECK(a["rmpsim"]["config_hash"] == b["rmpsim"]["config_hash"]);
  // The scenario's config applied (not the default 3860 ns round trip).
  CHECK(read_json(tmp.file("a/config.json"))["hypervisor"]["exit_roundtrip_ns"] == 1000.0);
  for (const char* key : {"accesses", "cycles", "npf_total", "rmpupdate"})
    CHECK(a["summary"][key] == b["summary"][key]);

  // --set still applies on top of the scenario's config.
  auto with_set = run_cli("run " + tmp.file("scen") +
                              " --set hypervisor.exit_roundtrip_ns=2000 --quiet --out " +
                              tmp.file("c"),
                          tmp);
  REQUIRE(with_set.status == 0);
  CHECK(read_json(tmp.file("c/config.json"))["hypervisor"]["exit_roundtrip_ns"] == 2000.0);
}

TEST_CASE("run: a bundled scenario without trace.rmpt runs from its directory",
          "[cli][run][scenario]") {
  // boot-eager replays the bundled gzip trace: its expected summary is the
  // oracle the scenario:boot-eager ctest also uses.
  TempDir tmp;
  auto r = run_cli(std::string("run ") + RMPSIM_SOURCE_DIR + "/traces/scenarios/boot-eager --out " +
                       tmp.file("out") + " --expect " + RMPSIM_SOURCE_DIR +
                       "/tests/expected/boot-eager.json",
                   tmp);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("traces/samples/gzip-services.rmpt.zst") != std::string::npos);
  CHECK(r.out.find("ran to the end of the trace") != std::string::npos);
}

TEST_CASE("run: a directory that is not a scenario, or one with --config, is an input error",
          "[cli][run][scenario][errors]") {
  TempDir tmp;
  fs::create_directories(tmp.file("empty"));
  auto r = run_cli("run " + tmp.file("empty") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("empty") +
                        ": error: expected a trace file or a scenario directory (with a "
                        "scenario.json), got a directory without scenario.json",
                    0) == 0);
  CHECK(!fs::exists(tmp.file("out")));

  fs::create_directories(tmp.file("bad"));
  spit(tmp.file("bad/scenario.json"), R"({"config": "config.json"})");
  r = run_cli("run " + tmp.file("bad") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("bad/scenario.json") + ": error: expected \"trace\"", 0) == 0);

  r = run_cli(std::string("run ") + RMPSIM_SOURCE_DIR + "/traces/scenarios/implicit-only" +
                  " --config x.json --out " + tmp.file("out"),
              tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("--config with a scenario directory") != std::string::npos);
  CHECK(!fs::exists(tmp.file("out")));
}
