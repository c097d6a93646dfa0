// The cache hierarchy against hand-computed oracles (issue 17, item 1 and
// item 2): tiny geometries whose every hit, miss, fill and eviction can be
// followed by hand. Line n is at SPA n * 64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/memory/cache_hierarchy.hpp"
#include "recency_oracle.hpp"

using rmpsim::memory::CacheHierarchy;
using rmpsim::memory::CacheParams;
using rmpsim::memory::LineCache;

namespace {
constexpr std::uint64_t kL1 = 4, kL2 = 14, kL3 = 50, kDram = 100;

// L1D and L1I: one set of 2 ways; L2: 2 sets of 2 ways (even lines in set
// 0); L3: one set of 4 ways; one DRAM channel.
CacheParams tiny(unsigned cores = 1) {
  CacheParams p;
  p.cores = cores;
  p.l1i = {2, 2, kL1};
  p.l1d = {2, 2, kL1};
  p.l2 = {4, 2, kL2};
  p.l3 = {4, 4, kL3};
  p.l2_inclusive = true;
  p.dram_cycles = kDram;
  p.dram_busy_cycles = 0;
  p.channels = 1;
  return p;
}
std::uint64_t at(std::uint64_t line) { return line * 64; }
bool has(std::uint64_t entry) { return entry != LineCache::kEmpty; }
bool dirty(std::uint64_t entry) { return has(entry) && (entry & 1); }
}  // namespace

TEST_CASE("line cache: true LRU, dirty bit, victims", "[hierarchy]") {
  LineCache c(2, 2);  // one set of 2 ways
  std::uint64_t v = 0;
  CHECK_FALSE(c.access(1, false, v));
  CHECK(v == LineCache::kEmpty);
  CHECK_FALSE(c.access(2, true, v));  // [2*, 1]
  CHECK(v == LineCache::kEmpty);
  CHECK(c.access(1, false, v));       // [1, 2*]
  CHECK_FALSE(c.access(3, false, v));  // [3, 1], 2 (dirty) out
  CHECK(v == ((2u << 1) | 1));
  CHECK(c.remove(1) == (1u << 1));
  CHECK(c.remove(1) == LineCache::kEmpty);
  CHECK(c.mark_dirty(3));
  CHECK(dirty(c.peek(3)));
}

TEST_CASE("hierarchy: hits and misses through L1, L2, L3 and DRAM", "[hierarchy]") {
  CacheHierarchy h(tiny());
  // Lines 0, 2, 4 share the L1D set and L2 set 0.
  CHECK(h.data(0, at(0), false, 0) == kDram);  // cold: every level misses
  CHECK(h.data(0, at(0), false, 0) == kL1);    // the last-line filter
  CHECK(h.data(0, at(2), false, 0) == kDram);  // L1D [2, 0], L2 set 0 [2, 0]
  CHECK(h.data(0, at(0), false, 0) == kL1);    // an L1D hit past the filter: [0, 2]
  // The L2 did not see that L1D hit: its LRU line is 0, not 2.
  CHECK(h.data(0, at(4), false, 0) == kDram);  // L1D [4, 0] (2 dropped); L2 [4, 2], 0 -> L3
  CHECK(has(h.peek_l3(0)));
  CHECK_FALSE(has(h.peek_l2(0, 0)));
  CHECK_FALSE(has(h.peek_l1d(0, 0)));  // inclusion: out of the L1D too
  // 0 comes back from the L3 (a victim cache: it leaves the L3); the L2
  // evicts 2 into the L3 to make room.
  CHECK(h.data(0, at(0), false, 0) == kL3);
  CHECK_FALSE(has(h.peek_l3(0)));
  CHECK(has(h.peek_l3(2)));
  CHECK(h.data(0, at(2), false, 0) == kL3);  // L1D [2, 0]; L2 [2, 0], 4 -> L3
  const auto& n = h.core_counters(0);
  CHECK(n.l1d.hits == 2);
  CHECK(n.l1d.misses == 5);
  CHECK(n.l2.hits == 0);
  CHECK(n.l2.misses == 5);
  CHECK(h.l3.hits == 2);
  CHECK(h.l3.misses == 3);
  CHECK(h.dram_reads == 3);
  // A fetch of a line the L2 holds: an L1I miss, an L2 hit.
  CHECK(h.fetch(0, at(0), 0) == kL2);
  CHECK(h.fetch(0, at(0), 0) == kL1);
  CHECK(n.l2.hits == 1);
}

// Issue 17 item 6: the one-line L1 filters in front of the L1D and L1I
// must forget a line the L2 back-invalidates.
TEST_CASE("hierarchy: a back-invalidated line misses the L1 filter", "[hierarchy]") {
  CacheHierarchy h(tiny());
  CHECK(h.data(0, at(0), false, 0) == kDram);  // L1D [0], L2 set 0 [0]; the filter names 0
  h.table(0, at(2), 0);
  h.table(0, at(4), 0);  // L2 set 0 [4, 2]: 0 -> L3, out of the L1D (inclusion)
  REQUIRE_FALSE(has(h.peek_l1d(0, 0)));
  CHECK(h.data(0, at(0), true, 0) == kL3);  // not an L1D hit
  CHECK(h.core_counters(0).l1d.hits == 0);
  CHECK(dirty(h.peek_l1d(0, 0)));  // the store dirtied its own line
  CHECK(h.fetch(0, at(6), 0) == kDram);  // L1I [6], L2 set 0 [6, 0]
  h.table(0, at(8), 0);
  h.table(0, at(10), 0);  // 6 -> L3, out of the L1I
  CHECK(h.fetch(0, at(6), 0) == kL3);
  CHECK(h.core_counters(0).l1i.hits == 0);
}

TEST_CASE("hierarchy: a non-inclusive L2 leaves the L1 copy", "[hierarchy]") {
  CacheParams p = tiny();
  p.l2_inclusive = false;
  CacheHierarchy h(p);
  h.data(0, at(0), false, 0);
  h.data(0, at(2), false, 0);  // L1D [2, 0]
  h.fetch(0, at(4), 0);        // L2 set 0 [4, 2], 0 -> L3; the L1D keeps 0
  CHECK(has(h.peek_l3(0)));
  CHECK(h.data(0, at(0), false, 0) == kL1);
}

TEST_CASE("hierarchy: stores dirty lines, dirty lines are written back level by level",
          "[hierarchy]") {
  CacheHierarchy h(tiny());
  CHECK(h.data(0, at(0), true, 0) == kDram);  // write-allocate
  CHECK(dirty(h.peek_l1d(0, 0)));
  CHECK_FALSE(dirty(h.peek_l2(0, 0)));  // the L2 copy is stale, not dirty
  // Lines 1 and 3 (L2 set 1) push 0 out of the L1D: its data goes to the L2.
  h.data(0, at(1), false, 0);
  h.data(0, at(3), false, 0);
  CHECK_FALSE(has(h.peek_l1d(0, 0)));
  CHECK(dirty(h.peek_l2(0, 0)));
  CHECK(h.core_counters(0).writebacks == 1);
  // Lines 2 and 4 push it out of the L2 into the L3, still dirty.
  h.data(0, at(2), false, 0);
  h.data(0, at(4), false, 0);
  CHECK(dirty(h.peek_l3(0)));
  CHECK(h.dram_writebacks == 0);
  // Four more L2 evictions (lines 6, 8, 10, 12 push 2, 4, 6, 8 into the
  // L3) fill its 4 ways: 0 is the LRU and goes to DRAM.
  for (std::uint64_t l : {6, 8, 10, 12}) h.data(0, at(l), false, 0);
  CHECK_FALSE(has(h.peek_l3(0)));
  CHECK(h.dram_writebacks == 1);
  // A line that comes back from the L3 dirty keeps its data dirty in the L2.
  h.data(0, at(5), true, 0);  // L1D [5*, 12]
  h.data(0, at(7), false, 0);  // L1D [7, 5*]
  h.data(0, at(9), false, 0);  // 5 (dirty) -> L2 set 1
  h.data(0, at(11), false, 0);
  h.data(0, at(13), false, 0);  // L2 set 1 evictions push 5 into the L3
  REQUIRE(dirty(h.peek_l3(5)));
  h.data(0, at(5), false, 0);
  CHECK(dirty(h.peek_l2(0, 5)));
}

TEST_CASE("hierarchy: a DRAM write-back occupies its channel", "[hierarchy]") {
  CacheParams p = tiny();
  p.l3 = {0, 1, kL3};  // no L3: an L2 eviction goes straight to DRAM
  p.dram_busy_cycles = 10;
  CacheHierarchy h(p);
  CHECK(h.data(0, at(0), true, 0) == kDram);      // channel busy [0, 10)
  CHECK(h.data(0, at(1), false, 1000) == kDram);  // [1000, 1010)
  CHECK(h.data(0, at(3), false, 2000) == kDram);  // 0 -> L2 (dirty); [2000, 2010)
  CHECK(h.data(0, at(2), false, 3000) == kDram);  // [3000, 3010)
  // Line 4 evicts 0 (dirty) from the L2 at 4000 after its own read: the
  // write-back takes [4010, 4020); a read at 4015 waits 5 cycles.
  CHECK(h.data(0, at(4), false, 4000) == kDram);
  CHECK(h.dram_writebacks == 1);
  CHECK(h.data(0, at(6), false, 4015) == kDram + 5);
}

TEST_CASE("hierarchy: the walker reads through the L2, not the L1D", "[hierarchy]") {
  CacheHierarchy h(tiny());
  CHECK(h.table(0, at(0), 0) == kDram);
  CHECK_FALSE(has(h.peek_l1d(0, 0)));
  CHECK(has(h.peek_l2(0, 0)));
  const std::uint64_t chain[3] = {at(0), at(2), at(0)};
  CHECK(h.table_chain(0, chain, sizeof(std::uint64_t), 3, 0) == kL2 + kDram + kL2);
  CHECK(h.core_counters(0).l2_walk_hits == 2);
  CHECK(h.core_counters(0).l2_walk_misses == 2);
  // A data load of a line the walker brought in hits the L2.
  CHECK(h.data(0, at(2), false, 0) == kL2);
  CacheParams p = tiny();
  p.walk_at_l1d = true;
  CacheHierarchy l1(p);
  l1.table(0, at(0), 0);
  CHECK(has(l1.peek_l1d(0, 0)));
}

TEST_CASE("hierarchy: the L3 is shared, the L1s and L2s are per core", "[hierarchy]") {
  CacheHierarchy h(tiny(2));
  h.data(0, at(0), false, 0);
  // Core 1 misses its own L2 and the L3; core 0's L2 has the line: served
  // from there at the L3 latency (Zen's L3 shadow tags), not from DRAM.
  CHECK(h.data(1, at(0), false, 0) == kL3);
  CHECK(h.l3.peer_hits == 1);
  CHECK(h.data(1, at(8), false, 0) == kDram);  // nobody has line 8
  h.data(0, at(2), false, 0);
  h.data(0, at(4), false, 0);  // core 0's L2 evicts 0 into the shared L3
  h.data(1, at(2), false, 0);  // core 1's L2 set 0: [2, 8], 0 -> L3 (already there)
  CHECK(has(h.peek_l3(0)));
  CHECK(h.data(0, at(0), false, 0) == kL3);
  CHECK_FALSE(has(h.peek_l3(0)));
}

// Issue 17 item 2: a page changing hands is flushed (snp-semantics §1.7):
// its lines leave every level of every core, dirty ones cost a write-back.
TEST_CASE("hierarchy: flush_frame evicts a frame everywhere and charges dirty lines",
          "[hierarchy][flush]") {
  CacheParams p = tiny(2);
  p.channels = 2;  // lines interleave: even lines on channel 0
  p.dram_busy_cycles = 10;
  CacheHierarchy h(p);
  h.data(0, at(0), true, 0);     // dirty in core 0's L1D
  h.data(1, at(2), true, 100);   // dirty in core 1's L1D
  h.data(1, at(4), true, 200);   // dirty too (channel 0 again)
  h.data(0, at(1), false, 300);  // clean, channel 1
  h.data(0, at(64), true, 400);  // the next frame: not flushed
  // Three dirty lines, all on channel 0: the last is written after two
  // others: one DRAM latency plus two channel times.
  CHECK(h.flush_frame(at(5)) == kDram + 2 * 10);
  CHECK(h.flushed_lines == 4);
  CHECK(h.flushed_dirty == 3);
  CHECK(h.dram_writebacks == 3);
  for (unsigned core = 0; core < 2; ++core)
    for (std::uint64_t l : {0, 1, 2, 4}) {
      CHECK_FALSE(has(h.peek_l1d(core, l)));
      CHECK_FALSE(has(h.peek_l2(core, l)));
      CHECK_FALSE(has(h.peek_l3(l)));
    }
  CHECK(dirty(h.peek_l1d(0, 64)));
  // The next access to a flushed line is a cold miss, even right after the
  // filter had it.
  CHECK(h.data(0, at(1), false, 1000) == kDram);
  // A frame with no dirty line costs nothing extra.
  CHECK(h.flush_frame(at(0)) == 0);
}

// Issue 17 item 6: the line cache's compact recency order (narrow sets, up
// to 16 ways) and its shifted entries (wide sets) are the same true LRU:
// random accesses (access() and access_cold()), removals and dirty marks
// against a plain list per set.
TEST_CASE("line cache: same true LRU as a recency list, narrow and wide sets",
          "[hierarchy][lru]") {
  for (unsigned ways : {1u, 2u, 3u, 8u, 15u, 16u, 17u, 24u}) {
    for (unsigned sets : {1u, 3u, 4u}) {
      INFO("ways " << ways << ", sets " << sets);
      LineCache c(sets * ways, ways);
      rmpsim::test::RecencyOracle ref(sets, ways);
      std::uint64_t seed = 12345 + ways * 31 + sets;
      auto next = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return seed >> 33;
      };
      // Twice the lines the cache holds, so that sets fill and evict.
      const std::uint64_t span = 2ull * sets * ways + 1;
      for (int step = 0; step < 20000; ++step) {
        const std::uint64_t line = (next() % span) * 0x10001ull;  // spread the hash bytes
        const unsigned op = next() % 8;
        if (op < 5) {
          const std::uint64_t bits = (op == 0 ? 1 : 0) | (op == 1 ? LineCache::kFlag : 0);
          std::uint64_t victim = 0, out = 0;
          // access_cold() (the L3's fill from an L2 victim) must do what
          // access() does: both are checked against the list.
          const bool hit = step % 2 ? c.access_cold(line, bits, victim)
                                    : c.access(line, bits, victim);
          REQUIRE(hit == ref.access(line, bits, out));
          if (!hit) REQUIRE(victim == out);
          REQUIRE(c.front(line) == ref.front(line));
        } else if (op < 7) {
          REQUIRE(c.remove(line) == ref.remove(line));
        } else {
          REQUIRE(c.mark_dirty(line) == ref.mark_dirty(line));
        }
        REQUIRE(c.peek(line) == ref.peek(line));
      }
    }
  }
}
