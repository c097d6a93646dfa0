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

TEST_CASE("issue 19 item 3: a pass sets exactly what verify-and-set of every region would",
          "[rmpopt]") {
  rmp::RmpTable t;
  rmp::Rmpopt pass(t, params(2));
  assign(t, 3 * kGiB, 0x1000, false);
  assign(t, 15 * kGiB + 0x3ff000, 0x2000, true);  // the last region of RAM
  assign(t, 20 * kGiB, 0x3000, false);            // beyond RAM
  pass.scan_now();
  rmp::RmpTable t2;
  rmp::Rmpopt one_by_one(t2, params(2));
  assign(t2, 3 * kGiB, 0x1000, false);
  assign(t2, 15 * kGiB + 0x3ff000, 0x2000, true);
  assign(t2, 20 * kGiB, 0x3000, false);
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    for (std::uint64_t r = 0; r < 24; ++r) one_by_one.verify_and_set(cpu, r * kGiB);
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    for (std::uint64_t r = 0; r < 24; ++r) {
      INFO("cpu " << cpu << " region " << r);
      CHECK(pass.report(cpu, r * kGiB) == one_by_one.report(cpu, r * kGiB));
      CHECK(pass.report(cpu, r * kGiB) == (r < 16 && r != 3 && r != 15));
    }
  CHECK(pass.counters().instructions == 2 * 16);
  CHECK(pass.counters().optimized == 2 * 14);
  CHECK(one_by_one.counters().optimized == 2 * 14);
  CHECK(pass.counters().scan_cycles == 2 * 16 * 10);
}
