// RMP checks inside the 2-D walk (exact #NPF EXITINFO1 of §1.6 for §6 rows
// 1-3) and the hypervisor's in-kernel handling of RMP faults (rows 10-12,
// 14).
#include "models/config_schema.hpp"
#include "rmp_fixture.hpp"

#include "models/hypervisor/hypervisor.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/rmp/rmp_params.hpp"
#include "models/walker/nested_walker.hpp"
#include "walker/walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::walker;
using rmpsim::x86::FaultKind;
namespace pf = rmpsim::x86::pf;
using rmpsim::test::assign;
using rmpsim::test::kGuest;
using rmpsim::test::kRw;
namespace pg = rmpsim::paging;

namespace {

// A world whose guest page-table pages are private, validated guest pages.
struct RmpWorld {
  test::PagingWorld w;
  rmp::RmpTable rmp;
  NestedWalker walker;
  RmpWorld() : walker(w.gmem, w.hmem, test::no_caches()) {}
  void finish_tables() {
    w.back_guest_tables();
    for (std::uint64_t g = 0x10001000; g <= w.next_gpt_gpa; g += 0x1000)
      assign(rmp, g + 0x100000000, g, true);
    walker.attach_rmp(&rmp, rmp::check_options_from(default_config(), test::kClock));
  }
  WalkOutcome walk(std::uint64_t gva, AccessKind k) {
    WalkRequest r = w.req(gva, k);
    r.asid = kGuest;
    WalkOutcome out;
    walker.walk(r, out);
    return out;
  }
};
}  // namespace

TEST_CASE("row 1 through the walker: EXITINFO1 has bits 0, 1, 2, 31, 32 and 34", "[rmp][spec6]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw | pg::kCbit);
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);  // hypervisor-owned
  WalkOutcome out = x.walk(0x7008, AccessKind::Write);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.addr == 0x4000'7008);  // EXITINFO2: the faulting GPA
  CHECK(out.fault.error_code == (pf::kPresent | pf::kWrite | pf::kUser | pf::kRmp |
                                 pf::kFinalGpa | pf::kEncrypted));
  // 4 guest levels x (4 nested + 1 RMP + 1 guest) + 4 nested + 1 RMP for the data page,
  // + 1 RMP per nested A write-back (issue 15 item 2): 4 for the guest root's
  // nested walk, 1 leaf each for the 3 other guest tables (same nested
  // table), 3 for the data page (another PDPT entry at 1 GiB).
  CHECK(out.nrefs == 4 * 6 + 5 + 10);
  CHECK(out.rmp_checks == 5 + 10);
}

TEST_CASE("row 2 through the walker: a shared read of a guest page has bit 31 without 34",
          "[rmp][spec6]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw);  // C-bit clear
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);
  assign(x.rmp, 0x2'0000'7000, 0x4000'7000, true);
  WalkOutcome out = x.walk(0x7000, AccessKind::Read);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kUser | pf::kRmp | pf::kFinalGpa));
}

TEST_CASE("row 3 through the walker: not validated is #VC 0x404, not a #NPF", "[rmp][spec6]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw | pg::kCbit);
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);
  assign(x.rmp, 0x2'0000'7000, 0x4000'7000, /*validated=*/false);
  WalkOutcome out = x.walk(0x7000, AccessKind::Read);
  CHECK(out.fault.kind == FaultKind::VcNotValidated);
  CHECK(out.fault.error_code == 0x404);
  REQUIRE(rmp::pvalidate(x.rmp, 0x2'0000'7000, 0x4000'7000, PageSize::k4K, true, kGuest, 0).rc ==
          rmp::kSuccess);
  out = x.walk(0x7000, AccessKind::Read);
  CHECK(out.fault.kind == FaultKind::None);
  CHECK(out.tr.spa == 0x2'0000'7000);
}

TEST_CASE("a guest page table in a shared page cannot work: bit 33 RMP #NPF", "[rmp]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw | pg::kCbit);
  x.w.back_guest_tables();  // backed, but the table pages stay hypervisor-owned
  x.walker.attach_rmp(&x.rmp, rmp::check_options_from(default_config(), test::kClock));
  WalkOutcome out = x.walk(0x7000, AccessKind::Read);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.error_code ==
        (pf::kPresent | pf::kUser | pf::kRmp | pf::kGuestPageTable | pf::kEncrypted));
  CHECK(out.fault.gpt);
}

namespace {
struct HvWorld {
  memory::PhysStore hmem;
  rmp::RmpTable rmp;
  mmu::TranslationDomain tlbs;
  hypervisor::Hypervisor hv;
  explicit HvWorld(PageSize backing,
                   hypervisor::Policy policy = hypervisor::Policy::ExitToUserspace)
      : hv(hmem, rmp,
           [&] {
             hypervisor::HypervisorParams p =
                 hypervisor::hypervisor_params_from(default_config(), test::kClock);
             p.policy = policy;
             p.backing_page_size = backing;
             p.guest_asid = kGuest;
             return p;
           }(),
           [](std::uint64_t) { return false; }, tlbs) {}
  std::uint64_t spa_of(std::uint64_t gpa) {
    std::uint64_t spa = 0;
    REQUIRE(hv.backing_of(gpa, spa));
    return spa;
  }
};
constexpr std::uint64_t kPrivateNotPresent = pf::kUser | pf::kFinalGpa | pf::kEncrypted;
constexpr std::uint64_t kRmpFault = pf::kPresent | pf::kUser | pf::kFinalGpa | pf::kEncrypted |
                                    pf::kRmp;
}  // namespace

TEST_CASE("row 29: first private fault on a 2M folio with all PFNs unassigned: one 2M RMPUPDATE",
          "[rmp][hypervisor][spec6]") {
  HvWorld x(PageSize::k2M);
  auto r = x.hv.handle_npf(0, 0x4020'3000, kPrivateNotPresent);
  REQUIRE(r.resolved);
  CHECK(x.hv.counters().rmpupdate == 1);
  const rmp::Governing g = x.rmp.governing(x.spa_of(0x4020'3000));
  CHECK(g.size == PageSize::k2M);
  CHECK(g.entry.assigned);
  CHECK(!g.entry.validated);
  CHECK(g.page_gpa == 0x4020'3000);
}

TEST_CASE("rows 10-12: the hypervisor PSMASHes, zaps and flushes; a 4K entry is spurious",
          "[rmp][hypervisor][spec6]") {
  HvWorld x(PageSize::k2M);
  REQUIRE(x.hv.handle_npf(0, 0x4020'3000, kPrivateNotPresent).resolved);
  const std::uint64_t spa = x.spa_of(0x4020'3000);
  // Row 10: PVALIDATE 4K inside the 2M entry faults with SIZEM.
  auto p = rmp::pvalidate(x.rmp, spa, 0x4020'3000, PageSize::k4K, true, kGuest, 0);
  REQUIRE(p.npf);
  auto r = x.hv.handle_npf(0, 0x4020'3000, kRmpFault | pf::kSizeMismatch);
  CHECK(r.resolved);
  CHECK(x.hv.counters().psmash == 1);
  CHECK(x.hv.counters().npt_zaps == 1);
  CHECK(x.tlbs.asid_flushes() == 1);
  CHECK(x.rmp.governing(spa).size == PageSize::k4K);
  CHECK(rmp::pvalidate(x.rmp, spa, 0x4020'3000, PageSize::k4K, true, kGuest, 0).rc ==
        rmp::kSuccess);
  // Row 12: another RMP fault on the now-4K entry is spurious.
  r = x.hv.handle_npf(1, 0x4020'3000, kRmpFault);
  CHECK(r.resolved);
  CHECK(x.hv.counters().npf_rmp_spurious == 1);
  CHECK(x.hv.counters().psmash == 1);
}

TEST_CASE("row 11: an access through a 4K NPT mapping to a 2M RMP entry is smashed",
          "[rmp][hypervisor][spec6]") {
  HvWorld x(PageSize::k2M);
  REQUIRE(x.hv.handle_npf(0, 0x4060'0000, kPrivateNotPresent).resolved);
  auto r = x.hv.handle_npf(0, 0x4060'5000, kRmpFault);  // no SIZEM: the NPT-size case
  CHECK(r.resolved);
  CHECK(x.hv.counters().npf_rmp_size == 1);
  CHECK(x.rmp.governing(x.spa_of(0x4060'5000)).size == PageSize::k4K);
}

TEST_CASE("row 14: PSMASH kept in use is retried, bounded, and reported", "[rmp][hypervisor][spec6]") {
  HvWorld x(PageSize::k2M);
  REQUIRE(x.hv.handle_npf(0, 0x4020'0000, kPrivateNotPresent).resolved);
  x.rmp.set_in_use(x.spa_of(0x4020'0000) >> 12, true);
  auto r = x.hv.handle_npf(0, 0x4020'0000, kRmpFault);
  CHECK(!r.resolved);
  CHECK(r.reason.find("PSMASH") != std::string::npos);
  CHECK(x.hv.counters().psmash_inuse_retries > 1);
}

TEST_CASE("a private/shared mismatch goes to the policy, never to PSMASH", "[rmp][hypervisor]") {
  HvWorld x(PageSize::k4K);
  REQUIRE(x.hv.handle_npf(0, 0x5000, kPrivateNotPresent).resolved);  // now guest-private
  // A shared access to it: an RMP fault without the C-bit. Upstream KVM
  // (the default policy) sends it to userspace, which converts the page.
  auto r = x.hv.handle_npf(0, 0x5000, pf::kPresent | pf::kUser | pf::kFinalGpa | pf::kRmp);
  CHECK(r.resolved);
  CHECK(r.conversion);
  CHECK(!r.to_private);
  CHECK(x.hv.counters().npf_mismatch == 1);
  CHECK(x.hv.counters().userspace_exits == 1);
  CHECK(x.hv.counters().psmash == 0);
  CHECK(!x.hv.memory().is_private(0x5000));
}

TEST_CASE("row 30: AP creation with a 2M-aligned VMSA GPA is refused as invalid input",
          "[hypervisor][spec6]") {
  HvWorld x(PageSize::k4K);
  auto r = x.hv.ap_create(0x4020'0000);
  CHECK(r.sw_exitinfo1 == 2);
  CHECK(r.sw_exitinfo2 == 5);
  r = x.hv.ap_create(0x4020'1000);
  CHECK(r.sw_exitinfo1 == 0);
  CHECK(r.sw_exitinfo2 == 0);
}

TEST_CASE("a translation filled at VMPL1 serves only what VMPL1's RMP mask allows",
          "[rmp][spec6]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw | pg::kCbit);
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);
  assign(x.rmp, 0x2'0000'7000, 0x4000'7000, true);
  // VMPL0 opens the page tables and the data page to VMPL1 for reading.
  for (std::uint64_t g = 0x10001000; g <= x.w.next_gpt_gpa; g += 0x1000)
    REQUIRE(rmp::rmpadjust(x.rmp, g + 0x100000000, g, PageSize::k4K, 1, rmp::kPermR, false, kGuest,
                           0).rc == rmp::kSuccess);
  REQUIRE(rmp::rmpadjust(x.rmp, 0x2'0000'7000, 0x4000'7000, PageSize::k4K, 1, rmp::kPermR, false,
                         kGuest, 0).rc == rmp::kSuccess);
  WalkRequest r = x.w.req(0x7000, AccessKind::Read);
  r.asid = kGuest;
  r.vmpl = 1;
  WalkOutcome out;
  x.walker.walk(r, out);
  REQUIRE(out.fault.kind == FaultKind::None);
  CHECK(!out.tr.writable);  // the page tables allow writes, VMPL1's RMP mask does not
  r.kind = AccessKind::Write;
  x.walker.walk(r, out);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kWrite | pf::kUser | pf::kRmp | pf::kVmpl |
                                 pf::kFinalGpa | pf::kEncrypted));
}

TEST_CASE("issue 15 item 1: an instruction fetch is a private access whatever the PTE's C-bit",
          "[rmp][walker]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw);  // C-bit clear, executable
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);  // hypervisor-owned
  // A data read of the shared page is a shared access and passes (§1.4) ...
  WalkOutcome out = x.walk(0x7000, AccessKind::Read);
  REQUIRE(out.fault.kind == FaultKind::None);
  CHECK(!out.tr.cbit);
  // ... but its translation may not serve a fetch: that one is private.
  CHECK(!out.tr.executable);
  // A fetch from it is checked as private: an RMP #NPF with the C-bit
  // (bit 34) set, the implicit shared->private request of §4.1.
  out = x.walk(0x7000, AccessKind::Fetch);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.addr == 0x4000'7000);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kUser | pf::kFetch | pf::kRmp |
                                 pf::kFinalGpa | pf::kEncrypted));
  // Once the page is the guest's and validated, the fetch through the C=0
  // PTE passes as a private access; the data C-bit stays the PTE's, and the
  // translation says it must not be cached for data accesses.
  assign(x.rmp, 0x2'0000'7000, 0x4000'7000, true);
  out = x.walk(0x7000, AccessKind::Fetch);
  REQUIRE(out.fault.kind == FaultKind::None);
  CHECK(!out.tr.cbit);
  CHECK(out.tr.fetch_only);
  // A data read through the same PTE is shared: refused by the RMP (§6 row 2).
  out = x.walk(0x7000, AccessKind::Read);
  CHECK(out.fault.kind == FaultKind::NestedPageFault);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kUser | pf::kRmp | pf::kFinalGpa));
}

TEST_CASE("issue 15 item 2: nested page-table A/D write-backs are RMP-checked hypervisor writes",
          "[rmp][walker]") {
  RmpWorld x;
  x.w.gpt.map(x.w.gcr3, 0x7000, 0x4000'7000, PageSize::k4K, kRw | pg::kCbit);
  x.finish_tables();
  x.w.npt.map(x.w.ncr3, 0x4000'7000, 0x2'0000'7000, PageSize::k4K, kRw);
  assign(x.rmp, 0x2'0000'7000, 0x4000'7000, true);
  SECTION("each write-back reads the NPT page's RMP entry") {
    // A cold walk sets A in every nested entry it uses: NPT reads are not
    // checked, each A write-back is (§1.4), one RMP entry read each.
    WalkOutcome out = x.walk(0x7000, AccessKind::Read);
    REQUIRE(out.fault.kind == FaultKind::None);
    const unsigned npt_ad = out.ad_updates - 4;  // minus the 4 guest entries' A bits
    CHECK(out.rmp_checks == 5 + npt_ad);
    CHECK(out.nrefs == 4 * 6 + 5 + npt_ad);
    // A warm walk writes nothing back and checks only the 5 pages of §1.8.
    out = x.walk(0x7000, AccessKind::Read);
    CHECK(out.ad_updates == 0);
    CHECK(out.rmp_checks == 5);
  }
  SECTION("a write-back to an assigned NPT page is refused") {
    // KVM never lets that happen (--check asserts it); the fault the
    // hardware raises is UNKNOWN (§8 point 1): the model reports an RMP
    // #NPF on the access being translated.
    assign(x.rmp, x.w.ncr3, 0x6'0000'0000, true);
    WalkOutcome out = x.walk(0x7000, AccessKind::Read);
    CHECK(out.fault.kind == FaultKind::NestedPageFault);
    CHECK(out.fault.error_code == (pf::kPresent | pf::kWrite | pf::kUser | pf::kRmp |
                                   pf::kGuestPageTable | pf::kEncrypted));
    CHECK(out.fault.addr == x.w.gcr3);  // translating the guest root's first entry
  }
}

TEST_CASE("issue 15 item 11: the kPsmashRetries guard names itself", "[rmp][hypervisor]") {
  HvWorld x(PageSize::k2M);
  REQUIRE(x.hv.handle_npf(0, 0x4020'0000, kPrivateNotPresent).resolved);
  x.rmp.set_in_use(x.spa_of(0x4020'0000) >> 12, true);
  auto r = x.hv.handle_npf(0, 0x4020'0000, kRmpFault);
  CHECK(!r.resolved);
  CHECK(r.reason.find("livelock guard kPsmashRetries") != std::string::npos);
}
