// Issue 17, item 4: warm-up (run --warmup N, sim.warmup_accesses) and the
// measured region (ROI begin/end lines). The measured figures are counted
// by hand from the traces below, not read off a reference run.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "models/common/stats.hpp"
#include "support/cli_runner.hpp"

using rmpsim::test::run_cli;
using rmpsim::test::slurp;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
using Json = nlohmann::json;

namespace {

// Warm-up: three first touches (demand maps, #NPF exits, walks). Measured:
// four reads of the lines the warm-up touched, all L1 DTLB and L1D hits.
const char* kWarm =
    "0 R 0x1000\n"
    "0 R 0x2000\n"
    "0 W 0x3000\n";
const char* kMeasured =
    "0 R 0x1000\n"
    "0 R 0x2008\n"
    "0 R 0x3010 4\n"
    "0 R 0x1038\n";

Json run_json(const TempDir& tmp, const std::string& trace, const std::string& args) {
  const auto r = run_cli("run " + tmp.file(trace) + " --quiet --out " + tmp.file("out") + args,
                         tmp);
  REQUIRE(r.status == 0);
  return Json::parse(slurp(tmp.file("out/stats.json")));
}

// The region's figures, counted by hand: 4 reads, each an L1 DTLB hit and an
// L1D hit that costs memory.l1d.hit_cycles (4) and nothing else.
void check_measured_only(const Json& j) {
  const Json& s = j["summary"];
  CHECK(s["accesses"] == 4);
  CHECK(s["cycles"] == 4 * 4);
  CHECK(s["tlb_l1_hits"] == 4);
  CHECK(s["tlb_l1_misses"] == 0);
  CHECK(s["walks"] == 0);
  CHECK(s["npf_total"] == 0);
  CHECK(s["vmexits"] == 0);
  CHECK(s["rmpupdate"] == 0);
  const Json& cpu = j["stats"]["system"]["cpu0"];
  CHECK(cpu["reads"] == 4);
  CHECK(cpu["writes"] == 0);
  CHECK(cpu["translate_cycles"] == 0);
  CHECK(cpu["fault_cycles"] == 0);
  CHECK(j["stats"]["system"]["hypervisor"]["npf"] == 0);
  CHECK(j["stats"]["system"]["guest_os"]["demand_maps"] == 0);
  // Model state is kept: the frames the warm-up mapped are still there.
  CHECK(j["stats"]["system"]["hypervisor"]["private_frames"].get<std::uint64_t>() > 0);
}

}  // namespace

TEST_CASE("issue 17 item 4: warm-up accesses are not counted", "[region][cli]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), std::string("#!rmpsim-trace v1\n") + kWarm + kMeasured);
  const Json whole = run_json(tmp, "t.rmpt", "");
  // Without a region nothing changes: the warm-up's walks and faults count.
  CHECK(whole["summary"]["accesses"] == 7);
  CHECK(whole["summary"]["walks"].get<std::uint64_t>() >= 3);
  CHECK_FALSE(whole["summary"].contains("warmup_accesses"));
  CHECK_FALSE(whole["stats"]["system"].contains("region"));

  const Json warm = run_json(tmp, "t.rmpt", " --warmup 3");
  check_measured_only(warm);
  const Json& region = warm["stats"]["system"]["region"];
  CHECK(region["warmup_accesses"] == 3);
  CHECK(region["begin_line"] == 4);  // the last warm-up access line
  CHECK(region["end_line"] == 0);
  CHECK(warm["summary"]["warmup_accesses"] == 3);
  // The region starts where the whole run had spent all but the measured 16 cycles.
  const std::uint64_t start = region["start_cycle"];
  CHECK(start == whole["summary"]["cycles"].get<std::uint64_t>() - 16);
  CHECK(warm["summary"]["region_start_cycle"] == start);

  // The same with --set, and through compare's pass-through below.
  const Json set = run_json(tmp, "t.rmpt", " --set sim.warmup_accesses=3");
  CHECK(set["summary"]["cycles"] == warm["summary"]["cycles"]);
}

TEST_CASE("issue 17 item 6: accesses_per_host_second covers the measured region only",
          "[region][cli]") {
  // A warm-up that costs host time (16384 first touches: guest #PF, #NPF
  // exits) and a few hundred measured loads of pages it faulted in: the
  // rate is the region's accesses over the region's host time, so it is
  // well above the region's accesses over the whole run's host time.
  TempDir tmp;
  REQUIRE(run_cli("trace gen " + tmp.file("c.rmpb") +
                      " --pattern chase --footprint 67108864 --accesses 500",
                  tmp)
              .status == 0);
  const Json j = run_json(tmp, "c.rmpb", " --warmup 16384");
  const Json& s = j["summary"];
  REQUIRE(s["accesses"] == 500);
  REQUIRE(s["warmup_accesses"] == 16384);
  const double whole_run_rate = 500 / s["host_seconds"].get<double>();
  CHECK(s["accesses_per_host_second"].get<double>() > 2 * whole_run_rate);
}

TEST_CASE("issue 17 item 4: ROI lines begin and end the measured region", "[region][cli]") {
  TempDir tmp;
  // After ROI end nothing more runs: the new page's walk is never made.
  spit(tmp.file("t.rmpt"), std::string("#!rmpsim-trace v1\n") + kWarm + "0 ROI begin\n" +
                               kMeasured + "0 ROI end\n0 R 0x9000\n");
  const Json j = run_json(tmp, "t.rmpt", "");
  check_measured_only(j);
  const Json& region = j["stats"]["system"]["region"];
  CHECK(region["begin_line"] == 5);
  CHECK(region["end_line"] == 10);
  CHECK(region["end_cycle"].get<std::uint64_t>() ==
        region["start_cycle"].get<std::uint64_t>() + 16);

  // An unclosed region runs to the end of the trace.
  spit(tmp.file("u.rmpt"), std::string("#!rmpsim-trace v1\n") + kWarm + "0 ROI begin\n" +
                               kMeasured);
  check_measured_only(run_json(tmp, "u.rmpt", ""));
}

TEST_CASE("issue 17 item 4: region errors are file:line, exit 2, nothing written",
          "[region][cli]") {
  TempDir tmp;
  spit(tmp.file("two.rmpt"),
       "#!rmpsim-trace v1\n0 ROI begin\n0 R 0x1000\n0 ROI begin\n0 R 0x1000\n");
  auto r = run_cli("run " + tmp.file("two.rmpt") + " --quiet --out " + tmp.file("o1"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("two.rmpt:4: error: second ROI begin (the region began at line 2)") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.file("o1/stats.json")));

  spit(tmp.file("m.rmpt"), "#!rmpsim-trace v1\n0 R 0x1000\n0 ROI begin\n0 R 0x1000\n");
  r = run_cli("run " + tmp.file("m.rmpt") + " --warmup 1 --quiet --out " + tmp.file("o2"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("m.rmpt:3: error: ROI begin in a run with a warm-up of 1 accesses") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.file("o2/stats.json")));

  spit(tmp.file("few.rmpt"), "#!rmpsim-trace v1\n0 R 0x1000\n0 D 10\n0 R 0x1000\n");
  r = run_cli("run " + tmp.file("few.rmpt") + " --warmup 5 --quiet --out " + tmp.file("o3"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("expected at least 5 access lines") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.file("o3/stats.json")));

  spit(tmp.file("bad.rmpt"), "#!rmpsim-trace v1\n0 ROI start\n");
  r = run_cli("run " + tmp.file("bad.rmpt") + " --quiet --out " + tmp.file("o4"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("bad.rmpt:2: error: expected begin or end, got 'start'") != std::string::npos);
}

TEST_CASE("issue 17 item 4: compare passes --warmup through", "[region][cli]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), std::string("#!rmpsim-trace v1\n") + kWarm + kMeasured);
  const auto r = run_cli("compare " + tmp.file("t.rmpt") + " --warmup 3 --json", tmp);
  REQUIRE(r.status == 0);
  const Json j = Json::parse(r.out);
  INFO(r.out);
  std::size_t columns = 0;
  for (const auto& col : j) {  // every policy's run measured only the 4 reads
    CHECK(col["accesses"] == 4);
    ++columns;
  }
  CHECK(columns == 3);
}

TEST_CASE("issue 17 item 4: Group::reset zeroes counters and distributions, keeps formulas",
          "[region][stats]") {
  using rmpsim::stats::Group;
  Group root("system"), child("cpu0");
  std::uint64_t a = 5, b = 7, state = 9;
  rmpsim::stats::Distribution d;
  d.sample(3);
  root.add_counter("a", &a, "");
  child.add_counter("b", &b, "");
  child.add_distribution("d", &d, "");
  child.add_formula("state", [&] { return rmpsim::stats::Value(state); }, "");
  bool hook = false;
  child.on_reset([&] { hook = b == 0; });  // after the counters were zeroed
  root.add_child(child);
  root.reset();
  CHECK(a == 0);
  CHECK(b == 0);
  CHECK(d.count() == 0);
  CHECK(state == 9);
  CHECK(hook);
  d.sample(4);
  CHECK(d.percentile(50) == 4);
}

TEST_CASE("issue 17 item 4: --events marks the region's begin and end", "[region][cli]") {
  // The warm-up's events (its #NPF exits) stay in the file; the region event
  // is what tells them from the region's.
  TempDir tmp;
  spit(tmp.file("t.rmpt"), std::string("#!rmpsim-trace v1\n") + kWarm + "0 ROI begin\n" +
                               kMeasured + "0 ROI end\n0 R 0x5000\n");
  const auto r = run_cli("run " + tmp.file("t.rmpt") + " --quiet --out " + tmp.file("out") +
                             " --events " + tmp.file("ev.jsonl"),
                         tmp);
  REQUIRE(r.status == 0);
  std::vector<Json> regions;
  std::uint64_t npf_before_begin = 0, last_npf_cycle = 0;
  std::istringstream lines(slurp(tmp.file("ev.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    const Json e = Json::parse(line);
    if (e["type"] == "region") regions.push_back(e);
    if (e["type"] == "npf") {
      if (regions.empty()) ++npf_before_begin;
      last_npf_cycle = e["cycle"];
    }
  }
  REQUIRE(regions.size() == 2);
  CHECK(regions[0]["edge"] == "begin");
  CHECK(regions[0]["vcpu"] == 0);
  CHECK(regions[0]["line"] == 5);  // the ROI begin line
  CHECK(regions[0]["warmup_accesses"] == 3);
  CHECK(regions[1]["edge"] == "end");
  CHECK(regions[1]["line"] == 10);
  CHECK_FALSE(regions[1].contains("warmup_accesses"));
  // The warm-up's first touches faulted, before the begin; the region's
  // reads of the same lines did not.
  CHECK(npf_before_begin >= 3);
  CHECK(last_npf_cycle < regions[0]["cycle"].get<std::uint64_t>());
  // The region's end is 16 cycles (four L1D hits) after its begin.
  CHECK(regions[1]["cycle"].get<std::uint64_t>() - regions[0]["cycle"].get<std::uint64_t>() ==
        16);
}
