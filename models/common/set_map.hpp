#pragma once
// How a set-associative structure maps an index to a set: shared by
// SetAssoc (TLBs, walk caches) and the memory hierarchy's LineCache.
#include <cstdint>
#include <stdexcept>

namespace rmpsim {

// The set an index picks, in every layout: its low bits for a power-of-two
// number of sets, else index % sets.
struct SetMap {
  std::uint32_t sets = 0;
  std::uint32_t mask = 0;  // sets - 1 when pow2
  bool pow2 = false;

  // Checks the geometry (entries == 0: disabled, no sets).
  static SetMap of(unsigned entries, unsigned ways) {
    if (entries && (ways == 0 || entries % ways != 0))
      throw std::invalid_argument("entries must be a multiple of ways");
    SetMap m;
    m.sets = entries ? entries / ways : 0;
    m.pow2 = m.sets && (m.sets & (m.sets - 1)) == 0;
    m.mask = m.pow2 ? m.sets - 1 : 0;
    return m;
  }
  std::uint32_t operator()(std::uint64_t index) const {
    return static_cast<std::uint32_t>(pow2 ? (index & mask) : (index % sets));
  }
};

}  // namespace rmpsim
