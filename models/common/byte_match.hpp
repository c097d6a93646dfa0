#pragma once
// Which of 16 bytes equal `h`: bit i set where bytes[i] == h. The search
// step of the narrow cache sets (SetAssoc's, ranked_set.hpp; the memory
// hierarchy's LineCache), whose per-way hash bytes sit 16 to an aligned
// 16-byte block: one SSE2 compare, else a plain loop.
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rmpsim {

// `bytes` is 16-byte aligned.
inline unsigned match_bytes16(const std::uint8_t* bytes, std::uint8_t h) {
#if defined(__SSE2__)
  const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(h)))));
#else
  unsigned bits = 0;
  for (unsigned i = 0; i < 16; ++i) bits |= unsigned(bytes[i] == h) << i;
  return bits;
#endif
}

}  // namespace rmpsim
