// The 2-D walker against hand-computed references. Expected counts come from
// the structure of the walk — for g guest and n nested levels each guest
// level costs a nested walk of n entries plus the guest entry, and the final
// GPA one more nested walk: g*(n+1) + n (snp-semantics §1.8: 24 for 4x4) —
// and expected addresses from the table layout, never from the model.
#include <catch2/catch.hpp>

#include "walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::walker;
using rmpsim::x86::FaultKind;
namespace pf = rmpsim::x86::pf;
using rmpsim::test::kRw;
using rmpsim::test::no_caches;
using rmpsim::test::PagingWorld;
namespace pg = rmpsim::paging;

namespace {
std::uint64_t idx(std::uint64_t va, unsigned level) { return (va >> level_shift(level)) & 511; }
}  // namespace

TEST_CASE("cold 4x4 walk with caches off makes exactly 24 references in order", "[walker]") {
  PagingWorld w;
  const std::uint64_t gva = 0x00007f12'3456'7000, gpa = 0x4000'0000, spa = 0x2'0000'0000;
  w.gpt.map(w.gcr3, gva, gpa, PageSize::k4K, kRw | pg::kCbit);
  w.back_guest_tables();
  w.npt.map(w.ncr3, gpa, spa, PageSize::k4K, kRw);
  NestedWalker walker(w.gmem, w.hmem, no_caches());
  WalkOutcome out;
  walker.walk(w.req(gva + 0x123), out);
  REQUIRE(out.fault.kind == FaultKind::None);
  CHECK(out.nrefs == 24);
  // Pattern: (4 nested + 1 guest) per guest level, then 4 nested for the data GPA.
  for (unsigned g = 0; g < 4; ++g) {
    for (unsigned n = 0; n < 4; ++n) {
      CHECK(out.refs[g * 5 + n].kind == RefKind::NestedPte);
      CHECK(out.refs[g * 5 + n].level == 4 - n);
    }
    CHECK(out.refs[g * 5 + 4].kind == RefKind::GuestPte);
    CHECK(out.refs[g * 5 + 4].level == 4 - g);
  }
  for (unsigned n = 20; n < 24; ++n) CHECK(out.refs[n].kind == RefKind::NestedPte);
  // First reference: the nested root entry for the GPA of gCR3's PML4 slot.
  const std::uint64_t pml4e_gpa = w.gcr3 + 8 * idx(gva, 4);
  CHECK(out.refs[0].spa == w.ncr3 + 8 * idx(pml4e_gpa, 4));
  // The guest PML4 entry itself is read at its SPA (GPA + 4 GiB by construction).
  CHECK(out.refs[4].spa == pml4e_gpa + 0x100000000);
  // The final nested walk starts at the nested root entry for the data GPA.
  CHECK(out.refs[20].spa == w.ncr3 + 8 * idx(gpa, 4));
  CHECK(out.tr.gpa == gpa + 0x123);
  CHECK(out.tr.spa == spa + 0x123);
  CHECK(out.tr.size == PageSize::k4K);
  CHECK(out.tr.cbit);
}

TEST_CASE("reference counts for 5-level and mixed-depth tables", "[walker]") {
  struct Case {
    unsigned g, n, expected;
  };
  // g*(n+1)+n: 5x5 -> 35, 5x4 -> 29, 4x5 -> 29.
  for (Case c : {Case{5, 5, 35}, Case{5, 4, 29}, Case{4, 5, 29}}) {
    PagingWorld w(c.g, c.n);
    const std::uint64_t gva = 0x00ab'cdef'1234'5000 & ((1ull << pg::va_bits(c.g)) - 1) & ~0xfffull;
    w.gpt.map(w.gcr3, gva, 0x4000'0000, PageSize::k4K, kRw);
    w.back_guest_tables();
    w.npt.map(w.ncr3, 0x4000'0000, 0x2'0000'0000, PageSize::k4K, kRw);
    NestedWalker walker(w.gmem, w.hmem, no_caches(c.g, c.n));
    WalkOutcome out;
    walker.walk(w.req(gva), out);
    INFO("guest " << c.g << " nested " << c.n);
    REQUIRE(out.fault.kind == FaultKind::None);
    CHECK(out.nrefs == c.expected);
  }
}

TEST_CASE("large pages shorten each dimension's walk", "[walker]") {
  SECTION("guest 2M leaf, nested 4K: 3 guest levels x 5 + 4 = 19") {
    PagingWorld w;
    w.gpt.map(w.gcr3, 0x4000'0000, 0x8000'0000, PageSize::k2M, kRw);
    w.back_guest_tables();
    w.npt.map(w.ncr3, 0x8001'2000, 0x3'0001'2000, PageSize::k4K, kRw);
    NestedWalker walker(w.gmem, w.hmem, no_caches());
    WalkOutcome out;
    walker.walk(w.req(0x4001'2345), out);
    REQUIRE(out.fault.kind == FaultKind::None);
    CHECK(out.nrefs == 19);
    CHECK(out.tr.gpa == 0x8001'2345);
    CHECK(out.tr.spa == 0x3'0001'2345);
    CHECK(out.tr.guest_size == PageSize::k2M);
    CHECK(out.tr.size == PageSize::k4K);  // the smaller of guest 2M and nested 4K
  }
  SECTION("guest 4K, nested 2M everywhere: 4 x (3 + 1) + 3 = 19") {
    PagingWorld w;
    w.gpt.map(w.gcr3, 0x1000, 0x8000'1000, PageSize::k4K, kRw);
    // Nested 2M leaves for the guest table pages and the data page.
    w.npt.map(w.ncr3, 0x1000'0000, 0x5'0000'0000, PageSize::k2M, kRw);
    w.npt.map(w.ncr3, 0x8000'0000, 0x6'0000'0000, PageSize::k2M, kRw);
    NestedWalker walker(w.gmem, w.hmem, no_caches());
    WalkOutcome out;
    walker.walk(w.req(0x1008), out);
    REQUIRE(out.fault.kind == FaultKind::None);
    CHECK(out.nrefs == 19);
    CHECK(out.tr.spa == 0x6'0000'1008);
    CHECK(out.tr.nested_size == PageSize::k2M);
    CHECK(out.tr.size == PageSize::k4K);
  }
  SECTION("guest 1G, nested 1G: 2 x (2 + 1) + 2 = 8") {
    PagingWorld w;
    w.gpt.map(w.gcr3, 0x80'0000'0000, 0x40'0000'0000, PageSize::k1G, kRw);
    w.npt.map(w.ncr3, 0x0, 0x100'0000'0000, PageSize::k1G, kRw);  // covers the table pages
    w.npt.map(w.ncr3, 0x40'0000'0000, 0x200'0000'0000, PageSize::k1G, kRw);
    NestedWalker walker(w.gmem, w.hmem, no_caches());
    WalkOutcome out;
    walker.walk(w.req(0x80'1234'5678), out);
    REQUIRE(out.fault.kind == FaultKind::None);
    CHECK(out.nrefs == 8);
    CHECK(out.tr.spa == 0x200'1234'5678);
    CHECK(out.tr.size == PageSize::k1G);
  }
}

TEST_CASE("nested TLB and guest PWC skip the walks they cache", "[walker]") {
  PagingWorld w;
  const std::uint64_t a = 0x7000'0000, b = 0x7000'1000;  // same guest page table
  w.gpt.map(w.gcr3, a, 0x4000'0000, PageSize::k4K, kRw);
  w.gpt.map(w.gcr3, b, 0x4000'1000, PageSize::k4K, kRw);
  w.back_guest_tables();
  w.npt.map(w.ncr3, 0x4000'0000, 0x2'0000'0000, PageSize::k4K, kRw);
  w.npt.map(w.ncr3, 0x4000'1000, 0x2'0000'1000, PageSize::k4K, kRw);

  SECTION("nested TLB only: second walk re-reads 4 guest entries, one nested walk") {
    const WalkerParams p = walker_params_from(
        test::config_with({{"walker.pwc.entries", 0}, {"walker.ntlb.entries", 64},
                           {"walker.npwc.entries", 0}}), test::kClock);
    NestedWalker walker(w.gmem, w.hmem, p);
    WalkOutcome out;
    walker.walk(w.req(a), out);
    CHECK(out.nrefs == 24);
    walker.walk(w.req(b), out);
    // Table pages' GPAs hit in the nested TLB; b's data page misses: 4 + 4.
    CHECK(out.nrefs == 8);
    CHECK(out.ntlb_hits == 4);
    CHECK(out.ntlb_misses == 1);
  }
  SECTION("PWC and nested TLB: second walk reads the leaf guest entry and one nested walk") {
    const WalkerParams p = walker_params_from(
        test::config_with({{"walker.pwc.entries", 16}, {"walker.ntlb.entries", 64},
                           {"walker.npwc.entries", 0}}), test::kClock);
    NestedWalker walker(w.gmem, w.hmem, p);
    WalkOutcome out;
    walker.walk(w.req(a), out);
    walker.walk(w.req(b), out);
    CHECK(out.pwc_hits == 1);
    CHECK(out.nrefs == 1 + 4);
    CHECK(out.tr.spa == 0x2'0000'1000);
    SECTION("flushing the GVA range forgets the PWC entry") {
      walker.flush_gva_range(1, b, 0x1000);
      walker.walk(w.req(b), out);
      CHECK(out.pwc_hits == 0);
      CHECK(out.nrefs == 4);  // 4 guest levels, every nested translation hits
    }
    SECTION("another ASID shares nothing") {
      WalkRequest r = w.req(b);
      r.asid = 2;
      walker.walk(r, out);
      CHECK(out.nrefs == 24);
    }
  }
}

TEST_CASE("guest page faults carry the x86 error code", "[walker]") {
  PagingWorld w;
  // Read-only, no-execute.
  w.gpt.map(w.gcr3, 0x5000, 0x4000'5000, PageSize::k4K, pg::kUser | pg::kNoExec);
  w.back_guest_tables();
  w.npt.map(w.ncr3, 0x4000'5000, 0x2'0000'5000, PageSize::k4K, kRw);
  NestedWalker walker(w.gmem, w.hmem, no_caches());
  WalkOutcome out;

  walker.walk(w.req(0x9000), out);  // no guest mapping: not present
  CHECK(out.fault.kind == FaultKind::GuestPageFault);
  CHECK(out.fault.addr == 0x9000);
  CHECK(out.fault.error_code == pf::kUser);

  walker.walk(w.req(0x5010, AccessKind::Write), out);  // read-only page
  CHECK(out.fault.kind == FaultKind::GuestPageFault);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kWrite | pf::kUser));

  walker.walk(w.req(0x5010, AccessKind::Fetch), out);  // NX leaf
  CHECK(out.fault.kind == FaultKind::GuestPageFault);
  CHECK(out.fault.error_code == (pf::kPresent | pf::kUser | pf::kFetch));
}

TEST_CASE("nested page faults: final GPA vs guest page-table access, C-bit", "[walker]") {
  PagingWorld w;
  const std::uint64_t gva = 0x6000;
  SECTION("final GPA not mapped in the NPT: bits 32 and 34 from the private PTE") {
    w.gpt.map(w.gcr3, gva, 0x4000'6000, PageSize::k4K, kRw | pg::kCbit);
    w.back_guest_tables();
    NestedWalker walker(w.gmem, w.hmem, no_caches());
    WalkOutcome out;
    walker.walk(w.req(gva, AccessKind::Write), out);
    CHECK(out.fault.kind == FaultKind::NestedPageFault);
    CHECK(out.fault.addr == 0x4000'6000);
    CHECK(out.fault.error_code ==
          (pf::kWrite | pf::kUser | pf::kFinalGpa | pf::kEncrypted));
    // The final nested walk reads the root entry (index 0, present: it also
    // covers the guest tables at 0x1000xxxx) and the PDPT entry for
    // GPA bits 38:30 = 1, which is empty.
    CHECK(out.nrefs == 4 * 5 + 2);
  }
  SECTION("shared final access: bit 34 clear") {
    w.gpt.map(w.gcr3, gva, 0x4000'6000, PageSize::k4K, kRw);
    w.back_guest_tables();
    NestedWalker walker(w.gmem, w.hmem, no_caches());
    WalkOutcome out;
    walker.walk(w.req(gva), out);
    CHECK(out.fault.error_code == (pf::kUser | pf::kFinalGpa));
  }
  SECTION("guest table page not mapped: bit 33, always private") {
    w.gpt.map(w.gcr3, gva, 0x4000'6000, PageSize::k4K, kRw);
    NestedWalker walker(w.gmem, w.hmem, no_caches());  // no back_guest_tables()
    WalkOutcome out;
    walker.walk(w.req(gva), out);
    CHECK(out.fault.kind == FaultKind::NestedPageFault);
    CHECK(out.fault.addr == w.gcr3 + 8 * idx(gva, 4));
    CHECK(out.fault.error_code == (pf::kUser | pf::kGuestPageTable | pf::kEncrypted));
  }
}

TEST_CASE("the walker sets accessed and dirty bits", "[walker]") {
  PagingWorld w;
  w.gpt.map(w.gcr3, 0x5000, 0x4000'5000, PageSize::k4K, kRw);
  w.back_guest_tables();
  w.npt.map(w.ncr3, 0x4000'5000, 0x2'0000'5000, PageSize::k4K, kRw);
  NestedWalker walker(w.gmem, w.hmem, no_caches());
  WalkOutcome out;
  walker.walk(w.req(0x5000), out);
  auto gleaf = w.gpt.lookup(w.gcr3, 0x5000);
  CHECK((gleaf->pte & pg::kAccessed));
  CHECK(!(gleaf->pte & pg::kDirty));
  CHECK(!out.tr.dirty);
  walker.walk(w.req(0x5000, AccessKind::Write), out);
  CHECK((w.gpt.lookup(w.gcr3, 0x5000)->pte & pg::kDirty));
  CHECK((w.npt.lookup(w.ncr3, 0x4000'5000)->pte & pg::kDirty));
  CHECK(out.tr.dirty);
}
