// The guest kernel's SNP behaviour (models/guest/guest_kernel.*), driven
// through a fake CpuPort (kernel_world.hpp): the expectations come from the
// Linux guest's rules in snp-semantics §3.1, §3.3, §4.7 and §6 rows 3, 8-9,
// not from the simulator's numbers.
#include <catch2/catch.hpp>

#include "guest/kernel_world.hpp"

namespace rmpsim::test {
namespace {

using Catch::Matchers::Contains;
using namespace kernel_world;

TEST_CASE("guest kernel: a 2M PVALIDATE over 4K RMP entries is redone as 512 x 4K",
          "[guest]") {
  // §6 row 9: FAIL_SIZEMISMATCH, no fault; the guest retries 512 x 4K (§3.3).
  World w({{"guest.demand_page_size", "2m"}});
  const std::uint64_t gva = 0x4000'0000;
  const std::uint64_t gpa = w.map(gva);
  REQUIRE(gpa % 0x200000 == 0);
  for (std::uint64_t p = 0; p < 512; ++p) w.assign(gpa + (p << 12));  // 4K entries

  w.kernel.pvalidate(gva, PageSize::k2M, true);

  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().pvalidate_fallbacks == 1);
  CHECK(w.kernel.counters().pvalidate == 1 + 512);
  REQUIRE(w.cpu.operands.size() == 1 + 512);
  CHECK(w.cpu.operands[0] == gva);
  for (std::uint64_t p = 0; p < 512; ++p) {
    CHECK(w.cpu.operands[1 + p] == gva + (p << 12));  // each 4K page once, in order
    CHECK(w.entry(gpa + (p << 12)).validated);
  }
}

TEST_CASE("guest kernel: PVALIDATE with CF=1 terminates the guest as Linux does", "[guest]") {
  // §6 row 8: validating a validated page returns SUCCESS with CF = 1 and
  // changes nothing; Linux terminates (reason set 1, code 2).
  World w;
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().pvalidate_cf == 0);

  w.kernel.pvalidate(gva, PageSize::k4K, true);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("CF=1") && Contains("reason set 1, code 2"));
  CHECK(w.kernel.counters().pvalidate_cf == 1);
}

TEST_CASE("guest kernel: rescinding a page that is not validated terminates too", "[guest]") {
  World w;  // §6 row 8, the rescind case
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, false);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("rescind") && Contains("reason set 1, code 2"));
  CHECK(w.cpu.invalidated.empty());
}

TEST_CASE("guest kernel: a rescind is followed by a broadcast invalidation", "[guest]") {
  // §1.8, §2.3: the TLBs keep RMP results; a page the guest gave up must not
  // stay usable anywhere.
  World w;
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  CHECK(w.cpu.invalidated.empty());  // validating lowers nothing
  w.kernel.pvalidate(gva, PageSize::k4K, false);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.cpu.invalidated == std::vector<std::uint64_t>{gva});
}

TEST_CASE("guest kernel: CONVERT to shared rescinds before the PSC, to private validates after",
          "[guest]") {
  // §3.3: private -> shared: (1) PVALIDATE rescind, (2) PSC op 2;
  //       shared -> private: (1) PSC op 1, (2) PVALIDATE validate.
  World w;
  const std::uint64_t gva = 0x6000'0000;
  const std::uint64_t gpa = w.map_validated(gva);

  w.kernel.convert(gva, 0x1000, /*to_private=*/false);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.cpu.calls == std::vector<std::string>{"operand", "invalidate", "psc shared"});
  CHECK_FALSE(w.entry(gpa).assigned);
  CHECK((w.os.lookup(gva)->pte & paging::kCbit) == 0);  // the PTE says shared after

  w.cpu.calls.clear();
  w.kernel.convert(gva, 0x1000, /*to_private=*/true);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.cpu.calls == std::vector<std::string>{"psc private", "operand"});
  CHECK(w.entry(gpa).assigned);
  CHECK(w.entry(gpa).validated);
  CHECK((w.os.lookup(gva)->pte & paging::kCbit) != 0);
  CHECK(w.kernel.counters().converts == 2);
  CHECK(w.cpu.conversions_done == 2);
}

TEST_CASE("guest kernel: the MSR protocol names one 4K page per request", "[guest]") {
  // §3.1: a 2M PSC entry becomes 512 MSR requests, all of them accepted.
  World w({{"guest.psc_protocol", "msr"}});
  w.kernel.psc({guest::PscPage{0x20'0000'0000, PageSize::k2M}}, trace::PscOp::Private,
               trace::PscProto::Msr);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().psc_requests == 512);
  CHECK(w.kernel.counters().psc_pages == 512);
  CHECK(w.cpu.calls.size() == 512);
  CHECK(w.entry(0x20'0000'0000 + 511 * 0x1000).assigned);
}

TEST_CASE("guest kernel: #VC 0x404 terminates Linux, an enlightened guest validates",
          "[guest]") {
  // §4.7, §6 row 3: Linux has no #VC 0x404 handler.
  const std::uint64_t gva = 0x7000'0000;
  {
    World w;
    const std::uint64_t gpa = w.map(gva);
    w.assign(gpa);
    std::uint64_t cycles = 0;
    CHECK_FALSE(w.kernel.vc_not_validated(World::vc_not_validated(gpa), gva, cycles));
    CHECK(w.state.terminated);
    CHECK_THAT(w.state.reason, Contains("#VC 0x404") && Contains("cannot recover"));
    CHECK_FALSE(w.entry(gpa).validated);
  }
  {
    World w({{"guest.on_vc_not_validated", "validate"}});
    const std::uint64_t gpa = w.map(gva);
    w.assign(gpa);
    std::uint64_t cycles = 0;
    CHECK(w.kernel.vc_not_validated(World::vc_not_validated(gpa), gva, cycles));
    CHECK_FALSE(w.state.terminated);
    CHECK(w.entry(gpa).validated);
    CHECK(w.kernel.counters().vc_validated == 1);
    CHECK(cycles > 0);
  }
}

// Issue 15 item 11: the livelock guards are documented constants
// (models/guest/README.md); one that fires names itself in the reason.
TEST_CASE("issue 15 item 11: the kMaxInsnRounds guard names itself", "[guest]") {
  World w({{"guest.demand_page_size", "2m"}});
  const std::uint64_t gva = 0x4000'0000;
  w.assign(w.map(gva), PageSize::k2M);
  w.cpu.npf_resolves = true;  // a hypervisor that never PSMASHes
  w.kernel.pvalidate(gva, PageSize::k4K, true);  // 4K inside a 2M entry: SIZEM #NPF
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxInsnRounds"));
}

TEST_CASE("issue 15 item 11: the kMaxVcRounds guard names itself", "[guest]") {
  World w({{"guest.demand_page_size", "2m"}, {"guest.on_vc_not_validated", "validate"}});
  const std::uint64_t gpa = w.map(0x4000'0000);
  w.assign(gpa, PageSize::k2M);
  w.cpu.npf_resolves = true;
  std::uint64_t cycles = 0;
  CHECK_FALSE(w.kernel.vc_not_validated(World::vc_not_validated(gpa), 0x4000'0000, cycles));
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxVcRounds"));
}

TEST_CASE("issue 15 item 11: the kMaxPscRounds guard names itself", "[guest]") {
  World w;
  const std::uint64_t gpa = w.map(0x5000'0000);
  w.cpu.psc_stalls = true;  // every answer accepted by Linux, none makes progress
  w.kernel.psc({guest::PscPage{gpa, PageSize::k4K}}, trace::PscOp::Private,
               trace::PscProto::Ghcb);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxPscRounds"));
}

}  // namespace
}  // namespace rmpsim::test
