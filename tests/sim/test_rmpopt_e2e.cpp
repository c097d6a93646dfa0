// Issue 19 end to end through `rmpsim run`: host traffic (HMEM lines), the
// cost of the host's RMP check, RMPOPT and Linux's policy for it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

namespace {

const Json& traffic(const Json& s) { return s["stats"]["system"]["host_traffic"]; }
const Json& rmpopt(const Json& s) { return s["stats"]["system"]["rmpopt"]; }

// The guest's private frames are allocated from 4 GiB up (docs/models.md):
// a guest MAP + write assigns pages in the 1 GiB region 4. 0x100100000 lies
// in that region, on a page no guest uses; 0x200000000 is region 8.
const std::string kGuestInRegion4 = "0 MAP 0x400000 0x100000 0x4000\n0 W 0x400000\n";

}  // namespace

TEST_CASE("issue 19 item 1: runs without HMEM lines or RMPOPT keep their stats tree",
          "[e2e][rmpopt]") {
  TempDir tmp;
  Json s = run_ok(tmp, kMagic + kGuestInRegion4, "");
  CHECK_FALSE(s["stats"]["system"].contains("host_traffic"));
  CHECK_FALSE(s["stats"]["system"].contains("rmpopt"));
}

TEST_CASE("issue 19 item 2: each checked host write reads its RMP entry through the memory "
          "hierarchy",
          "[e2e][rmpopt]") {
  TempDir tmp;
  // Two writes to one page, a read, a write of two pages: reads are not
  // checked (§1.7), every write page is.
  Json s = run_ok(tmp,
                  kMagic + "1 HMEM W 0x200000000 8\n1 HMEM W 0x200000040 8\n"
                           "1 HMEM R 0x200002000 8\n1 HMEM W 0x200003ff8 16\n",
                  "--set cpu.count=2");
  const Json& t = traffic(s);
  CHECK(t["writes"] == 4);
  CHECK(t["reads"] == 1);
  CHECK(t["rmp_checks"] == 4);
  CHECK(t["checks_skipped"] == 0);
  CHECK(t["rmp_faults"] == 0);
  // The first check misses to DRAM; the second reads the same RMP line
  // from the cache: the cost depends on where the RMP line is.
  const std::uint64_t check_cycles = t["rmp_check_cycles"];
  CHECK(check_cycles > 4 * 14);
  // The checks' time is the host CPU's: without them it would be shorter.
  Json reads = run_ok(tmp,
                      kMagic + "1 HMEM R 0x200000000 8\n1 HMEM R 0x200000040 8\n"
                               "1 HMEM R 0x200002000 8\n1 HMEM R 0x200003ff8 16\n",
                      "--set cpu.count=2");
  const std::uint64_t with = s["stats"]["system"]["cpu1"]["cycles"];
  const std::uint64_t without = reads["stats"]["system"]["cpu1"]["cycles"];
  CHECK(with == without + check_cycles);
}

TEST_CASE("issue 19 item 2: a host write next to guest pages faults only through a 2M mapping",
          "[e2e][rmpopt]") {
  TempDir tmp;
  // 0x100100000 is in the guest's 2 MiB region (frames from 0x100000000),
  // but not a guest page.
  const std::string trace = kMagic + kGuestInRegion4 + "0 HMEM W 0x100100000 8\n";
  Json s4 = run_ok(tmp, trace, "--set host.on_rmp_pf=continue");
  CHECK(traffic(s4)["rmp_faults"] == 0);
  Json s2 = run_ok(tmp, trace, "--set host.on_rmp_pf=continue --set host.direct_map_page_size=2m");
  CHECK(traffic(s2)["rmp_faults"] == 1);
  CHECK(s2["summary"]["guest_terminated"] == false);
  // A write to an assigned page faults with any mapping, and Linux oopses.
  Json sp = run_ok(tmp, kMagic + kGuestInRegion4 + "0 HMEM W 0x100000000 8\n0 R 0x400000\n", "");
  CHECK(traffic(sp)["rmp_faults"] == 1);
  CHECK(sp["summary"]["host_rmp_faults"] == 1);
  CHECK(sp["summary"]["guest_terminated"] == true);
  CHECK(sp["summary"]["termination_reason"].get<std::string>().find(
            "host write to its own memory at SPA 0x100000000 refused by the RMP: fatal") !=
        std::string::npos);
}

TEST_CASE("issue 19 item 3: with RMPOPT, host writes to a 1 GiB region without guest memory "
          "are not checked, and are checked again after an RMPUPDATE assigns a page there",
          "[e2e][rmpopt]") {
  TempDir tmp;
  const std::string trace = kMagic +
                            "1 HMEM W 0x100100000 8\n"  // region 4, optimised at SNP init
                            "1 HMEM W 0x200000000 8\n"  // region 8
                            "0 D 100000\n" + kGuestInRegion4 +  // RMPUPDATEs in region 4
                            "1 D 200000\n"
                            "1 HMEM W 0x100100000 8\n"  // checked again
                            "1 HMEM W 0x200000000 8\n";  // still skipped
  Json on = run_ok(tmp, trace, "--set cpu.count=2 --set rmp.rmpopt=true");
  CHECK(traffic(on)["writes"] == 4);
  CHECK(traffic(on)["checks_skipped"] == 3);
  CHECK(traffic(on)["rmp_checks"] == 1);
  CHECK(traffic(on)["rmp_faults"] == 0);
  // SNP init: one pass over 8192 GiB of RAM on each of the 2 CPUs.
  CHECK(rmpopt(on)["scans"] == 1);
  CHECK(rmpopt(on)["instructions"] == 2 * 8192);
  CHECK(rmpopt(on)["optimized"] == 2 * 8192);
  // The first assignment in region 4 cleared its bit on both CPUs.
  CHECK(rmpopt(on)["bits_cleared"] == 2);
  // RMPOPT off: every write is checked.
  Json off = run_ok(tmp, trace, "--set cpu.count=2");
  CHECK(traffic(off)["rmp_checks"] == 4);
  CHECK(traffic(off)["checks_skipped"] == 0);
  CHECK_FALSE(off["stats"]["system"].contains("rmpopt"));
}

TEST_CASE("issue 19 item 3: a re-scan after a guest teardown sets the bit again, after the delay",
          "[e2e][rmpopt]") {
  TempDir tmp;
  // 1 GiB guest_memfd folios: the guest's page tables (GPA 0xf000000000)
  // fill region 4, its 2 MiB of data (GPA 0x80000000) region 5 from
  // 0x140000000. The guest gives the data back -- a 2M-aligned CONVERT to
  // shared returns the whole 2M entry to the hypervisor, as a teardown's
  // guest_memfd invalidation does -- and the teardown asks for a re-scan.
  // 0x150000000 is a host page in region 5. At 2.7 GHz the 0.01 ms delay is
  // 27,000 cycles.
  const std::string opts = "--set rmp.rmpopt=true --set rmp.rmpopt_rescan_delay_ms=0.01 "
                           "--set hypervisor.backing_page_size=1g";
  const std::string guest = kMagic + "0 MAP 0x40000000 0x80000000 0x200000\n0 W 0x40000000\n"
                                     "0 CONVERT 0x40000000 0x200000 shared\n";
  Json s = run_ok(tmp,
                  guest + "0 RMPOPT rescan\n"
                          "0 HMEM W 0x150000000 8\n"  // before the delay: checked
                          "0 D 30000\n"
                          "0 HMEM W 0x150000000 8\n",  // after it: skipped
                  opts);
  CHECK(rmpopt(s)["rescan_requests"] == 1);
  CHECK(rmpopt(s)["scans"] == 2);  // SNP init and the re-scan
  CHECK(traffic(s)["rmp_checks"] == 1);
  CHECK(traffic(s)["checks_skipped"] == 1);
  SECTION("without a request the bit stays clear") {
    Json n = run_ok(tmp, guest + "0 D 30000\n0 HMEM W 0x150000000 8\n", opts);
    CHECK(rmpopt(n)["scans"] == 1);
    CHECK(traffic(n)["rmp_checks"] == 1);
    CHECK(traffic(n)["checks_skipped"] == 0);
  }
  SECTION("a later request moves the pass (Linux re-arms the delayed work)") {
    Json m = run_ok(tmp,
                    guest + "0 RMPOPT rescan\n0 D 20000\n0 RMPOPT rescan\n0 D 20000\n"
                            "0 HMEM W 0x150000000 8\n0 D 10000\n0 HMEM W 0x150000000 8\n",
                    opts);
    CHECK(rmpopt(m)["rescan_requests"] == 2);
    CHECK(rmpopt(m)["scans"] == 2);
    CHECK(traffic(m)["rmp_checks"] == 1);
    CHECK(traffic(m)["checks_skipped"] == 1);
  }
  SECTION("on demand: RMPOPT now passes at once") {
    Json n = run_ok(tmp, guest + "0 RMPOPT now\n0 HMEM W 0x150000000 8\n", opts);
    CHECK(rmpopt(n)["scans"] == 2);
    CHECK(traffic(n)["checks_skipped"] == 1);
  }
  SECTION("a region that still holds guest pages stays checked") {
    Json g = run_ok(tmp, guest + "0 RMPOPT now\n0 HMEM W 0x100100000 8\n", opts);
    CHECK(traffic(g)["rmp_checks"] == 1);
    CHECK(traffic(g)["checks_skipped"] == 0);
  }
  SECTION("RMPOPT lines do nothing with rmp.rmpopt off") {
    Json off = run_ok(tmp, guest + "0 RMPOPT now\n0 HMEM W 0x150000000 8\n",
                      "--set hypervisor.backing_page_size=1g");
    CHECK(traffic(off)["rmp_checks"] == 1);
    CHECK_FALSE(off["stats"]["system"].contains("rmpopt"));
  }
}

TEST_CASE("issue 19 item 1: an HMEM line into the RMP table is refused with its line",
          "[e2e][rmpopt]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kMagic + "0 HMEM W 0x700000004000 8\n");
  CliResult r = run_cli("run " + tmp.file("t.rmpt") + " --quiet --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK_FALSE(std::filesystem::exists(tmp.file("out/stats.json")));  // nothing half-written
  CHECK(r.err.find(":2: error: expected HMEM <spa> range [0x700000004000, 0x700000004007] "
                   "below the RMP table at 0x700000000000") != std::string::npos);
}
