// SNP instructions against snp-semantics §6 rows 8-20.
#include "rmp_fixture.hpp"

#include "models/common/x86_fault.hpp"

using namespace rmpsim;
using namespace rmpsim::rmp;
using rmpsim::test::assign;
using rmpsim::test::kGuest;
namespace pf = rmpsim::x86::pf;

TEST_CASE("row 8: PVALIDATE to the state the page is in: EAX 0, CF 1, entry unchanged",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  const RmpEntry before = t.raw(0x10);
  auto r = pvalidate(t, 0x10000, 0x5000, PageSize::k4K, true, kGuest, 0);
  CHECK(r.rc == kSuccess);
  CHECK(r.cf);
  CHECK(t.raw(0x10) == before);
  assign(t, 0x11000, 0x6000, false);
  r = pvalidate(t, 0x11000, 0x6000, PageSize::k4K, /*validate=*/false, kGuest, 0);
  CHECK(r.rc == kSuccess);
  CHECK(r.cf);
}

TEST_CASE("row 9: PVALIDATE 2M over 4K entries returns FAIL_SIZEMISMATCH, no fault",
          "[rmp][spec6]") {
  RmpTable t;
  for (std::uint64_t i = 0; i < 512; ++i) assign(t, 0x400000 + (i << 12), 0x200000 + (i << 12), false);
  auto r = pvalidate(t, 0x400000, 0x200000, PageSize::k2M, true, kGuest, 0);
  CHECK(r.rc == kFailSizeMismatch);
  CHECK(!r.faulted());
  CHECK(!t.raw(0x400).validated);
}

TEST_CASE("row 10: PVALIDATE 4K inside a 2M entry raises #NPF with bits 31 and 35",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000, 0x200000, false, PageSize::k2M);
  auto r = pvalidate(t, 0x403000, 0x203000, PageSize::k4K, true, kGuest, 0);
  CHECK(r.npf);
  CHECK(r.npf_bits == (pf::kRmp | pf::kSizeMismatch));
  // After the hypervisor's PSMASH the 4K PVALIDATE succeeds.
  REQUIRE(psmash(t, 0x400000) == kSuccess);
  r = pvalidate(t, 0x403000, 0x203000, PageSize::k4K, true, kGuest, 0);
  CHECK(r.rc == kSuccess);
  CHECK(!r.faulted());
  CHECK(t.raw(0x403).validated);
  CHECK(!t.raw(0x402).validated);
}

TEST_CASE("row 13: PSMASH of an entry that is already 4K returns 7", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000, 0x200000, true);
  CHECK(psmash(t, 0x400000) == kPsmashNotEligible);
  CHECK(psmash(t, 0x600000) == kPsmashNotEligible);  // hypervisor-owned 4K
}

TEST_CASE("row 14: PSMASH while the entry is in use returns FAIL_INUSE", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000, 0x200000, true, PageSize::k2M);
  t.set_in_use(0x400, true);
  CHECK(psmash(t, 0x400000) == kFailInUse);
  CHECK(t.raw(0x400).large);
  t.set_in_use(0x400, false);
  CHECK(psmash(t, 0x400000) == kSuccess);
}

TEST_CASE("row 15: RMPUPDATE from a guest context or on an immutable entry: FAIL_PERMISSION",
          "[rmp][spec6]") {
  RmpTable t;
  RmpState s;
  s.assigned = true;
  s.asid = kGuest;
  s.gpa = 0x5000;
  CHECK(rmpupdate(t, 0x10000, s, /*caller_asid=*/kGuest) == kFailPermission);
  RmpState fw;
  fw.assigned = true;
  fw.immutable = true;  // firmware page: assigned to ASID 0, immutable
  REQUIRE(rmpupdate(t, 0x20000, fw) == kSuccess);
  CHECK(rmpupdate(t, 0x20000, s) == kFailPermission);
  CHECK(psmash(t, 0x400000, kGuest) == kFailPermission);
}

TEST_CASE("row 16: RMPUPDATE on the VMSA page of a running vCPU: FAIL_INUSE", "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  REQUIRE(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 1, 0, /*vmsa=*/true, kGuest, 0).rc ==
          kSuccess);
  CHECK(t.raw(0x10).vmsa);
  t.set_in_use(0x10, true);  // the vCPU runs on it
  CHECK(rmpupdate(t, 0x10000, RmpState{}) == kFailInUse);
}

TEST_CASE("row 17: 2M private RMPUPDATE over an assigned 4K entry: FAIL_OVERLAP",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000 + 0x7000, 0x207000, false);
  RmpState s;
  s.assigned = true;
  s.asid = kGuest;
  s.gpa = 0x200000;
  s.size = PageSize::k2M;
  CHECK(rmpupdate(t, 0x400000, s) == kFailOverlap);
  // With every 4K entry unassigned the 2M update succeeds.
  REQUIRE(rmpupdate(t, 0x400000 + 0x7000, RmpState{}) == kSuccess);
  CHECK(rmpupdate(t, 0x400000, s) == kSuccess);
  CHECK(t.raw(0x400).large);
  // A 4K update inside a 2M entry overlaps too (PSMASH first).
  CHECK(rmpupdate(t, 0x401000, RmpState{}) == kFailOverlap);
}

TEST_CASE("row 18: an RMPUPDATE that reassigns a page resets validated, VMSA and permissions",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  REQUIRE(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 2, kPermR | kPermW, true, kGuest, 0).rc ==
          kSuccess);
  RmpState s;
  s.assigned = true;
  s.asid = kGuest;
  s.gpa = 0x9000;  // a new GPA: a reassignment
  REQUIRE(rmpupdate(t, 0x10000, s) == kSuccess);
  const RmpEntry e = t.raw(0x10);
  CHECK(!e.validated);
  CHECK(!e.vmsa);
  CHECK(e.perms[0] == kPermAll);
  CHECK(e.perms[1] == 0);
  CHECK(e.perms[2] == 0);
  CHECK(e.perms[3] == 0);
  CHECK(e.gpa == 0x9000);
}

TEST_CASE("row 19: PSMASH of a validated 2M entry gives 512 validated 4K entries",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x400000, 0x200000, true, PageSize::k2M);
  REQUIRE(psmash(t, 0x400000) == kSuccess);
  for (std::uint64_t i = 0; i < 512; ++i) {
    const RmpEntry e = t.raw(0x400 + i);
    INFO("entry " << i);
    REQUIRE(e.assigned);
    REQUIRE(!e.large);
    REQUIRE(e.validated);
    REQUIRE(e.asid == kGuest);
    REQUIRE(e.gpa == 0x200000 + (i << 12));  // consecutive GPAs
  }
  CHECK(t.check_invariants().empty());
}

TEST_CASE("row 20: RMPADJUST to a VMPL not below the caller's, or granting more: FAIL_PERMISSION",
          "[rmp][spec6]") {
  RmpTable t;
  assign(t, 0x10000, 0x5000, true);
  CHECK(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 0, kPermR, false, kGuest, 0).rc ==
        kFailPermission);  // target == caller
  REQUIRE(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 1, kPermR, false, kGuest, 0).rc ==
          kSuccess);
  // VMPL1 may pass on what it has (R) to VMPL2, but not W.
  CHECK(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 2, kPermR | kPermW, false, kGuest, 1).rc ==
        kFailPermission);
  CHECK(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 2, kPermR, false, kGuest, 1).rc == kSuccess);
  CHECK(rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 1, kPermR, false, kGuest, 1).rc ==
        kFailPermission);  // target == caller again
  // RMPQUERY reads back what VMPL2 holds.
  const QueryResult q = rmpquery(t, 0x10000, 0x5000, kGuest, 2, 0);
  CHECK(q.rc == kSuccess);
  CHECK(q.perms == kPermR);
}

TEST_CASE("PVALIDATE and RMPADJUST on pages the guest does not own raise an RMP #NPF",
          "[rmp]") {
  RmpTable t;
  auto r = pvalidate(t, 0x10000, 0x5000, PageSize::k4K, true, kGuest, 0);
  CHECK(r.npf);
  CHECK(r.npf_bits == pf::kRmp);
  // PVALIDATE is VMPL0-only.
  assign(t, 0x10000, 0x5000, false);
  CHECK(pvalidate(t, 0x10000, 0x5000, PageSize::k4K, true, kGuest, 1).rc == kFailPermission);
  // RMPADJUST on a page not validated: #VC 0x404 in VeriSMo's model.
  auto a = rmpadjust(t, 0x10000, 0x5000, PageSize::k4K, 1, kPermR, false, kGuest, 0);
  CHECK(a.not_validated);
}
