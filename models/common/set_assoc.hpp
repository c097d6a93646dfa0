#pragma once
// A set-associative, true-LRU cache of values keyed by 64-bit tags: the
// shape shared by the TLBs and the walk caches.
//
// The caller supplies two numbers per operation: `key`, which identifies an
// entry uniquely (tag, ASID, page size...; never FlatMap::kEmpty), and
// `index`, whose low bits pick the set (the page number, so neighbouring
// pages spread over sets).
//
// Every layout maps an index to its set the same way (SetMap) and evicts
// the same way (true LRU per set, invalid ways first). Two layouts:
//  - narrow sets (up to 16 ways) keep, per set, one byte of key hash per way
//    and one byte of recency rank per way, side by side in half a host cache
//    line. A search compares the 16 hash bytes at once and checks the full
//    key only where a byte matches; the ranks are a permutation of
//    0..ways-1 (0 = most recently used) with invalid ways ranked above every
//    valid one, so the victim is always the way ranked ways-1 and a use is
//    one compare-and-add over the 16 ranks. No scan over keys or stamps.
//  - wide sets (a 72-entry fully associative L1 TLB) keep a chained hash
//    index of the keys (a bucket array and a next-slot link per slot: a
//    replaced key is unlinked and linked in a few steps, nothing ever
//    rehashes) and a circular recency list per set with invalid ways at the
//    tail, so a hit and the victim are O(1) however many ways there are.
// The narrow layout's metadata is in ranked_set.hpp, the set mapping in
// set_map.hpp (shared with the memory hierarchy's LineCache,
// models/memory/line_cache.hpp).
#include <cstdint>
#include <vector>

#include "models/common/flat_map.hpp"
#include "models/common/ranked_set.hpp"
#include "models/common/set_map.hpp"

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
    m_map = SetMap::of(entries, ways);
    m_ways = entries ? ways : 0;
    m_indexed = m_ways > kScanWays;
    m_narrow = m_map.sets && !m_indexed;
    m_size = 0;
    m_keys.assign(entries, FlatMap::kEmpty);
    m_vals.assign(entries, V{});
    m_meta.assign(m_indexed ? 0 : m_map.sets, Meta{});
    if (!m_indexed) {
      for (Meta& m : m_meta)
        for (unsigned w = 0; w < kScanWays; ++w) {
          m.hash[w] = ranked::kInvalid;
          m.rank[w] = w < m_ways ? static_cast<std::uint8_t>(w) : ranked::kPadRank;
        }
    }
    m_link.assign(m_indexed ? entries : 0, Link{});
    m_set.assign(m_indexed ? entries : 0, 0);
    m_head.assign(m_indexed ? m_map.sets : 0, 0);
    m_chain.assign(m_indexed ? entries : 0, kNoSlot);
    // At least twice as many buckets as entries: chains stay a slot or two.
    unsigned bits = 1;
    while (m_indexed && (1u << bits) < 2 * entries) ++bits;
    m_bucket.assign(m_indexed ? std::size_t(1) << bits : 0, kNoSlot);
    m_bucket_shift = 64 - bits;
    if (m_indexed) {
      for (std::uint32_t set = 0; set < m_map.sets; ++set) {
        const std::uint32_t base = set * m_ways;
        m_head[set] = base;
        for (std::uint32_t w = 0; w < m_ways; ++w) {
          m_set[base + w] = set;
          m_link[base + w].prev = w ? base + w - 1 : base + m_ways - 1;
          m_link[base + w].next = w + 1 < m_ways ? base + w + 1 : base;
        }
      }
    }
  }

  bool enabled() const { return m_map.sets != 0; }
  std::size_t size() const { return m_size; }

  // The narrow-set paths below are inline and kept small; wide sets and a
  // disabled structure take out-of-line paths, so that callers on the walk
  // path do not carry (and save registers for) code they never run.

  // A hit makes the entry its set's most recently used.
  V* lookup(std::uint64_t key, std::uint64_t index) {
    if (__builtin_expect(!m_narrow, 0)) return lookup_wide(key);
    const std::uint32_t set = set_for(index);
    const unsigned w = find_way(set, key, ranked::hash_of(key));
    if (w == kNoWay) return nullptr;
    ranked::touch(m_meta[set], w);
    return &m_vals[std::size_t(set) * m_ways + w];
  }
  // No LRU update (inspection, in-place changes).
  V* peek(std::uint64_t key, std::uint64_t index) {
    const std::uint32_t s = find(key, index);
    return s == FlatMap::kNone ? nullptr : &m_vals[s];
  }

  // Inserts or refreshes an entry and makes it most recently used.
  InsertResult insert(std::uint64_t key, std::uint64_t index, const V& v) {
    if (__builtin_expect(!m_narrow, 0)) return insert_wide(key, index, v);
    // One search for both outcomes: a hit refreshes, a miss fills the way
    // ranked last (an invalid way if the set has one, else the LRU one).
    InsertResult r;
    const std::uint32_t set = set_for(index);
    const std::size_t base = std::size_t(set) * m_ways;
    Meta& m = m_meta[set];
    const std::uint8_t h = ranked::hash_of(key);
    unsigned w = find_way(set, key, h);
    if (w == kNoWay) {
      w = ranked::last_way(m, m_ways);
      r.fresh = true;
      if (m.hash[w] != ranked::kInvalid)
        r.evicted = m_keys[base + w];
      else
        ++m_size;
      m_keys[base + w] = key;
      m.hash[w] = h;
    }
    m_vals[base + w] = v;
    ranked::touch(m, w);
    return r;
  }

  // insert() for a key the caller knows is not cached (it has just looked
  // it up and missed): the narrow path skips the search.
  InsertResult insert_absent(std::uint64_t key, std::uint64_t index, const V& v) {
    if (__builtin_expect(!m_narrow, 0)) return insert_wide_absent(key, index, v);
    InsertResult r;
    r.fresh = true;
    const std::uint32_t set = set_for(index);
    const std::size_t base = std::size_t(set) * m_ways;
    Meta& m = m_meta[set];
    const unsigned w = ranked::last_way(m, m_ways);
    if (m.hash[w] != ranked::kInvalid)
      r.evicted = m_keys[base + w];
    else
      ++m_size;
    m_keys[base + w] = key;
    m.hash[w] = ranked::hash_of(key);
    m_vals[base + w] = v;
    ranked::touch(m, w);
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

  // Visits every valid entry as f(key, value) without touching the LRU
  // state (inspection: the invariant checker).
  template <class F>
  void for_each(F f) const {
    for (std::uint32_t s = 0; s < m_keys.size(); ++s)
      if (m_keys[s] != FlatMap::kEmpty) f(m_keys[s], m_vals[s]);
  }

  void clear() {
    for (std::uint32_t s = 0; s < m_keys.size(); ++s)
      if (m_keys[s] != FlatMap::kEmpty) invalidate(s);
  }

 private:
  // The narrow layout's per-set metadata: ranked_set.hpp.
  static constexpr unsigned kScanWays = ranked::kScanWays;
  static constexpr unsigned kNoWay = 0xff;  // "not found" from find_way()
  using Meta = ranked::Meta;
  std::uint32_t set_for(std::uint64_t index) const { return m_map(index); }

  unsigned find_way(std::uint32_t set, std::uint64_t key, std::uint8_t h) const {
    const std::uint64_t* k = m_keys.data() + std::size_t(set) * m_ways;
    for (unsigned bits = ranked::match_hash(m_meta[set], h); bits; bits &= bits - 1) {
      const unsigned w = static_cast<unsigned>(__builtin_ctz(bits));
      if (k[w] == key) return w;
    }
    return kNoWay;
  }
  std::uint32_t find(std::uint64_t key, std::uint64_t index) const {
    if (m_indexed) return find_chained(key);
    if (!m_map.sets) return FlatMap::kNone;
    const std::uint32_t set = set_for(index);
    const unsigned w = find_way(set, key, ranked::hash_of(key));
    return w == kNoWay ? FlatMap::kNone : set * m_ways + w;
  }

  // Wide sets. kNoSlot == FlatMap::kNone, so find() answers alike for both.
  static constexpr std::uint32_t kNoSlot = FlatMap::kNone;

  std::uint32_t& bucket(std::uint64_t key) {
    return m_bucket[static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ull) >> m_bucket_shift)];
  }
  std::uint32_t find_chained(std::uint64_t key) const {
    std::uint32_t s =
        m_bucket[static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ull) >> m_bucket_shift)];
    while (s != kNoSlot && m_keys[s] != key) s = m_chain[s];
    return s;
  }
  // Takes slot s (holding a valid key) out of its bucket's chain.
  void unchain(std::uint32_t s) {
    std::uint32_t* p = &bucket(m_keys[s]);
    while (*p != s) p = &m_chain[*p];
    *p = m_chain[s];
  }

  // Wide sets, or a disabled structure (no sets: every lookup misses).
  V* lookup_wide(std::uint64_t key) {
    if (!m_map.sets) return nullptr;
    const std::uint32_t s = find_chained(key);
    if (s == kNoSlot) return nullptr;
    touch_listed(s);
    return &m_vals[s];
  }
  __attribute__((noinline)) InsertResult insert_wide(std::uint64_t key, std::uint64_t index,
                                                     const V& v) {
    if (!m_map.sets) return InsertResult{};
    return insert_listed(key, index, v);
  }

  __attribute__((noinline)) InsertResult insert_wide_absent(std::uint64_t key,
                                                            std::uint64_t index, const V& v) {
    if (!m_map.sets) return InsertResult{};
    return insert_listed(key, index, v, kNoSlot);
  }

  // `s`: the key's slot if the caller has searched (kNoSlot: absent).
  InsertResult insert_listed(std::uint64_t key, std::uint64_t index, const V& v) {
    return insert_listed(key, index, v, find_chained(key));
  }
  InsertResult insert_listed(std::uint64_t key, std::uint64_t index, const V& v,
                             std::uint32_t s) {
    InsertResult r;
    if (s == kNoSlot) {
      s = m_link[m_head[set_for(index)]].prev;  // the tail: an invalid way, else the LRU one
      r.fresh = true;
      if (m_keys[s] != FlatMap::kEmpty) {
        r.evicted = m_keys[s];
        unchain(s);
      } else {
        ++m_size;
      }
      m_keys[s] = key;
      std::uint32_t& b = bucket(key);
      m_chain[s] = b;
      b = s;
    }
    m_vals[s] = v;
    touch_listed(s);
    return r;
  }
  // Most recently used: the head of its set's list.
  void touch_listed(std::uint32_t s) {
    std::uint32_t& head = m_head[m_set[s]];
    if (head == s) return;  // also covers one-way sets
    Link& ls = m_link[s];
    Link& lh = m_link[head];
    if (lh.prev != s) {
      // Move s just before the head; from the tail (a victim) the list
      // already has it there.
      m_link[ls.prev].next = ls.next;
      m_link[ls.next].prev = ls.prev;
      ls.prev = lh.prev;
      ls.next = head;
      m_link[lh.prev].next = s;
      lh.prev = s;
    }
    head = s;
  }
  // Invalid ways go to the end of the recency order, where insert() takes
  // its victim.
  void invalidate(std::uint32_t s) {
    --m_size;
    if (!m_indexed) {
      m_keys[s] = FlatMap::kEmpty;
      ranked::invalidate(m_meta[s / m_ways], s % m_ways, m_ways);
      return;
    }
    unchain(s);
    m_keys[s] = FlatMap::kEmpty;
    std::uint32_t& head = m_head[m_set[s]];
    Link& ls = m_link[s];
    Link& lh = m_link[head];
    if (lh.prev == s) return;  // already last (also one-way sets)
    if (head == s) {
      head = ls.next;  // the circular list now starts after s: s is last
      return;
    }
    m_link[ls.prev].next = ls.next;
    m_link[ls.next].prev = ls.prev;
    ls.prev = lh.prev;
    ls.next = head;
    m_link[lh.prev].next = s;
    lh.prev = s;
  }

  std::uint32_t m_ways = 0;
  SetMap m_map;  // m_map.sets == 0: disabled
  bool m_indexed = false;
  bool m_narrow = false;  // enabled, with narrow sets: the inline paths
  std::size_t m_size = 0;
  std::vector<std::uint64_t> m_keys;  // FlatMap::kEmpty for an invalid way
  std::vector<V> m_vals;
  std::vector<Meta> m_meta;                   // per set (narrow sets)
  // Wide sets only:
  struct Link {
    std::uint32_t prev = 0, next = 0;
  };
  std::vector<Link> m_link;             // per-set circular recency lists
  std::vector<std::uint32_t> m_set;     // set of each slot (no division)
  std::vector<std::uint32_t> m_head;    // most recently used way of each set
  std::vector<std::uint32_t> m_bucket;  // key hash -> first slot of its chain, or kNoSlot
  std::vector<std::uint32_t> m_chain;   // slot -> next slot in its bucket's chain
  unsigned m_bucket_shift = 63;
};

}  // namespace rmpsim
