#pragma once
// The per-set metadata of SetAssoc's narrow layout (up to 16 ways): one
// hash byte and one recency rank per way, side by side in half a host
// cache line, searched and updated 16 ways at a time (SSE2, with a
// plain-loop fallback). Ranks are a permutation of 0..ways-1 (0 = most
// recently used) with invalid ways ranked above every valid one, so the
// victim is always the way ranked ways-1.
#include <cstdint>

#include "models/common/byte_match.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rmpsim::ranked {

// Up to this many ways a set is searched with one 16-byte compare.
inline constexpr unsigned kScanWays = 16;
inline constexpr std::uint8_t kPadRank = 0x7f;  // rank of lanes beyond the set's ways
// Hash bytes of valid ways have the top bit set, so an invalid way (and a
// lane beyond the set's ways) never matches.
inline constexpr std::uint8_t kInvalid = 0;

// Lanes beyond the set's ways hold kInvalid / kPadRank (above any rank, so
// a use never moves them).
struct alignas(32) Meta {
  std::uint8_t hash[kScanWays];
  std::uint8_t rank[kScanWays];
};

inline std::uint8_t hash_of(std::uint64_t key) {
  return static_cast<std::uint8_t>(0x80 | ((key * 0x9e3779b97f4a7c15ull) >> 57));
}

// Bit w set where hash byte w equals h.
inline unsigned match_hash(const Meta& m, std::uint8_t h) { return match_bytes16(m.hash, h); }

// The way ranked last in a set of `ways`: an invalid way if the set has
// one, else the LRU.
inline unsigned last_way(const Meta& m, unsigned ways) {
  return static_cast<unsigned>(
      __builtin_ctz(match_bytes16(m.rank, static_cast<std::uint8_t>(ways - 1))));
}

// Makes way w the most recently used: every way more recent than w ages by
// one, w becomes rank 0.
inline void touch(Meta& m, unsigned w) {
  const std::uint8_t rw = m.rank[w];
  if (rw == 0) return;
#if defined(__SSE2__)
  // Signed byte compare: ranks are below 16 and kPadRank is 0x7f, so
  // padding lanes are never "more recent".
  __m128i r = _mm_load_si128(reinterpret_cast<const __m128i*>(m.rank));
  const __m128i newer = _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(rw)), r);
  r = _mm_sub_epi8(r, newer);  // newer lanes hold -1: rank + 1
  _mm_store_si128(reinterpret_cast<__m128i*>(m.rank), r);
#else
  for (unsigned v = 0; v < kScanWays; ++v)
    if (m.rank[v] < rw) ++m.rank[v];
#endif
  m.rank[w] = 0;
}

// Way w becomes invalid and is ranked last of `ways`; the ways behind it
// move up.
inline void invalidate(Meta& m, unsigned w, unsigned ways) {
  const std::uint8_t rw = m.rank[w];
  for (unsigned v = 0; v < ways; ++v)
    if (m.rank[v] > rw) --m.rank[v];
  m.rank[w] = static_cast<std::uint8_t>(ways - 1);
  m.hash[w] = kInvalid;
}

}  // namespace rmpsim::ranked
