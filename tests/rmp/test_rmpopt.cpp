// Issue 19 item 3: the RMPOPT table and instruction (models/rmp/rmpopt.hpp),
// driven by RMPUPDATE as a hypervisor drives it.
#include <catch2/catch.hpp>

#include "models/rmp/rmpopt.hpp"
#include "rmp_fixture.hpp"

using namespace rmpsim;
using rmpsim::test::assign;

namespace {
constexpr std::uint64_t kGiB = 1ull << 30;

rmp::RmpoptParams params(unsigned cpus) {
  rmp::RmpoptParams p;
  p.enabled = true;
  p.instruction_cycles = 10;
  p.rescan_delay_cycles = 1000;
  p.ram_regions = 16;  // 16 GiB of RAM
  p.cpus = cpus;
  return p;
}
}  // namespace

TEST_CASE("issue 19 item 3: RMPOPT verify-and-set and report, per CPU", "[rmpopt]") {
  rmp::RmpTable t;
  rmp::Rmpopt opt(t, params(2));
  assign(t, 3 * kGiB + 0x5000, 0x1000, false);  // a guest page in region 3
  // Nothing set before software runs RMPOPT.
  CHECK_FALSE(opt.report(0, 2 * kGiB));
  CHECK(opt.verify_and_set(0, 2 * kGiB + 0x1234) == rmp::RmpoptResult::Optimized);
  CHECK(opt.report(0, 2 * kGiB + 0x3fffffff));  // the whole 1 GiB region
  CHECK_FALSE(opt.report(1, 2 * kGiB));         // another CPU's table
  CHECK_FALSE(opt.report(0, 1 * kGiB));         // another region
  // A region holding an assigned page is not optimised.
  CHECK(opt.verify_and_set(0, 3 * kGiB) == rmp::RmpoptResult::NotOptimized);
  CHECK_FALSE(opt.report(0, 3 * kGiB));
  // Beyond RAM (rmp.rmpopt_ram_gib) there is no bit.
  CHECK(opt.verify_and_set(0, 16 * kGiB) == rmp::RmpoptResult::NotOptimized);
  CHECK_FALSE(opt.report(0, 16 * kGiB));
  CHECK(opt.counters().instructions == 3);
  CHECK(opt.counters().optimized == 1);
  CHECK(opt.counters().scan_cycles == 30);
}

TEST_CASE("issue 19 item 3: RMPUPDATE to assigned clears the region's bit on every CPU",
          "[rmpopt]") {
  rmp::RmpTable t;
  rmp::Rmpopt opt(t, params(3));
  opt.snp_init();
  for (unsigned cpu = 0; cpu < 3; ++cpu) CHECK(opt.report(cpu, 5 * kGiB));
  CHECK(opt.counters().scans == 1);
  CHECK(opt.counters().instructions == 3 * 16);
  assign(t, 5 * kGiB + 0x200000, 0x2000, true);
  for (unsigned cpu = 0; cpu < 3; ++cpu) {
    CHECK_FALSE(opt.report(cpu, 5 * kGiB));
    CHECK(opt.report(cpu, 4 * kGiB));  // the neighbours keep theirs
  }
  CHECK(opt.counters().bits_cleared == 3);
  // Returning the page does not set the bit again: only RMPOPT does.
  rmp::RmpState hv;  // hypervisor-owned
  REQUIRE(rmp::rmpupdate(t, 5 * kGiB + 0x200000, hv) == rmp::kSuccess);
  CHECK_FALSE(opt.report(0, 5 * kGiB));
  // The delayed re-scan runs once its time has come, the delay counted
  // from the last request.
  opt.request_rescan(100);
  opt.request_rescan(500);
  opt.run_due(1400);
  CHECK_FALSE(opt.report(0, 5 * kGiB));
  opt.run_due(1500);
  CHECK(opt.report(0, 5 * kGiB));
  CHECK(opt.counters().scans == 2);
  CHECK(opt.counters().rescan_requests == 2);
  opt.run_due(5000);  // one pass per request batch
  CHECK(opt.counters().scans == 2);
}

TEST_CASE("issue 19 item 3: RMPOPT off is inert", "[rmpopt]") {
  rmp::RmpTable t;
  rmp::RmpoptParams p = params(1);
  p.enabled = false;
  rmp::Rmpopt opt(t, p);
  opt.snp_init();
  opt.scan_now();
  opt.request_rescan(0);
  opt.run_due(1u << 30);
  CHECK_FALSE(opt.report(0, 0));
  CHECK(opt.counters().scans == 0);
  assign(t, 0x5000, 0x1000, false);  // no observer attached: nothing to clear
  CHECK(opt.counters().bits_cleared == 0);
}
