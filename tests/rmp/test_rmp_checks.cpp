// RMP access checks against snp-semantics §6 rows 1-7 (the walker-level
// fault bits of rows 1, 2 and 11 are in test_rmp_walk.cpp).
#include "models/config_schema.hpp"
#include "rmp_fixture.hpp"

#include "models/rmp/rmp_check.hpp"
#include "models/common/x86_fault.hpp"
#include "models/rmp/rmp_params.hpp"
#include "support/config_params.hpp"

using namespace rmpsim;
using namespace rmpsim::rmp;
using rmpsim::test::assign;
using rmpsim::test::kGuest;
namespace pf = rmpsim::x86::pf;

namespace {
// The configured behaviours: rmp.npt_larger_than_rmp = npf, rmp.gpt_not_validated = vc.
const CheckOptions kDefaults = check_options_from(default_config(), test::kClock);

GuestAccess priv(std::uint64_t spa, std::uint64_t gpa, AccessKind k = AccessKind::Read) {
  GuestAccess a;
  a.spa = spa;
  a.gpa = gpa;
  a.asid = kGuest;
  a.kind = k;
  a.is_private = true;
  return a;
}
}  // namespace

TEST_CASE("row 1: private write to a hypervisor-owned page is an RMP #NPF", "[rmp][spec6]") {
  RmpTable t;
  auto c = check_guest_access(t, priv(0x10000, 0x5000, AccessKind::Write), kDefaults);
  CHECK(c.result == CheckResult::Npf);
  CHECK(c.npf_bits == pf::kRmp);
}

TEST_CASE("row 2: shared read of a guest-assigned page is an RMP #NPF", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  GuestAccess a = priv(0x10000, 0x5000);
  a.is_private = false;
  auto c = check_guest_access(t, a, kDefaults);
  CHECK(c.result == CheckResult::Npf);
  CHECK(c.npf_bits == pf::kRmp);
  // ... while a shared read of a hypervisor-owned page is fine.
  a.spa = 0x20000;
  CHECK(check_guest_access(t, a, kDefaults).result == CheckResult::Ok);
}

TEST_CASE("row 3: private access to an assigned page not validated is #VC 0x404", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, /*validated=*/false);
  CHECK(check_guest_access(t, priv(0x10000, 0x5000), kDefaults).result ==
        CheckResult::NotValidated);
  REQUIRE(pvalidate(t, 0x10000, 0x5000, PageSize::k4K, true, kGuest, 0).rc == kSuccess);
  CHECK(check_guest_access(t, priv(0x10000, 0x5000), kDefaults).result == CheckResult::Ok);
}

TEST_CASE("row 4: private access where the RMP GPA differs (remap) is an RMP #NPF",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  auto c = check_guest_access(t, priv(0x10000, 0x6000), kDefaults);
  CHECK(c.result == CheckResult::Npf);
  CHECK(c.npf_bits == pf::kRmp);
  // Another ASID is refused the same way.
  GuestAccess other = priv(0x10000, 0x5000);
  other.asid = kGuest + 1;
  CHECK(check_guest_access(t, other, kDefaults).result == CheckResult::Npf);
}

TEST_CASE("row 5: VMPL1 write without W in its mask is #NPF with bits 31 and 36",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  // VMPL0 grants VMPL1 read only.
  REQUIRE(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 1, kPermR, false, kGuest, 0).rc ==
          kSuccess);
  GuestAccess a = priv(0x10000, 0x5000, AccessKind::Write);
  a.vmpl = 1;
  auto c = check_guest_access(t, a, kDefaults);
  CHECK(c.result == CheckResult::Npf);
  CHECK(c.npf_bits == (pf::kRmp | pf::kVmpl));
  a.kind = AccessKind::Read;
  CHECK(check_guest_access(t, a, kDefaults).result == CheckResult::Ok);
}

TEST_CASE("row 6: host write to a guest-assigned page faults, reads do not", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  CHECK(host_write_faults(t, 0x10000, PageSize::k4K));
  CHECK(!host_write_faults(t, 0x11000, PageSize::k4K));
}

TEST_CASE("row 7: host write through a 2M mapping faults if its 2M region holds an assigned page",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x200000 + 0x5000, 0x5000, true);  // one 4K page inside [2M, 4M)
  const std::uint64_t hv_owned = 0x200000 + 0x9000;
  CHECK(!host_write_faults(t, hv_owned, PageSize::k4K));
  CHECK(host_write_faults(t, hv_owned, PageSize::k2M));
  CHECK(host_write_faults(t, hv_owned, PageSize::k1G));  // 1G is checked as 2M
  CHECK(!host_write_faults(t, 0x400000, PageSize::k2M));  // the next region is clean
}

TEST_CASE("§1.5: NPT 4K over a 2M RMP entry faults; NPT 2M over 4K entries is an option",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000, 0x200000, true, PageSize::k2M);
  GuestAccess a = priv(0x401000, 0x201000);
  a.nested_size = PageSize::k4K;
  CHECK(check_guest_access(t, a, kDefaults).result == CheckResult::Npf);
  a.nested_size = PageSize::k2M;
  CHECK(check_guest_access(t, a, kDefaults).result == CheckResult::Ok);

  RmpTable small;
  assign(small, 0x401000, 0x201000, true);
  a.nested_size = PageSize::k2M;
  CHECK(check_guest_access(small, a, kDefaults).result == CheckResult::Npf);
  const CheckOptions allow =
      check_options_from(test::config_with({{"rmp.npt_larger_than_rmp", "allow"}}), test::kClock);
  CHECK(check_guest_access(small, a, allow).result == CheckResult::Ok);
}

TEST_CASE("§1.1: the governing entry follows the head's size through every change",
          "[rmp]") {
  // The table keeps a region's 2M bit beside its directory slot (speed:
  // rmp_table.hpp); what governs must still follow the head entry as it is
  // written 4K, 2M, 4K again (PSMASH) and zero, and a neighbour's write
  // must not change it.
  RmpTable t;
  const std::uint64_t head = 0x40000, inner = head + 7;  // PFNs of one 2M region
  RmpEntry small;
  small.assigned = true;
  small.asid = kGuest;
  small.gpa = 0x1234000;
  RmpEntry large = small;
  large.large = true;
  large.gpa = 0x200000;
  auto check = [&](PageSize size, std::uint64_t page_gpa) {
    const Governing g = t.governing(inner << 12);
    CHECK(g.size == size);
    CHECK(g.page_gpa == page_gpa);
    t.prefetch(inner << 12);  // a hint only: must not disturb anything
    CHECK(t.governing(inner << 12).page_gpa == page_gpa);
  };
  check(PageSize::k4K, 0);  // no region yet
  t.set_raw(inner, small);
  check(PageSize::k4K, 0x1234000);
  t.set_raw(head, large);
  check(PageSize::k2M, 0x200000 + (7 << 12));
  t.set_raw(head + 1, small);  // a neighbour's write keeps the region 2M
  check(PageSize::k2M, 0x200000 + (7 << 12));
  RmpEntry smashed = large;
  smashed.large = false;
  t.set_raw(head, smashed);
  check(PageSize::k4K, 0x1234000);
  t.set_raw(head, large);
  t.set_raw(head, RmpEntry{});
  check(PageSize::k4K, 0x1234000);
  CHECK(t.raw(head) == RmpEntry{});
  CHECK(t.raw(inner) == small);
}
