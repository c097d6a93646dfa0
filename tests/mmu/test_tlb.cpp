// TLB and MMU behaviour against hand-derived expectations.
#include <catch2/catch.hpp>

#include "models/mmu/mmu.hpp"
#include "models/mmu/mmu_params.hpp"
#include "models/mmu/tlb.hpp"
#include "walker/walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::mmu;
namespace pg = rmpsim::paging;

TEST_CASE("TLB: page sizes, ASID tags and flushes", "[tlb]") {
  Tlb t(TlbGeometry{8, 8, {true, true, true}});
  t.insert(1, 0x1234'5000, 0x9'0000'5000, 0x5000, PageSize::k4K, true, false, true, true);
  t.insert(1, 0x4030'1000, 0x8'0030'1000, 0x20'0030'1000, PageSize::k2M, true, false, true, false);
  const TlbEntry* e = t.lookup(1, 0x1234'5ff8);
  REQUIRE(e);
  CHECK(e->spa_page == 0x9'0000'5000);
  CHECK(e->cbit);
  CHECK(!t.lookup(1, 0x1234'6000));
  CHECK(!t.lookup(2, 0x1234'5000));  // another ASID
  e = t.lookup(1, 0x4020'0000);      // anywhere in the 2M page
  REQUIRE(e);
  CHECK(e->size == PageSize::k2M);
  CHECK(e->spa_page == 0x8'0020'0000);
  t.flush_range(1, 0x403f'f000, 0x1000);  // one 4K inside the 2M page drops all of it
  CHECK(!t.lookup(1, 0x4020'0000));
  CHECK(t.lookup(1, 0x1234'5000));
  t.flush_asid(1);
  CHECK(t.live_entries() == 0);
}

TEST_CASE("TLB: sizes it does not hold are smashed into smaller entries", "[tlb]") {
  Tlb t(TlbGeometry{16, 4, {true, true, false}});  // like Zen's L2: 4K and 2M
  // A 1G translation is cached as the 2M piece that holds the GVA.
  t.insert(1, 0x4123'4567, 0x80'0123'4567, 0x1'0123'4567, PageSize::k1G, true, true, true, true);
  const TlbEntry* e = t.lookup(1, 0x4120'0000);
  REQUIRE(e);
  CHECK(e->size == PageSize::k2M);
  CHECK(e->spa_page == 0x80'0120'0000);
  CHECK(!t.lookup(1, 0x4140'0000));  // the neighbouring 2M of the 1G page is not cached
}

TEST_CASE("TLB: LRU replacement in a fully associative array", "[tlb]") {
  Tlb t(TlbGeometry{4, 4, {true, false, false}});
  for (std::uint64_t p = 0; p < 4; ++p)
    t.insert(1, p << 12, p << 12, p << 12, PageSize::k4K, true, true, true, true);
  CHECK(t.lookup(1, 0x0000));  // page 0 becomes most recent; page 1 is LRU
  t.insert(1, 4 << 12, 0, 0, PageSize::k4K, true, true, true, true);
  CHECK(!t.lookup(1, 1 << 12));
  CHECK(t.lookup(1, 0));
  CHECK(t.lookup(1, 2 << 12));
}

TEST_CASE("MMU: L1 hit, L2 hit, walk, and a write to a clean entry re-walks", "[mmu]") {
  test::PagingWorld w;
  w.gpt.map(w.gcr3, 0x5000, 0x4000'5000, PageSize::k4K, pg::kWritable | pg::kUser);
  w.back_guest_tables();
  w.npt.map(w.ncr3, 0x4000'5000, 0x2'0000'5000, PageSize::k4K, pg::kWritable | pg::kUser);
  const MmuParams p = mmu_params_from(
      test::config_with({{"mmu.l1d.entries", 2},
                         {"mmu.l1d.ways", 2},
                         {"mmu.l1d.page_sizes", "4k,2m,1g"},
                         {"mmu.l1i.entries", 2},
                         {"mmu.l1i.ways", 2},
                         {"mmu.l1i.page_sizes", "4k,2m,1g"},
                         {"mmu.l2.entries", 16},
                         {"mmu.l2.ways", 4},
                         {"mmu.l2.page_sizes", "4k,2m"}}),
      test::kClock);
  Mmu m(w.gmem, w.hmem, p);
  auto r = m.translate(0x5010, AccessKind::Read, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::Walk);
  REQUIRE(r.ok);
  CHECK(r.spa == 0x2'0000'5010);
  r = m.translate(0x5020, AccessKind::Read, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::L1);
  // The entry was filled by a read: D is clear, so the first write re-walks.
  r = m.translate(0x5020, AccessKind::Write, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::Walk);
  CHECK(m.counters().dirty_assists == 1);
  r = m.translate(0x5028, AccessKind::Write, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::L1);
  // A fetch misses the ITLB but hits the L2.
  r = m.translate(0x5000, AccessKind::Fetch, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::L2);
  CHECK(m.counters().walks == 2);
  m.flush_gva_range(1, 0x5000, 0x1000);
  r = m.translate(0x5000, AccessKind::Read, 1, w.gcr3, w.ncr3);
  CHECK(r.level == HitLevel::Walk);
}

TEST_CASE("issue 17 item 6: a repeated lookup of a page answers as a full lookup", "[tlb]") {
  // Tlb::lookup returns the entry of the last page it hit without a new
  // lookup; every insert and flush must forget it, and the LRU order must
  // be what full lookups would have left.
  Tlb t(TlbGeometry{4, 4, {true, true, false}});
  auto fill = [&](std::uint64_t page, std::uint64_t spa) {
    t.insert(1, page << 12, spa, page << 12, PageSize::k4K, true, true, true, true);
  };
  for (std::uint64_t p = 0; p < 4; ++p) fill(p, p << 12);
  REQUIRE(t.lookup(1, 0x0010));
  REQUIRE(t.lookup(1, 0x0020));  // repeated: page 0 stays most recent
  CHECK(!t.lookup(2, 0x0020));   // same page, another ASID: a miss
  // Re-filling page 0 changes its entry: the repeat must see the new one.
  REQUIRE(t.lookup(1, 0x0030));
  fill(0, 0x7000);
  const TlbEntry* e = t.lookup(1, 0x0040);
  REQUIRE(e);
  CHECK(e->spa_page == 0x7000);
  // Flushes forget it.
  t.flush_range(1, 0, 0x1000);
  CHECK(!t.lookup(1, 0x0050));
  fill(0, 0);
  REQUIRE(t.lookup(1, 0));
  t.flush_gpa_range(1, 0, 0x1000);
  CHECK(!t.lookup(1, 0));
  fill(0, 0);
  REQUIRE(t.lookup(1, 0));
  t.flush_asid(1);
  CHECK(!t.lookup(1, 0));
  for (std::uint64_t p = 0; p < 4; ++p) fill(p, p << 12);
  REQUIRE(t.lookup(1, 0));
  t.flush_all();
  CHECK(!t.lookup(1, 0));
  // A 2M entry inserted over a page whose 4K lookup missed is found next.
  CHECK(!t.lookup(1, 0x20'1000));
  t.insert(1, 0x20'0000, 0x40'0000, 0x20'0000, PageSize::k2M, true, true, true, true);
  e = t.lookup(1, 0x20'1000);
  REQUIRE(e);
  CHECK(e->size == PageSize::k2M);
  // Evicting the remembered page (it became LRU through other lookups).
  t.flush_all();
  for (std::uint64_t p = 0; p < 4; ++p) fill(p, p << 12);  // LRU order: 0 (oldest) .. 3
  REQUIRE(t.lookup(1, 0));                                 // 0 most recent, 1 LRU
  REQUIRE(t.lookup(1, 0));
  fill(4, 4 << 12);  // evicts page 1
  CHECK(!t.lookup(1, 1 << 12));
  CHECK(t.lookup(1, 0));
}
