// The walk look-ahead (walker/lookahead.hpp): it must find the very leaf
// entries a walk reads (checked against the references of a cold walk with
// caches off, whose addresses test_walker.cpp checks against the table
// layout), and must change nothing a walk sees, also when the tables change
// or frames are dropped between its stages.
#include <catch2/catch.hpp>

#include <vector>

#include "models/config_schema.hpp"
#include "models/rmp/rmp_instructions.hpp"
#include "models/rmp/rmp_params.hpp"
#include "models/walker/lookahead.hpp"
#include "support/config_params.hpp"
#include "walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::walker;
using rmpsim::x86::FaultKind;
using rmpsim::test::kRw;
using rmpsim::test::no_caches;
using rmpsim::test::PagingWorld;
namespace pg = rmpsim::paging;

namespace {
// The SPA of the last reference of `kind` at `level` in a walk.
std::uint64_t last_ref(const WalkOutcome& out, RefKind kind, unsigned level) {
  std::uint64_t spa = ~0ull;
  for (unsigned i = 0; i < out.nrefs; ++i)
    if (out.refs[i].kind == kind && out.refs[i].level == level) spa = out.refs[i].spa;
  return spa;
}
}  // namespace

TEST_CASE("look-ahead finds the leaf entries a walk reads, at every page size", "[lookahead]") {
  PagingWorld w;
  const std::uint64_t gva4k = 0x00007f12'3456'7000, gva2m = 0x0000'4060'0000,
                      gva1g = 0x0000'8000'0000;
  w.gpt.map(w.gcr3, gva4k, 0x4000'0000, PageSize::k4K, kRw | pg::kCbit);
  w.gpt.map(w.gcr3, gva2m, 0x4020'0000, PageSize::k2M, kRw | pg::kCbit);
  w.gpt.map(w.gcr3, gva1g, 0x8000'0000, PageSize::k1G, kRw | pg::kCbit);
  w.back_guest_tables();
  w.npt.map(w.ncr3, 0x4000'0000, 0x2'0000'0000, PageSize::k4K, kRw);
  w.npt.map(w.ncr3, 0x4020'0000, 0x2'0020'0000, PageSize::k2M, kRw);
  w.npt.map(w.ncr3, 0x8000'0000, 0x3'0000'0000, PageSize::k1G, kRw);
  NestedWalker walker(w.gmem, w.hmem, no_caches());
  WalkLookahead la(walker);

  struct Case {
    std::uint64_t gva, gpa;
    unsigned glevel, nlevel;
  };
  for (const Case c : {Case{gva4k + 0x123, 0x4000'0123, 1, 1},
                       Case{gva2m + 0x1234, 0x4020'1234, 2, 2},
                       Case{gva1g + 0x12345, 0x8001'2345, 3, 3}}) {
    CAPTURE(c.gva);
    WalkOutcome out;
    walker.walk(w.req(c.gva), out);
    REQUIRE(out.fault.kind == FaultKind::None);
    REQUIRE(out.tr.gpa == c.gpa);
    unsigned level = 0;
    // Guest leaf: read at its SPA, which is its GPA + 4 GiB (the fixture's
    // backing of guest table pages).
    const std::uint64_t* g = la.leaf(false, w.gcr3, c.gva, level);
    CHECK(level == c.glevel);
    CHECK(g == w.gmem.word(last_ref(out, RefKind::GuestPte, c.glevel) - 0x100000000));
    // Nested leaf of the data page: the walk's last nested reference.
    const std::uint64_t* n = la.leaf(true, w.ncr3, c.gpa, level);
    CHECK(level == c.nlevel);
    CHECK(n == w.hmem.word(out.refs[out.nrefs - 1].spa));
    CHECK(out.refs[out.nrefs - 1].kind == RefKind::NestedPte);
  }
  unsigned level = 0;
  CHECK(la.leaf(false, w.gcr3, 0x0000'1000'0000'0000, level) == nullptr);  // no PML4 entry
  CHECK(la.leaf(true, w.ncr3, 0x7'0000'0000, level) == nullptr);
}

TEST_CASE("look-ahead changes nothing a walk sees, however the tables change", "[lookahead]") {
  // Two worlds built alike; one walker reads ahead, the other does not.
  // Between steps the tables change: pages are unmapped (their frames
  // dropped) and remapped, so the look-ahead's stages hold stale pointers.
  // With an RMP, the look-ahead also reads the nested entries of the guest
  // tables' pages and prefetches their RMP entries.
  const bool with_rmp = GENERATE(false, true);
  CAPTURE(with_rmp);
  auto build = [](PagingWorld& w) {
    for (std::uint64_t p = 0; p < 64; ++p)
      w.gpt.map(w.gcr3, 0x1000'0000 + p * 0x20'0000 + (p % 7) * 0x1000, 0x4000'0000 + p * 0x1000,
                PageSize::k4K, kRw | pg::kCbit);
    w.back_guest_tables();
    for (std::uint64_t p = 0; p < 64; ++p)
      w.npt.map(w.ncr3, 0x4000'0000 + p * 0x1000, 0x2'0000'0000 + p * 0x1000, PageSize::k4K, kRw);
  };
  PagingWorld plain_world, ahead_world;
  build(plain_world);
  build(ahead_world);
  // Default caches on: the look-ahead must not touch them either.
  const WalkerParams params = walker_params_from(default_config(), test::kClock);
  NestedWalker plain(plain_world.gmem, plain_world.hmem, params);
  NestedWalker ahead(ahead_world.gmem, ahead_world.hmem, params);
  WalkLookahead la(ahead);
  // The guest tables' pages and the data pages assigned to the guest
  // (ASID 1, as PagingWorld::req) and validated, in both worlds' RMPs.
  rmp::RmpTable plain_rmp, ahead_rmp;
  if (with_rmp) {
    auto own = [](rmp::RmpTable& t, std::uint64_t spa, std::uint64_t gpa) {
      rmp::RmpState st;
      st.assigned = true;
      st.asid = 1;
      st.gpa = gpa;
      REQUIRE(rmp::rmpupdate(t, spa, st) == rmp::kSuccess);
      REQUIRE(rmp::pvalidate(t, spa, gpa, PageSize::k4K, true, 1, 0).rc == rmp::kSuccess);
    };
    for (rmp::RmpTable* t : {&plain_rmp, &ahead_rmp}) {
      for (std::uint64_t g = 0x10001000; g <= plain_world.next_gpt_gpa; g += 0x1000)
        own(*t, g + 0x1'0000'0000, g);
      for (std::uint64_t p = 0; p < 64; ++p)
        own(*t, 0x2'0000'0000 + p * 0x1000, 0x4000'0000 + p * 0x1000);
    }
    const rmp::CheckOptions opt = rmp::check_options_from(default_config(), test::kClock);
    plain.attach_rmp(&plain_rmp, opt);
    ahead.attach_rmp(&ahead_rmp, opt);
  }
  unsigned translated = 0;

  std::vector<std::uint64_t> gvas;
  for (std::uint64_t i = 0; i < 400; ++i) {
    const std::uint64_t p = (i * 37) % 64;
    gvas.push_back(0x1000'0000 + p * 0x20'0000 + (p % 7) * 0x1000 + i % 4096);
  }
  auto upcoming = [&](std::size_t i) {
    WalkLookahead::Upcoming u;
    if (i < gvas.size()) u = {true, i, gvas[i]};
    return u;
  };
  for (std::size_t i = 0; i < gvas.size(); ++i) {
    if (i % 50 == 25) {  // change both worlds alike
      for (PagingWorld* w : {&plain_world, &ahead_world}) {
        const std::uint64_t p = (i * 37 + 1) % 64;
        w->gpt.unmap(w->gcr3, 0x1000'0000 + p * 0x20'0000 + (p % 7) * 0x1000);
        w->npt.unmap(w->ncr3, 0x4000'0000 + ((i * 37 + 2) % 64) * 0x1000);
        w->hmem.drop_frame((0x2'0000'0000 >> 12) + i);  // a frame the pipeline never saw
      }
      plain.flush_all();
      ahead.flush_all();
    }
    WalkOutcome a, b;
    plain.walk(plain_world.req(gvas[i]), a);
    ahead.walk(ahead_world.req(gvas[i]), b);
    CAPTURE(i);
    REQUIRE(a.fault.kind == b.fault.kind);
    REQUIRE(a.fault.addr == b.fault.addr);
    REQUIRE(a.tr.spa == b.tr.spa);
    REQUIRE(a.nrefs == b.nrefs);
    for (unsigned r = 0; r < a.nrefs; ++r) REQUIRE(a.refs[r].spa == b.refs[r].spa);
    REQUIRE(a.ntlb_hits == b.ntlb_hits);
    REQUIRE(a.pwc_hits == b.pwc_hits);
    translated += a.fault.kind == FaultKind::None;
    la.step(ahead_world.gcr3, ahead_world.ncr3, upcoming(i + WalkLookahead::kDistA),
            upcoming(i + WalkLookahead::kDistB), upcoming(i + WalkLookahead::kDistC));
  }
  CHECK(translated > 300);  // most walks reach the data page, RMP checks and all
  // The guest and nested tables are the same in both worlds afterwards.
  for (std::uint64_t g = 0x10001000; g <= plain_world.next_gpt_gpa; g += 8)
    REQUIRE(plain_world.gmem.read64(g) == ahead_world.gmem.read64(g));
  for (std::uint64_t s = 0x700001000; s <= plain_world.next_npt_spa; s += 8)
    REQUIRE(plain_world.hmem.read64(s) == ahead_world.hmem.read64(s));
}
