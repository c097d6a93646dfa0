// Issue 20 end to end through `rmpsim run` and `rmpsim compare`: a guest at
// VMPL 2 under a COCONUT-SVSM (docs/snp-semantics.md §3.4). Call counts are
// worked out from the trace and Linux's batching (one SVSM call per PSC
// descriptor; 510 entries a call), costs from the configured latencies.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

namespace {
const std::string kScenario = std::string(RMPSIM_SOURCE_DIR) + "/traces/scenarios/svsm-convert";
const std::string kSvsm = "--set guest.vmpl=2 --set guest.svsm=coconut ";
// Round figures: 1 GHz, so that ns are cycles.
const std::string kRound = "--set cpu.freq_ghz=1 --set hypervisor.exit_roundtrip_ns=1000 "
                           "--set guest.svsm_vmsa_switch_ns=300 ";
constexpr std::uint64_t kSwitch = 1000 + 300;  // one VMPL switch: exit + VMSA switch

std::uint64_t u(const Json& j, const char* k) { return j.at(k).get<std::uint64_t>(); }
}  // namespace

TEST_CASE("issue 20 item 5: svsm-convert costs more per page under the SVSM than at VMPL 0, "
          "by at least the modelled switches",
          "[e2e][svsm][issue20]") {
  TempDir tmp;
  const std::string trace = slurp(kScenario + "/trace.rmpt");
  const std::string config = "--config " + kScenario + "/config.json " + kRound;
  for (int entries : {16, 64}) {
    const std::string batch = "--set guest.psc_max_entries=" + std::to_string(entries) + " ";
    const Json svsm = run_ok(tmp, trace, config + batch);
    const Json vmpl0 =
        run_ok(tmp, trace, config + batch + "--set guest.vmpl=0 --set guest.svsm=none");
    const Json& a = svsm["stats"]["system"]["conversions"]["psc_ghcb"];
    const Json& b = vmpl0["stats"]["system"]["conversions"]["psc_ghcb"];
    REQUIRE(u(a, "pages") == 8192);  // 16 MiB there and back, 4K entries
    REQUIRE(u(b, "pages") == 8192);
    REQUIRE_FALSE(svsm["summary"]["guest_terminated"].get<bool>());
    // One call per descriptor, each way: 2 x 4096 / entries.
    const std::uint64_t calls = 2 * 4096 / entries;
    CHECK(u(svsm["summary"], "svsm_calls") == calls);
    CHECK(u(svsm["summary"], "svsm_entries") == 8192);
    CHECK_FALSE(vmpl0["summary"].contains("svsm_calls"));
    // A conversion's components add up to its latency: the SVSM's total
    // exceeds VMPL 0's by at least its two switches per call, which its
    // svsm component holds (with the SVSM's own work).
    auto total = [](const Json& t) {
      std::uint64_t sum = 0;
      for (const auto& c : t.at("cost")) sum += c.get<std::uint64_t>();
      return sum;
    };
    INFO("descriptor of " << entries << " entries: " << total(a) << " vs " << total(b));
    CHECK(total(a) >= total(b) + calls * 2 * kSwitch);
    CHECK(total(a) / 8192 > total(b) / 8192);
    CHECK(u(a["cost"], "svsm") >= calls * 2 * kSwitch);
    CHECK(u(a["cost"], "svsm") == u(svsm["summary"], "svsm_cycles"));
    CHECK(u(a["cost"], "pvalidate") == 0);  // no PVALIDATE of the guest's own
    CHECK_FALSE(b["cost"].contains("svsm"));
  }
}

TEST_CASE("issue 20 item 1: lazy acceptance at VMPL 2 runs to the end through the SVSM",
          "[e2e][svsm][issue20]") {
  // Two 2 MiB units accepted: each a 2M entry the SVSM refuses (the RMP is
  // 4K: 4K backing), then 510 + 2 4K entries: 3 calls, 513 entries a unit.
  TempDir tmp;
  const Json s = run_ok(tmp, kMagic + "0 R 0x40000000\n0 W 0x40200000\n0 R 0x40000040\n",
                        kSvsm + "--set guest.accept=lazy --set guest.demand_page_size=2m");
  CHECK_FALSE(s["summary"]["guest_terminated"].get<bool>());
  CHECK(u(s["summary"], "svsm_calls") == 2 * 3);
  CHECK(u(s["summary"], "svsm_entries") == 2 * 513);
  const Json& lazy = s["stats"]["system"]["conversions"]["lazy_accept"];
  CHECK(u(lazy, "count") == 2);
  CHECK(u(lazy["cost"], "svsm") == u(s["summary"], "svsm_cycles"));
}

TEST_CASE("issue 20 item 4: events, the report and compare show the SVSM's share",
          "[e2e][svsm][issue20]") {
  TempDir tmp;
  const std::string trace = kMagic +
                            "0 MAP 0x40000000 0x80000000 0x2000 private\n"
                            "0 R 0x40000000\n"
                            "0 CONVERT 0x40000000 0x2000 shared\n";
  spit(tmp.file("t.rmpt"), trace);
  auto r = run_cli("run " + tmp.file("t.rmpt") + " " + kSvsm + "--out " + tmp.file("out") +
                       " --events " + tmp.file("ev.jsonl"),
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("SVSM           1 calls, 2 entries"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("of which SVSM calls"));
  const std::string events = slurp(tmp.file("ev.jsonl"));
  CHECK_THAT(events, Catch::Matchers::Contains("\"type\": \"conversion\"") &&
                         Catch::Matchers::Contains("\"svsm\": "));
  r = run_cli("compare " + tmp.file("t.rmpt") + " --variant svsm:guest.vmpl=2,guest.svsm=coconut",
              tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("svsm_calls") &&
                        Catch::Matchers::Contains("conversion cost.svsm"));
}
