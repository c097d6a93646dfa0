// The packed L3 (models/memory/packed_line_cache.hpp) must be LineCache
// with another layout: the same hits, victims (with their dirty bits) and
// removals, checked against a plain recency list per set, and against a
// LineCache run side by side on the default L3 geometry.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/memory/packed_line_cache.hpp"
#include "recency_oracle.hpp"

using rmpsim::memory::LineCache;
using rmpsim::memory::PackedLineCache;

namespace {
std::uint64_t lcg(std::uint64_t& seed) {
  seed = seed * 6364136223846793005ull + 1442695040888963407ull;
  return seed >> 33;
}
}  // namespace

TEST_CASE("packed line cache: same true LRU as a recency list", "[hierarchy][lru]") {
  for (unsigned ways : {1u, 2u, 3u, 8u, 15u, 16u}) {
    for (unsigned sets : {1u, 4u}) {
      INFO("ways " << ways << ", sets " << sets);
      PackedLineCache c;
      c.configure(sets * ways, ways);
      rmpsim::test::RecencyOracle ref(sets, ways);
      std::uint64_t seed = 777 + ways * 31 + sets;
      const std::uint64_t span = 2ull * sets * ways + 1;
      for (int step = 0; step < 20000; ++step) {
        // High lines too: the tag keeps every bit above the set index.
        const std::uint64_t line = (lcg(seed) % span) * 0x10001ull + (std::uint64_t(1) << 28);
        const unsigned op = lcg(seed) % 8;
        if (op < 5) {
          const std::uint64_t dirty = op == 0;
          std::uint64_t victim = 0, out = 0;
          const bool hit = c.access_cold(line, dirty, victim);
          REQUIRE(hit == ref.access(line, dirty, out));
          if (!hit) REQUIRE(victim == out);
        } else {
          REQUIRE(c.remove(line) == ref.remove(line));
        }
        REQUIRE(c.peek(line) == ref.peek(line));
      }
    }
  }
}

TEST_CASE("packed line cache: the default L3 geometry packs and matches a LineCache",
          "[hierarchy][lru]") {
  // 32 MiB, 16 ways (memory.l3.*): 32768 sets.
  const unsigned lines = 524288, ways = 16;
  REQUIRE(PackedLineCache::fits(lines, ways));
  CHECK_FALSE(PackedLineCache::fits(lines / 2, ways));  // 2^14 sets: a tag might not fit
  CHECK_FALSE(PackedLineCache::fits(lines, 17));         // the recency word holds 16 ways
  CHECK_FALSE(PackedLineCache::fits(3 * 65536 * 16, ways));  // not a power of two
  PackedLineCache packed;
  packed.configure(lines, ways);
  LineCache plain(lines, ways);
  std::uint64_t seed = 99;
  for (int step = 0; step < 200000; ++step) {
    // Lines up to 2^45 - 1 (SPAs below 2^51), crowded into few sets so
    // that they evict.
    const std::uint64_t line =
        ((lcg(seed) << 20 | lcg(seed)) & ((std::uint64_t(1) << 45) - 1) & ~0x7ff8ull);
    if (lcg(seed) % 4) {
      const std::uint64_t dirty = lcg(seed) % 2;
      std::uint64_t v1 = 0, v2 = 0;
      REQUIRE(packed.access_cold(line, dirty, v1) == plain.access_cold(line, dirty, v2));
      REQUIRE(v1 == v2);
    } else {
      REQUIRE(packed.remove(line) == plain.remove(line));
    }
  }
}
