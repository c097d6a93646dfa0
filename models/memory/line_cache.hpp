#pragma once
// One level of a write-back cache: set-associative, true LRU, 64-byte lines
// with a dirty bit (functional core: no SystemC, no timing).
//
// Each set keeps its entries in recency order, most recently used first,
// empty ways (kEmpty) at the end, as SetAssoc<void> does (models/common/
// set_assoc.hpp): an entry is `line << 1 | dirty`, so the dirty bit lives
// in the same word as the tag and a set of 8 ways is one host cache line.
// access() searches and shifts in one pass: a hit moves the entry to the
// front; a miss shifts the set down by one, drops the last entry (the
// victim: an empty way if the set has one, else the LRU line) and puts the
// new line in front.
//
// Bit 63 of an entry is free (a line is an SPA >> 6, below 2^58): a caller
// may keep a flag of its own there (kFlag; the hierarchy marks the L2 lines
// that may be in an L1). Lookups ignore it; victims and removed entries
// carry it.
#include <cstdint>
#include <vector>

#include "models/common/set_assoc.hpp"

namespace rmpsim::memory {

class LineCache {
 public:
  static constexpr std::uint64_t kEmpty = ~0ull;  // an empty way; never a line's entry
  static constexpr std::uint64_t kFlag = 1ull << 63;  // the caller's bit (see above)
  // The line of an entry (kEmpty's is 2^62 - 1: no line's).
  static std::uint64_t line_of(std::uint64_t entry) { return (entry & ~kFlag) >> 1; }

  LineCache() = default;
  // lines == 0 disables the level (every access misses, nothing is kept).
  LineCache(unsigned lines, unsigned ways) { configure(lines, ways); }

  void configure(unsigned lines, unsigned ways) {
    m_map = SetMap::of(lines, ways);  // checks the geometry
    m_ways = lines ? ways : 0;
    m_entries.assign(lines, kEmpty);
  }
  bool enabled() const { return m_ways != 0; }

  // True if `line` was cached; afterwards it is the most recently used of
  // its set, with `bits` (the dirty bit, kFlag) set in its entry. On a miss
  // the line has been put in front (with `bits`) and `victim` is the entry
  // it pushed out (kEmpty if none). A disabled level misses and keeps
  // nothing.
  bool access(std::uint64_t line, std::uint64_t bits, std::uint64_t& victim) {
    if (__builtin_expect(m_ways == 0, 0)) {
      victim = kEmpty;
      return false;
    }
    return access_in(set_of(line), line, bits, victim);
  }
  // access() on `line`'s set `e` (set(line) of an enabled level), for a
  // caller that keeps a pointer to the set's front.
  bool access_in(std::uint64_t* e, std::uint64_t line, std::uint64_t bits,
                 std::uint64_t& victim) {
    std::uint64_t prev = e[0];
    if (line_of(prev) == line) {
      e[0] = prev | bits;
      return true;
    }
    e[0] = (line << 1) | bits;
    for (unsigned i = 1; i < m_ways; ++i) {
      const std::uint64_t cur = e[i];
      e[i] = prev;
      if (line_of(cur) == line) {
        e[0] = cur | bits;
        return true;
      }
      prev = cur;
    }
    victim = prev;
    return false;
  }
  // The ways of `line`'s set, most recent first (an enabled level).
  std::uint64_t* set(std::uint64_t line) { return set_of(line); }

  // The entry of the most recently used way of `line`'s set (where
  // access() put it): the caller may set its dirty bit later.
  std::uint64_t& front(std::uint64_t line) { return set_of(line)[0]; }

  // Forgets `line`; returns its entry (kEmpty if it was not cached). Its
  // way becomes empty and last in the recency order.
  std::uint64_t remove(std::uint64_t line) {
    if (m_ways == 0) return kEmpty;
    std::uint64_t* e = set_of(line);
    for (unsigned i = 0; i < m_ways; ++i)
      if (line_of(e[i]) == line) {
        const std::uint64_t found = e[i];
        for (; i + 1 < m_ways; ++i) e[i] = e[i + 1];
        e[m_ways - 1] = kEmpty;
        return found;
      }
    return kEmpty;
  }

  // Sets the dirty bit of `line` if cached (no change to the order).
  bool mark_dirty(std::uint64_t line) {
    if (m_ways == 0) return false;
    std::uint64_t* e = set_of(line);
    for (unsigned i = 0; i < m_ways; ++i)
      if (line_of(e[i]) == line) {
        e[i] |= 1;
        return true;
      }
    return false;
  }

  // Inspection (tests): the entry of `line` without touching the order.
  std::uint64_t peek(std::uint64_t line) const {
    if (m_ways == 0) return kEmpty;
    const std::uint64_t* e = m_entries.data() + std::size_t(m_map(line)) * m_ways;
    for (unsigned i = 0; i < m_ways; ++i)
      if (line_of(e[i]) == line) return e[i];
    return kEmpty;
  }

 private:
  std::uint64_t* set_of(std::uint64_t line) {
    return m_entries.data() + std::size_t(m_map(line)) * m_ways;
  }

  SetMap m_map;
  unsigned m_ways = 0;
  std::vector<std::uint64_t> m_entries;  // per set, `ways` entries, most recent first
};

}  // namespace rmpsim::memory
