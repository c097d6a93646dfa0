#pragma once
// The true-LRU order of a set of up to 16 ways, packed in one 64-bit word:
// nibble i is the way at position i (0 = most recently used). Empty ways
// sit at the back, so the last position names the way a miss fills: an
// empty one if the set has one, else the LRU line. A hit or a fill moves
// one nibble and nothing else; no entry moves. Shared by LineCache (narrow
// sets) and PackedLineCache.
#include <cstdint>

namespace rmpsim::memory::recency {

inline constexpr unsigned kMaxWays = 16;
inline constexpr std::uint64_t kNibbles = 0x1111111111111111ull;

// The nibbles of a set's positions (`ways` of them).
inline constexpr std::uint64_t mask(unsigned ways) {
  return ways >= kMaxWays ? ~0ull : (1ull << (4 * ways)) - 1;
}
// Bit w set for each of `ways` ways.
inline constexpr unsigned way_mask(unsigned ways) {
  return ways >= kMaxWays ? 0xffffu : (1u << ways) - 1;
}
// Every way in way order (all empty).
inline constexpr std::uint64_t initial(unsigned ways) {
  std::uint64_t order = 0;
  for (unsigned i = 0; i < kMaxWays; ++i) order |= std::uint64_t(i) << (4 * i);
  return order & mask(ways);
}
// The way at the last position.
inline unsigned last(std::uint64_t order, unsigned ways) {
  return unsigned(order >> (4 * (ways - 1))) & 15;
}
// 4 * the position of way w in `order` (w is in it). The lowest zero
// nibble of order ^ w's pattern is w's position: a borrow of the
// subtraction only marks nibbles above a zero one. Positions beyond the
// set's ways are 0 but come after w's.
inline unsigned position4(std::uint64_t order, unsigned w) {
  const std::uint64_t x = order ^ (w * kNibbles);
  const std::uint64_t zero = (x - kNibbles) & ~x & (kNibbles << 3);
  return static_cast<unsigned>(__builtin_ctzll(zero)) - 3;
}
// Way w becomes the most recently used: the ways before it move back one.
__attribute__((always_inline)) inline void touch(std::uint64_t& order, unsigned w) {
  const unsigned p4 = position4(order, w);
  if (p4 == 0) return;
  const std::uint64_t below = (1ull << p4) - 1;
  order = (order & (~0ull << p4 << 4)) | ((order & below) << 4) | w;
}
// The last way, just filled, becomes the most recently used (`m`: mask()).
inline void fill_last(std::uint64_t& order, unsigned v, std::uint64_t m) {
  order = ((order << 4) | v) & m;
}
// Way w, just emptied, goes to the back (the later positions move up one).
inline void to_back(std::uint64_t& order, unsigned w, unsigned ways) {
  const unsigned p4 = position4(order, w);
  const std::uint64_t below = (1ull << p4) - 1;
  order = (order & below) | ((order >> 4) & ~below) | (std::uint64_t(w) << (4 * (ways - 1)));
}

}  // namespace rmpsim::memory::recency
