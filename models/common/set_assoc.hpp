#pragma once
// A set-associative, true-LRU cache of values keyed by 64-bit tags: the
// shape shared by the TLBs, the walk caches and the page-table line cache.
//
// The caller supplies two numbers per operation: `key`, which identifies an
// entry uniquely (tag, ASID, page size...; never FlatMap::kEmpty), and
// `index`, whose low bits pick the set (the page number, so neighbouring
// pages spread over sets).
//
// Two layouts, one behaviour (true LRU per set):
//  - narrow sets (up to 16 ways) are scanned for the key and, on a miss,
//    for the first invalid way or the oldest last-use stamp;
//  - wide sets (a 72-entry fully associative L1 TLB) keep a hash index of
//    the keys and a circular recency list per set with invalid ways at the
//    tail, so a hit and the victim are O(1) however many ways there are.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/common/flat_map.hpp"

namespace rmpsim {

template <class V>
class SetAssoc {
 public:
  struct InsertResult {
    std::uint64_t evicted = FlatMap::kEmpty;  // key of the valid entry evicted
    bool fresh = false;                       // the key was not cached before
  };

  SetAssoc() = default;
  // entries == 0 disables the structure (every lookup misses, inserts drop).
  SetAssoc(unsigned entries, unsigned ways) { configure(entries, ways); }

  void configure(unsigned entries, unsigned ways) {
    if (entries && (ways == 0 || entries % ways != 0))
      throw std::invalid_argument("entries must be a multiple of ways");
    m_ways = entries ? ways : 0;
    m_sets = entries ? entries / ways : 0;
    m_pow2 = m_sets && (m_sets & (m_sets - 1)) == 0;
    m_indexed = m_ways > kScanWays;
    m_size = 0;
    m_clock = 0;
    m_keys.assign(entries, FlatMap::kEmpty);
    m_vals.assign(entries, V{});
    m_stamp.assign(m_indexed ? 0 : entries, 0);
    m_prev.assign(entries, 0);
    m_next.assign(entries, 0);
    m_set.assign(entries, 0);
    m_head.assign(m_sets, 0);
    for (std::uint32_t set = 0; set < m_sets; ++set) {
      const std::uint32_t base = set * m_ways;
      m_head[set] = base;
      for (std::uint32_t w = 0; w < m_ways; ++w) {
        m_set[base + w] = set;
        m_prev[base + w] = w ? base + w - 1 : base + m_ways - 1;
        m_next[base + w] = w + 1 < m_ways ? base + w + 1 : base;
      }
    }
    m_index = FlatMap(m_indexed ? entries * 2 + 16 : 16);
  }

  unsigned capacity() const { return m_sets * m_ways; }
  bool enabled() const { return m_sets != 0; }
  std::size_t size() const { return m_size; }

  // A hit makes the entry its set's most recently used.
  V* lookup(std::uint64_t key, std::uint64_t index) {
    const std::uint32_t s = find(key, index);
    if (s == FlatMap::kNone) return nullptr;
    touch(s);
    return &m_vals[s];
  }
  // No LRU update (inspection, in-place changes).
  V* peek(std::uint64_t key, std::uint64_t index) {
    const std::uint32_t s = find(key, index);
    return s == FlatMap::kNone ? nullptr : &m_vals[s];
  }

  // Inserts or refreshes an entry and makes it most recently used.
  InsertResult insert(std::uint64_t key, std::uint64_t index, const V& v) {
    InsertResult r;
    if (!m_sets) return r;
    std::uint32_t s;
    if (m_indexed) {
      s = m_index.find(key);
      if (s == FlatMap::kNone) {
        s = m_prev[m_head[set_for(index)]];  // the tail: an invalid way, else the LRU one
        r.fresh = true;
      }
    } else {
      s = find(key, index);
      if (s == FlatMap::kNone) {
        // The first invalid way, else the least recently used one.
        const std::uint32_t base = set_for(index) * m_ways;
        const std::uint64_t* k = m_keys.data() + base;
        const std::uint64_t* st = m_stamp.data() + base;
        std::uint32_t v = 0;
        for (std::uint32_t w = 0; w < m_ways; ++w) {
          if (k[w] == FlatMap::kEmpty) {
            v = w;
            break;
          }
          if (st[w] < st[v]) v = w;
        }
        s = base + v;
        r.fresh = true;
      }
    }
    if (r.fresh) {
      if (m_keys[s] != FlatMap::kEmpty) {
        r.evicted = m_keys[s];
        if (m_indexed) m_index.erase(m_keys[s]);
      } else {
        ++m_size;
      }
      m_keys[s] = key;
      if (m_indexed) m_index.put(key, s);
    }
    m_vals[s] = v;
    touch(s);
    return r;
  }

  bool erase(std::uint64_t key, std::uint64_t index) {
    const std::uint32_t s = find(key, index);
    if (s == FlatMap::kNone) return false;
    invalidate(s);
    return true;
  }

  // Removes every entry for which pred(key, value) is true; returns how many.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::size_t n = 0;
    for (std::uint32_t s = 0; s < m_keys.size(); ++s)
      if (m_keys[s] != FlatMap::kEmpty && pred(m_keys[s], m_vals[s])) {
        invalidate(s);
        ++n;
      }
    return n;
  }

  void clear() {
    for (std::uint32_t s = 0; s < m_keys.size(); ++s)
      if (m_keys[s] != FlatMap::kEmpty) invalidate(s);
  }

 private:
  // Up to this many ways a set is scanned (16 keys: two host cache lines).
  static constexpr unsigned kScanWays = 16;

  std::uint32_t set_for(std::uint64_t index) const {
    return static_cast<std::uint32_t>(m_pow2 ? (index & (m_sets - 1)) : (index % m_sets));
  }
  std::uint32_t find(std::uint64_t key, std::uint64_t index) const {
    if (m_indexed) return m_index.find(key);
    if (!m_sets) return FlatMap::kNone;
    const std::uint32_t base = set_for(index) * m_ways;
    const std::uint64_t* k = m_keys.data() + base;
    for (std::uint32_t w = 0; w < m_ways; ++w)
      if (k[w] == key) return base + w;
    return FlatMap::kNone;
  }
  std::uint32_t set_of(std::uint32_t slot) const { return m_set[slot]; }  // no division
  void unlink(std::uint32_t s, std::uint32_t set) {
    m_next[m_prev[s]] = m_next[s];
    m_prev[m_next[s]] = m_prev[s];
    if (m_head[set] == s) m_head[set] = m_next[s];
  }
  // Links s just before the head, i.e. at the tail of the circular list.
  void link_at_tail(std::uint32_t s, std::uint32_t set) {
    const std::uint32_t h = m_head[set], tail = m_prev[h];
    m_prev[s] = tail;
    m_next[s] = h;
    m_next[tail] = s;
    m_prev[h] = s;
  }
  // Most recently used: the head of its set's list.
  void touch(std::uint32_t s) {
    if (!m_indexed) {
      m_stamp[s] = ++m_clock;
      return;
    }
    const std::uint32_t set = set_of(s);
    if (m_head[set] == s) return;  // also covers one-way sets
    unlink(s, set);
    link_at_tail(s, set);
    m_head[set] = s;
  }
  // Invalid ways go to the tail, where insert() takes its victim.
  void invalidate(std::uint32_t s) {
    if (m_indexed) m_index.erase(m_keys[s]);
    m_keys[s] = FlatMap::kEmpty;
    --m_size;
    if (!m_indexed || m_next[s] == s) return;  // scanned sets prefer invalid ways anyway
    const std::uint32_t set = set_of(s);
    unlink(s, set);
    link_at_tail(s, set);
  }

  std::uint32_t m_sets = 0, m_ways = 0;
  bool m_pow2 = false;
  bool m_indexed = false;
  std::size_t m_size = 0;
  std::vector<std::uint64_t> m_keys;
  std::vector<V> m_vals;
  std::uint64_t m_clock = 0;
  std::vector<std::uint64_t> m_stamp;         // last use of each slot (scanned sets)
  std::vector<std::uint32_t> m_prev, m_next;  // per-set circular recency lists (indexed sets)
  std::vector<std::uint32_t> m_set;           // set of each slot
  std::vector<std::uint32_t> m_head;          // most recently used way of each set
  FlatMap m_index;                            // key -> slot, wide sets only
};

}  // namespace rmpsim
