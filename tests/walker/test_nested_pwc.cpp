// Issue 17 (walk caching): the nested page-walk cache. Expected reference
// counts are worked out by hand from the table layout of PagingWorld: the
// guest tables live at GPA 0x10001000.. (nested PML4 index 0, PDPT index 0,
// one 2 MiB region), the data pages at GPA 0x40000000.. (PDPT index 1). A
// nested walk that hits a level-L entry of the nested PWC reads only the
// levels below L.
#include <catch2/catch.hpp>

#include "walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::walker;
using rmpsim::test::kRw;
using rmpsim::test::PagingWorld;

namespace {

// Only the nested PWC on, caching nested levels `lowest` and up.
WalkerParams npwc_only(unsigned lowest = 3) {
  return walker_params_from(test::config_with({{"walker.pwc.entries", 0},
                                               {"walker.ntlb.entries", 0},
                                               {"walker.npwc.entries", 64},
                                               {"walker.npwc.ways", 64},
                                               {"walker.npwc.lowest_level", lowest}}),
                            test::kClock);
}

struct World : PagingWorld {
  static constexpr std::uint64_t a = 0x7000'0000, b = 0x7000'1000;  // same guest page table
  World() {
    gpt.map(gcr3, a, 0x4000'0000, PageSize::k4K, kRw);
    gpt.map(gcr3, b, 0x4000'1000, PageSize::k4K, kRw);
    back_guest_tables();
    npt.map(ncr3, 0x4000'0000, 0x2'0000'0000, PageSize::k4K, kRw);
    npt.map(ncr3, 0x4000'1000, 0x2'0000'1000, PageSize::k4K, kRw);
  }
};

// The levels of out.refs, nested entries as 'n' + level, guest as 'g' + level
// and a space after each guest entry (one group per guest level).
std::string shape(const WalkOutcome& out) {
  std::string s;
  for (unsigned i = 0; i < out.nrefs; ++i) {
    const bool guest = out.refs[i].kind == RefKind::GuestPte;
    s += guest ? 'g' : 'n';
    s += char('0' + out.refs[i].level);
    if (guest) s += ' ';
  }
  return s;
}

}  // namespace

TEST_CASE("issue 17 nested PWC: a cold walk reads the root once per 1 GiB region", "[walker]") {
  World w;
  SECTION("PML4 and PDP entries cached (the default): 5 + 3 x 3 + 3 = 17 references") {
    NestedWalker walker(w.gmem, w.hmem, npwc_only(3));
    WalkOutcome out;
    walker.walk(w.req(w.a), out);
    REQUIRE(out.fault.kind == x86::FaultKind::None);
    // The first nested walk misses and fills levels 4 and 3; the next three
    // (guest tables, same PDPT entry) start at level 2; the data GPA is in
    // another 1 GiB region, so its walk starts at level 3 (PML4 entry hit).
    CHECK(shape(out) == "n4n3n2n1g4 n2n1g3 n2n1g2 n2n1g1 n3n2n1");
    CHECK(out.nrefs == 17);
    CHECK(out.npwc_hits == 4);
    CHECK(out.npwc_misses == 1);
    CHECK(out.tr.spa == 0x2'0000'0000);
  }
  SECTION("page-directory entries too: the guest tables share one PDE, 5 + 3 x 2 + 3 = 14") {
    NestedWalker walker(w.gmem, w.hmem, npwc_only(2));
    WalkOutcome out;
    walker.walk(w.req(w.a), out);
    CHECK(shape(out) == "n4n3n2n1g4 n1g3 n1g2 n1g1 n3n2n1");
    CHECK(out.npwc_hits == 4);
    CHECK(out.tr.spa == 0x2'0000'0000);
  }
  SECTION("off: the cold walk is the 24 references of snp-semantics §1.8") {
    NestedWalker walker(w.gmem, w.hmem, test::no_caches());
    WalkOutcome out;
    walker.walk(w.req(w.a), out);
    CHECK(out.nrefs == 24);
    CHECK(out.npwc_hits + out.npwc_misses == 0);
  }
}

TEST_CASE("issue 17 nested PWC: a warm walk skips the upper nested levels", "[walker]") {
  World w;
  NestedWalker walker(w.gmem, w.hmem, npwc_only());
  WalkOutcome out;
  walker.walk(w.req(w.a), out);
  walker.walk(w.req(w.b), out);
  // Every nested walk, the data page's included, starts at level 2.
  CHECK(shape(out) == "n2n1g4 n2n1g3 n2n1g2 n2n1g1 n2n1");
  CHECK(out.npwc_hits == 5);
  CHECK(out.npwc_misses == 0);
  CHECK(out.tr.spa == 0x2'0000'1000);
  SECTION("another ASID shares nothing") {
    WalkRequest r = w.req(w.b);
    r.asid = 2;
    walker.walk(r, out);
    CHECK(out.nrefs == 17);
  }
  SECTION("an ASID flush empties it") {
    walker.flush_asid(1);
    walker.walk(w.req(w.b), out);
    CHECK(out.nrefs == 17);
  }
}

TEST_CASE("issue 17 nested PWC: an NPT change is seen after its GPA flush", "[walker]") {
  World w;
  NestedWalker walker(w.gmem, w.hmem, npwc_only());
  WalkOutcome out;
  walker.walk(w.req(w.a), out);
  // The hypervisor replaces the data region's page directory by a 1G leaf:
  // the PDP entry the nested PWC holds for GPA 1..2 GiB no longer points to
  // a table.
  w.npt.map(w.ncr3, 0x4000'0000, 0x3'4000'0000, PageSize::k1G, kRw);
  SECTION("flushed: the walk reads the PML4 entry and the new 1G leaf") {
    walker.flush_gpa_range(1, 0x4000'0000, 1ull << 30);
    walker.walk(w.req(w.b), out);
    // The guest tables' PDP entry (GPA 0..1 GiB) survives the flush; the
    // PML4 entry, which covers the flushed range, does not.
    CHECK(shape(out) == "n2n1g4 n2n1g3 n2n1g2 n2n1g1 n4n3");
    CHECK(out.npwc_misses == 1);
    CHECK(out.tr.spa == 0x3'4000'1000);
    CHECK(out.tr.nested_size == PageSize::k1G);
  }
  SECTION("not flushed: the stale entry still leads to the old page directory") {
    walker.walk(w.req(w.b), out);
    CHECK(out.tr.spa == 0x2'0000'1000);  // what the hardware would do: hence the flush
  }
}
