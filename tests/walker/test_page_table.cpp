#include <catch2/catch.hpp>

#include "walk_fixture.hpp"

using namespace rmpsim;
namespace pg = rmpsim::paging;

TEST_CASE("page-table editor: map, lookup, unmap at every size", "[paging]") {
  test::PagingWorld w;
  CHECK(w.gpt.map(w.gcr3, 0x1000, 0x9000, PageSize::k4K, pg::kWritable) == pg::MapStatus::Ok);
  CHECK(w.gpt.map(w.gcr3, 0x4020'0000, 0x8020'0000, PageSize::k2M, 0) == pg::MapStatus::Ok);
  CHECK(w.gpt.map(w.gcr3, 0x80'0000'0000, 0x40'0000'0000, PageSize::k1G, 0) == pg::MapStatus::Ok);
  auto m = w.gpt.lookup(w.gcr3, 0x1abc);
  REQUIRE(m);
  CHECK(m->pa == 0x9000);
  CHECK(m->size == PageSize::k4K);
  m = w.gpt.lookup(w.gcr3, 0x4030'0000);
  REQUIRE(m);
  CHECK(m->pa == 0x8020'0000);
  CHECK(m->size == PageSize::k2M);
  CHECK(w.gpt.lookup(w.gcr3, 0x80'3fff'ffff)->size == PageSize::k1G);
  CHECK(!w.gpt.lookup(w.gcr3, 0x2000));
  // A 4K mapping inside the 2M page is refused.
  CHECK(w.gpt.map(w.gcr3, 0x4030'0000, 0x1000, PageSize::k4K, 0) ==
        pg::MapStatus::CoveredByLargerPage);
  auto gone = w.gpt.unmap(w.gcr3, 0x4021'0000);
  REQUIRE(gone);
  CHECK(gone->size == PageSize::k2M);
  CHECK(!w.gpt.lookup(w.gcr3, 0x4020'0000));
  // Four table pages were allocated for the first 4K mapping (PML4 is the root).
  CHECK(w.gmem.frames() >= 4);
}

TEST_CASE("page-table editor: tables are real x86 entries", "[paging]") {
  test::PagingWorld w;
  w.gpt.map(w.gcr3, 0x1000, 0x9000 | pg::kCbit, PageSize::k4K, pg::kWritable | pg::kCbit);
  // Walk by hand: PML4[0] -> PDPT[0] -> PD[0] -> PT[1].
  std::uint64_t e = w.gmem.read64(w.gcr3);
  CHECK((e & pg::kPresent));
  CHECK((e & pg::kCbit));  // guest table pointers carry the C-bit
  e = w.gmem.read64(pg::entry_addr(e));
  e = w.gmem.read64(pg::entry_addr(e));
  e = w.gmem.read64(pg::entry_addr(e) + 8);
  CHECK(pg::entry_addr(e) == 0x9000);
  CHECK((e & pg::kCbit));
  CHECK((e & pg::kWritable));
  CHECK(!(e & pg::kLarge));
}
