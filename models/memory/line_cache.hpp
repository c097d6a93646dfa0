#pragma once
// The tags of the page-table line cache: a set-associative, true-LRU cache
// of 64-byte line numbers, with the behaviour of SetAssoc::access() (same
// set of a line, same victim rule) in a layout made for it.
//
// Each set keeps its line numbers in recency order, most recently used
// first, empty ways (FlatMap::kEmpty) at the end. A reference scans from the
// front, and the lines of upper-level tables and RMP entries that walks read
// again and again sit there; a hit moves its line to the front, a miss
// shifts the set down by one and drops the last line (an empty way if the
// set has one, else the least recently used). One set of 8 ways is one host
// cache line; there is no separate recency state to update.
//
// Sets wider than kMaxWays (a fully associative configuration) would make
// the scan long: MemTiming uses SetAssoc for those.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/common/flat_map.hpp"

namespace rmpsim::memory {

class LineCache {
 public:
  static constexpr unsigned kMaxWays = 16;

  // lines == 0 disables the cache (every reference misses). Requires
  // ways <= kMaxWays and lines a multiple of ways.
  LineCache(unsigned lines, unsigned ways)
      : m_ways(lines ? ways : 0),
        m_sets(lines ? lines / ways : 0),
        m_pow2(m_sets && (m_sets & (m_sets - 1)) == 0),
        m_keys(lines, FlatMap::kEmpty) {
    if (lines && (ways == 0 || lines % ways != 0))
      throw std::invalid_argument("entries must be a multiple of ways");
    if (lines && ways > kMaxWays) throw std::invalid_argument("too many ways for a LineCache");
  }

  // The cache's geometry and tag array, copied out for a run of accesses
  // (MemTiming::access_chain): as locals they stay in registers, where the
  // members would be reloaded after every store into a set.
  struct Sets {
    std::uint64_t* keys;
    std::uint32_t sets;
    unsigned ways;
    bool pow2;
  };
  Sets sets() { return Sets{m_keys.data(), m_sets, m_ways, m_pow2}; }

  // True if `line` was cached; either way it is the most recently used of
  // its set afterwards.
  static bool access(const Sets& c, std::uint64_t line) {
    if (__builtin_expect(c.sets == 0, 0)) return false;
    return access_set(c.keys + std::size_t(set_of(line, c.sets, c.pow2)) * c.ways, c.ways, line);
  }
  // The same for a power-of-two number of sets of kWays ways (the default
  // geometry, 8 ways): the compiler unrolls the pass over the set.
  template <unsigned kWays>
  static bool access_pow2(const Sets& c, std::uint64_t line) {
    return access_set(c.keys + std::size_t(line & (c.sets - 1)) * kWays, kWays, line);
  }
  bool access(std::uint64_t line) { return access(sets(), line); }

  // Forgets `line`; its way becomes empty and last in the recency order.
  void erase(std::uint64_t line) {
    if (m_sets == 0) return;
    std::uint64_t* k = m_keys.data() + std::size_t(set_of(line, m_sets, m_pow2)) * m_ways;
    for (unsigned i = 0; i < m_ways; ++i)
      if (k[i] == line) {
        for (; i + 1 < m_ways; ++i) k[i] = k[i + 1];
        k[m_ways - 1] = FlatMap::kEmpty;
        return;
      }
  }

 private:
  // One pass searches and shifts: each way takes the line before it until
  // the line is found (a hit) or the last one falls off (a miss).
  __attribute__((always_inline)) static bool access_set(std::uint64_t* k, unsigned ways,
                                                        std::uint64_t line) {
    std::uint64_t prev = k[0];
    if (prev == line) return true;
    k[0] = line;
    for (unsigned i = 1; i < ways; ++i) {
      const std::uint64_t cur = k[i];
      k[i] = prev;
      if (cur == line) return true;
      prev = cur;
    }
    return false;
  }
  // As SetAssoc::set_for, with the line number as the index.
  static std::uint32_t set_of(std::uint64_t line, std::uint32_t sets, bool pow2) {
    return static_cast<std::uint32_t>(pow2 ? (line & (sets - 1)) : (line % sets));
  }

  unsigned m_ways;
  std::uint32_t m_sets;
  bool m_pow2;
  std::vector<std::uint64_t> m_keys;  // per set, m_ways line numbers, most recent first
};

}  // namespace rmpsim::memory
