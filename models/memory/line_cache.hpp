#pragma once
// One level of a write-back cache: set-associative, true LRU, 64-byte lines
// with a dirty bit (functional core: no SystemC, no timing).
//
// An entry is `line << 1 | dirty`, so the dirty bit lives in the same word
// as the tag; an empty way holds kEmpty. Bit 63 of an entry is free (a line
// is an SPA >> 6, below 2^58): a caller may keep a flag of its own there
// (kFlag; the hierarchy marks the L2 lines that may be in an L1). Lookups
// ignore it; victims and removed entries carry it.
//
// Replacement is true LRU: each set is a recency order of its ways, most
// recently used first, empty ways last. A hit moves the line to the front;
// a miss puts the new line in front and pushes out the last way (the
// victim: an empty way if the set has one, else the LRU line); remove()
// empties a way and moves it to the back. Two representations of that
// order, with the same behaviour:
//  - narrow sets (up to 16 ways, every Zen 4 level): a line stays in its
//    way; the set's recency order is a list of way numbers, one nibble per
//    position, in one 64-bit word, and one hash byte per way filters the
//    tag compare (16 bytes compared at once). A lookup touches the hash
//    bytes and the matching way only; a hit or a fill moves one nibble, so
//    nothing is shifted over the set (a 16-way L3 miss used to move 16
//    entries twice).
//  - wide sets keep their entries in recency order and shift them (what
//    narrow sets did before, kept for configurations beyond 16 ways).
#include <cstdint>
#include <vector>

#include "models/common/byte_match.hpp"
#include "models/common/host_prefetch.hpp"
#include "models/common/set_map.hpp"
#include "models/memory/recency_order.hpp"

namespace rmpsim::memory {

class LineCache {
 public:
  static constexpr std::uint64_t kEmpty = ~0ull;  // an empty way; never a line's entry
  static constexpr std::uint64_t kFlag = 1ull << 63;  // the caller's bit (see above)
  // The line of an entry (kEmpty's is 2^62 - 1: no line's).
  static std::uint64_t line_of(std::uint64_t entry) { return (entry & ~kFlag) >> 1; }

  LineCache() = default;
  // m_entries points into m_storage: a move keeps the buffer, a copy would
  // point into the original's.
  LineCache(LineCache&&) = default;
  LineCache& operator=(LineCache&&) = default;
  LineCache(const LineCache&) = delete;
  LineCache& operator=(const LineCache&) = delete;
  // lines == 0 disables the level (every access misses, nothing is kept).
  LineCache(unsigned lines, unsigned ways) { configure(lines, ways); }

  void configure(unsigned lines, unsigned ways) {
    m_map = SetMap::of(lines, ways);  // checks the geometry
    m_ways = lines ? ways : 0;
    m_narrow = m_ways != 0 && m_ways <= kNarrowWays;
    // Entries start on a 64-byte boundary, so that a set of 8 ways is one
    // host cache line and one of 16 is two (prefetch()).
    m_storage.assign(std::size_t(lines) + 7, kEmpty);
    const auto addr = reinterpret_cast<std::uintptr_t>(m_storage.data());
    m_entries = m_storage.data() + (((64 - addr % 64) % 64) / 8);
    m_order_mask = recency::mask(m_ways);
    m_way_mask = recency::way_mask(m_ways);
    Meta empty;  // every way empty, in way order; no nibble beyond the ways
    empty.order = recency::initial(m_ways);
    m_meta.assign(m_narrow ? m_map.sets : 0, empty);
  }
  bool enabled() const { return m_ways != 0; }

  // True if `line` was cached; afterwards it is the most recently used of
  // its set, with `bits` (the dirty bit, kFlag) set in its entry. On a miss
  // the line has been put in front (with `bits`) and `victim` is the entry
  // it pushed out (kEmpty if none). A disabled level misses and keeps
  // nothing.
  // Always inline: LTO's choice for this wrapper of access_entry() varies
  // with unrelated changes, and an out-of-line copy costs the walk path
  // (random 1M over 256 MiB: +5.7 % instructions when it did).
  __attribute__((always_inline)) bool access(std::uint64_t line, std::uint64_t bits,
                                             std::uint64_t& victim) {
    bool hit;
    access_entry(line, bits, victim, hit);
    return hit;
  }
  // access() for a line that is seldom the most recent of its set (the L3
  // taking an L2 victim): the same result and order, without the look at
  // the most recent way first, which would cost a host cache miss on a line
  // of entries that is seldom the one wanted.
  __attribute__((always_inline)) bool access_cold(std::uint64_t line, std::uint64_t bits,
                                                  std::uint64_t& victim) {
    bool hit;
    access_impl</*kMostRecentFirst=*/false>(line, bits, victim, hit);
    return hit;
  }
  // access(), for a caller that keeps `line`'s entry (front(line)): returns
  // it (nullptr if the level is disabled); `hit` is access()'s result.
  __attribute__((always_inline)) std::uint64_t* access_entry(std::uint64_t line,
                                                             std::uint64_t bits,
                                                             std::uint64_t& victim, bool& hit) {
    return access_impl</*kMostRecentFirst=*/true>(line, bits, victim, hit);
  }

  // The entry of the most recently used way of `line`'s set (where
  // access() put it): the caller may set its dirty bit later. The entry
  // stays where it is until its line is evicted or removed.
  std::uint64_t& front(std::uint64_t line) {
    const std::uint32_t s = m_map(line);
    return entries(s)[m_narrow ? unsigned(m_meta[s].order) & 15 : 0];
  }

  // Forgets `line`; returns its entry (kEmpty if it was not cached). Its
  // way becomes empty and last in the recency order. Always inline: every
  // L2 miss removes its line from the L3 (and an L2 eviction of a line an
  // L1 asked for, from the L1s), and as a call it cost the walk path more
  // in call and register traffic than in work.
  __attribute__((always_inline)) std::uint64_t remove(std::uint64_t line) {
    if (m_ways == 0) return kEmpty;
    const std::uint32_t s = m_map(line);
    std::uint64_t* e = entries(s);
    if (!m_narrow) return remove_wide(e, line);
    Meta& m = m_meta[s];
    const unsigned w = find_way(m, e, line, hash_of(line));
    if (w == kNoWay) return kEmpty;
    const std::uint64_t found = e[w];
    e[w] = kEmpty;
    recency::to_back(m.order, w, m_ways);
    return found;
  }

  // Asks the host CPU to bring in the lines a lookup of `line` reads (its
  // set's metadata and entries). Changes nothing: a caller that knows which
  // lines it will look up soon overlaps their host cache misses, which
  // otherwise come one after another (the entries are read only once the
  // metadata has named the way).
  void prefetch(std::uint64_t line) const {
    if (m_ways == 0) return;
    const std::uint32_t s = m_map(line);
    if (m_narrow) host_prefetch(&m_meta[s]);
    // The first two lines of entries: all of a set of up to 16 ways (the
    // L2's 8 and the L3's 16 are aligned to them; the L1D's 12 may start
    // mid-line and end in a third, left to the demand access).
    const std::uint64_t* e = m_entries + std::size_t(s) * m_ways;
    host_prefetch(e);
    if (m_ways > 8) host_prefetch(e + 8);
  }

  // Sets the dirty bit of `line` if cached (no change to the order).
  bool mark_dirty(std::uint64_t line) {
    const std::size_t i = index_of(line);
    if (i == kNone) return false;
    m_entries[i] |= 1;
    return true;
  }

  // Inspection (tests): the entry of `line` without touching the order.
  std::uint64_t peek(std::uint64_t line) const {
    const std::size_t i = index_of(line);
    return i == kNone ? kEmpty : m_entries[i];
  }

 private:
  static constexpr unsigned kNarrowWays = recency::kMaxWays;  // nibbles in the order word
  static constexpr unsigned kNoWay = ~0u;
  static constexpr std::size_t kNone = ~std::size_t(0);

  // Per narrow set: a hash byte per way (lanes beyond the set's ways are
  // never matched: m_way_mask) and the recency order, nibble i = the way
  // at position i (0 = most recently used).
  struct alignas(32) Meta {
    std::uint8_t hash[kNarrowWays] = {};
    std::uint64_t order = 0;
  };

  static std::uint8_t hash_of(std::uint64_t line) {
    return static_cast<std::uint8_t>((line * 0x9e3779b97f4a7c15ull) >> 56);
  }
  std::uint64_t* entries(std::uint32_t set) {
    return m_entries + std::size_t(set) * m_ways;
  }

  // access_entry() and access_cold(): the same lookup, with or without
  // the most recent way checked first (a repeat then needs no reordering).
  template <bool kMostRecentFirst>
  __attribute__((always_inline)) std::uint64_t* access_impl(std::uint64_t line,
                                                            std::uint64_t bits,
                                                            std::uint64_t& victim, bool& hit) {
    if (__builtin_expect(m_ways == 0, 0)) {
      victim = kEmpty;
      hit = false;
      return nullptr;
    }
    const std::uint32_t s = m_map(line);
    std::uint64_t* e = entries(s);
    if (!m_narrow) {
      hit = access_wide(e, line, bits, victim);
      return e;
    }
    Meta& m = m_meta[s];
    if (kMostRecentFirst) {
      std::uint64_t* const mru = e + (unsigned(m.order) & 15);
      if (line_of(*mru) == line) {
        *mru |= bits;
        hit = true;
        return mru;
      }
    }
    const std::uint8_t h = hash_of(line);
    const unsigned w = find_way(m, e, line, h);
    if (w != kNoWay) {
      e[w] |= bits;
      recency::touch(m.order, w);
      hit = true;
      return e + w;
    }
    hit = false;
    return fill_last(m, e, line, bits, h, victim);
  }
  // The way of a narrow set holding `line` (kNoWay if none): the hash bytes
  // pick the candidates, the entry decides (an empty way never matches).
  unsigned find_way(const Meta& m, const std::uint64_t* e, std::uint64_t line,
                    std::uint8_t h) const {
    for (unsigned bits = match_bytes16(m.hash, h) & m_way_mask; bits; bits &= bits - 1) {
      const unsigned w = static_cast<unsigned>(__builtin_ctz(bits));
      if (line_of(e[w]) == line) return w;
    }
    return kNoWay;
  }
  // A miss in a narrow set: `line` replaces the last way (an empty one or
  // the LRU line, whose entry becomes `victim`) and becomes the most recent.
  __attribute__((always_inline)) std::uint64_t* fill_last(Meta& m, std::uint64_t* e,
                                                          std::uint64_t line, std::uint64_t bits,
                                                          std::uint8_t h, std::uint64_t& victim) {
    const unsigned v = recency::last(m.order, m_ways);
    victim = e[v];
    e[v] = (line << 1) | bits;
    m.hash[v] = h;
    recency::fill_last(m.order, v, m_order_mask);
    return e + v;
  }
  // The index in m_entries of `line`'s entry (kNone if not cached).
  std::size_t index_of(std::uint64_t line) const {
    if (m_ways == 0) return kNone;
    const std::uint32_t s = m_map(line);
    const std::size_t first = std::size_t(s) * m_ways;
    const std::uint64_t* e = m_entries + first;
    if (m_narrow) {
      const unsigned w = find_way(m_meta[s], e, line, hash_of(line));
      return w == kNoWay ? kNone : first + w;
    }
    for (unsigned i = 0; i < m_ways; ++i)
      if (line_of(e[i]) == line) return first + i;
    return kNone;
  }

  // Wide sets: entries in recency order. Search and shift in one pass.
  bool access_wide(std::uint64_t* e, std::uint64_t line, std::uint64_t bits,
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
  std::uint64_t remove_wide(std::uint64_t* e, std::uint64_t line) {
    for (unsigned i = 0; i < m_ways; ++i)
      if (line_of(e[i]) == line) {
        const std::uint64_t found = e[i];
        for (; i + 1 < m_ways; ++i) e[i] = e[i + 1];
        e[m_ways - 1] = kEmpty;
        return found;
      }
    return kEmpty;
  }

  SetMap m_map;
  unsigned m_ways = 0;
  bool m_narrow = false;
  unsigned m_way_mask = 0;          // narrow: bit w for each way
  std::uint64_t m_order_mask = 0;   // narrow: the nibbles of the set's positions
  std::vector<std::uint64_t> m_storage;  // the entries, and up to 7 before them
  std::uint64_t* m_entries = nullptr;    // per set, `ways` entries (64-byte aligned)
  std::vector<Meta> m_meta;              // per narrow set
};

}  // namespace rmpsim::memory
