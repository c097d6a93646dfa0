#pragma once
// The shared L3's sets laid out for the host's caches: the same true-LRU
// write-back level as LineCache (same results, victims and order), with
// each set's tags packed into one 64-byte host line.
//
// Why: on a walk-bound trace every L2 miss looks up one L3 set and fills
// another (the victim), in a 32 MiB model whose state (5 MiB as
// LineCache) is far beyond the host's L2; those lookups were a quarter of
// the run. A LineCache set is a line of hash bytes plus one or two lines of
// 64-bit entries; here a set of up to 16 ways is one line of 32-bit entries
// and its recency word lives in a separate, 8-byte-per-set array.
//
// An entry is `tag << 1 | dirty` with tag = line >> log2(sets); an empty
// way holds kEmpty32. The tag fits 31 bits when lines are below 2^45 (SPAs
// below 2^51, walker/pte.hpp kMaxPhysAddr) and there are at least 2^15
// sets: fits() checks the geometry, and the hierarchy uses a LineCache for
// any other. Entries handed out are LineCache's (`line << 1 | dirty`).
#include <cstdint>
#include <stdexcept>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "models/common/host_prefetch.hpp"
#include "models/common/huge_pages.hpp"
#include "models/memory/line_cache.hpp"
#include "models/memory/recency_order.hpp"

namespace rmpsim::memory {

class PackedLineCache {
 public:
  static constexpr unsigned kLineBits = 45;  // lines below 2^45: SPAs below 2^51
  static constexpr unsigned kMinSetBits = kLineBits - 30;

  // Whether a level of `lines` in `ways` can be packed: up to 16 ways, a
  // power-of-two number of sets, enough of them for every tag to fit.
  static bool fits(unsigned lines, unsigned ways) {
    return packable(lines, ways) && lines / ways >= (1u << kMinSetBits);
  }

  // `lines` and `ways` as fits() accepts, or any packable geometry for a
  // caller whose lines' tags stay below 2^30 (the tests).
  void configure(unsigned lines, unsigned ways) {
    if (!packable(lines, ways))
      throw std::invalid_argument("packed line cache: up to 16 ways, power-of-two sets");
    m_ways = ways;
    const unsigned sets = lines / ways;
    m_set_mask = sets - 1;
    m_set_bits = static_cast<unsigned>(__builtin_ctz(sets));
    m_way_mask = recency::way_mask(ways);
    m_order_mask = recency::mask(ways);
    m_tags.assign(sets, Set{});
    m_order.assign(sets, recency::initial(ways));
  }
  bool enabled() const { return m_ways != 0; }

  // LineCache::access_cold(): true if `line` was cached; afterwards it is
  // its set's most recent, with `dirty` (0 or 1) or-ed in. On a miss
  // `victim` is the entry pushed out (LineCache::kEmpty if none).
  bool access_cold(std::uint64_t line, std::uint64_t dirty, std::uint64_t& victim) {
    const std::uint32_t s = set_of(line);
    Set& set = m_tags[s];
    std::uint64_t& order = m_order[s];
    const std::uint32_t t = tag_of(line);
    const unsigned w = find_way(set, t);
    if (w != kNoWay) {
      set.e[w] |= std::uint32_t(dirty);
      recency::touch(order, w);
      return true;
    }
    const unsigned v = recency::last(order, m_ways);
    victim = unpack(set.e[v], s);
    set.e[v] = (t << 1) | std::uint32_t(dirty);
    recency::fill_last(order, v, m_order_mask);
    return false;
  }
  // LineCache::remove().
  std::uint64_t remove(std::uint64_t line) {
    const std::uint32_t s = set_of(line);
    Set& set = m_tags[s];
    const unsigned w = find_way(set, tag_of(line));
    if (w == kNoWay) return LineCache::kEmpty;
    const std::uint64_t found = unpack(set.e[w], s);
    set.e[w] = kEmpty32;
    recency::to_back(m_order[s], w, m_ways);
    return found;
  }
  // LineCache::peek().
  std::uint64_t peek(std::uint64_t line) const {
    const std::uint32_t s = set_of(line);
    const unsigned w = find_way(m_tags[s], tag_of(line));
    return w == kNoWay ? LineCache::kEmpty : unpack(m_tags[s].e[w], s);
  }
  // LineCache::prefetch(): the set's tags and its recency word.
  void prefetch(std::uint64_t line) const {
    const std::uint32_t s = set_of(line);
    host_prefetch(&m_tags[s]);
    host_prefetch(&m_order[s]);
  }

 private:
  // Up to 16 ways in a power-of-two number of sets.
  static bool packable(unsigned lines, unsigned ways) {
    if (lines == 0 || ways == 0 || ways > recency::kMaxWays || lines % ways) return false;
    const unsigned sets = lines / ways;
    return (sets & (sets - 1)) == 0;
  }
  static constexpr std::uint32_t kEmpty32 = ~0u;
  static constexpr unsigned kNoWay = ~0u;
  struct alignas(64) Set {
    std::uint32_t e[recency::kMaxWays];
    Set() {
      for (std::uint32_t& x : e) x = kEmpty32;
    }
  };

  std::uint32_t set_of(std::uint64_t line) const { return std::uint32_t(line) & m_set_mask; }
  std::uint32_t tag_of(std::uint64_t line) const {
    const std::uint64_t t = line >> m_set_bits;
    // A line beyond the bound fits() assumes would alias another: refuse
    // it rather than answer wrongly (no SPA the models make gets here).
    if (__builtin_expect(t >> 30, 0)) throw std::logic_error("packed line cache: line too high");
    return std::uint32_t(t);
  }
  std::uint64_t unpack(std::uint32_t e, std::uint32_t s) const {
    if (e == kEmpty32) return LineCache::kEmpty;
    const std::uint64_t line = (std::uint64_t(e >> 1) << m_set_bits) | s;
    return (line << 1) | (e & 1);
  }
  // The way holding tag `t` (kNoWay if none): all 16 tags compared at once,
  // the dirty bit masked off; an empty way never matches (its tag is 2^31 - 1).
  unsigned find_way(const Set& set, std::uint32_t t) const {
#if defined(__SSE2__)
    const __m128i want = _mm_set1_epi32(static_cast<int>(t << 1));
    const __m128i clean = _mm_set1_epi32(~1);
    unsigned bits = 0;
    for (unsigned q = 0; q < 4; ++q) {
      const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(set.e + 4 * q));
      const __m128i eq = _mm_cmpeq_epi32(_mm_and_si128(v, clean), want);
      bits |= unsigned(_mm_movemask_ps(_mm_castsi128_ps(eq))) << (4 * q);
    }
#else
    unsigned bits = 0;
    for (unsigned w = 0; w < recency::kMaxWays; ++w) bits |= unsigned((set.e[w] >> 1) == t) << w;
#endif
    bits &= m_way_mask;
    return bits ? static_cast<unsigned>(__builtin_ctz(bits)) : kNoWay;
  }

  unsigned m_ways = 0;
  std::uint32_t m_set_mask = 0;
  unsigned m_set_bits = 0;
  unsigned m_way_mask = 0;
  std::uint64_t m_order_mask = 0;
  std::vector<Set, HugePageAllocator<Set>> m_tags;  // per set: 16 entries in one host line
  std::vector<std::uint64_t> m_order;  // per set: recency::
};

}  // namespace rmpsim::memory
