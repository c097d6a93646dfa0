#pragma once
// A cache of translations tagged by ASID and page-table level: the one
// mechanism behind the TLBs, the nested TLB and the guest page-walk cache.
//
// An entry of level L stands for the aligned 2^level_shift(L) bytes at its
// base address (a page of size_at_level(L) for a TLB, the region a level-L
// table entry maps for the page-walk cache). Entries of every level share
// one SetAssoc array, and the key encoding lives only here: the page number
// (address >> level_shift(L)) above bit 16, L - 1 in bits 12..15 and the
// ASID in bits 0..11. The page number also picks the set, so neighbouring
// pages spread over sets.
//
// A lookup probes level 1 first and then each higher level that has live
// entries (a count per level), so the usual case — only level-1 (4K)
// entries cached — is one probe with constant shifts.
#include <array>
#include <cstdint>

#include "models/common/page_size.hpp"
#include "models/common/set_assoc.hpp"

namespace rmpsim {

template <class V, unsigned kLevels = kPageSizes>
class TranslationCache {
  static_assert(kLevels >= 1 && kLevels <= 16, "the key holds L - 1 in four bits");

 public:
  TranslationCache() = default;
  // entries == 0 disables the cache (every lookup misses, inserts drop).
  TranslationCache(unsigned entries, unsigned ways) { configure(entries, ways); }
  void configure(unsigned entries, unsigned ways) {
    m_array.configure(entries, ways);
    m_live = {};
  }

  bool enabled() const { return m_array.enabled(); }
  std::size_t size() const { return m_array.size(); }

  // The entry covering `addr` in the ASID, at the lowest level that has
  // one; refreshes its LRU state.
  V* lookup(std::uint16_t asid, std::uint64_t addr) {
    // Only level-1 entries live (the usual case): one probe.
    if (__builtin_expect(m_live[1] == m_array.size(), 1))
      return m_array.lookup(key(asid, 1, addr), addr >> level_shift(1));
    for (unsigned l = 1; l <= kLevels; ++l) {
      if (!m_live[l]) continue;  // probe only levels with live entries
      if (V* e = m_array.lookup(key(asid, l, addr), addr >> level_shift(l))) return e;
    }
    return nullptr;
  }
  // The level-`level` entry covering `addr` only.
  V* lookup_level(std::uint16_t asid, unsigned level, std::uint64_t addr) {
    return m_array.lookup(key(asid, level, addr), addr >> level_shift(level));
  }

  // Caches `v` as the level-`level` entry covering `addr` (refreshing it if
  // cached) and makes it most recently used. `absent`: a lookup of `addr`
  // has just missed, so no entry covers it and the insert need not search.
  __attribute__((always_inline)) void insert(std::uint16_t asid, unsigned level, std::uint64_t addr,
                                             const V& v, bool absent = false) {
    const std::uint64_t k = key(asid, level, addr);
    const std::uint64_t index = addr >> level_shift(level);
    const auto r = absent ? m_array.insert_absent(k, index, v) : m_array.insert(k, index, v);
    if (r.fresh) ++m_live[level];
    if (r.evicted != FlatMap::kEmpty) --m_live[level_of(r.evicted)];
  }

  void flush_all() {
    m_array.clear();
    m_live = {};
  }
  void flush_asid(std::uint16_t asid) {
    m_array.erase_if([&](std::uint64_t k, const V&) { return asid_of(k) == asid && drop(k); });
  }
  // Entries of the ASID that overlap [addr, addr + len). Compared by last
  // bytes, so a range that ends at 2^64 does not wrap to an empty one.
  void flush_range(std::uint16_t asid, std::uint64_t addr, std::uint64_t len) {
    if (len == 0) return;
    const std::uint64_t last = addr + (len - 1);
    m_array.erase_if([&](std::uint64_t k, const V&) {
      const std::uint64_t base = base_of(k);
      return asid_of(k) == asid && base <= last &&
             addr <= base + (level_bytes(level_of(k)) - 1) && drop(k);
    });
  }

  // Entries of the ASID whose value satisfies `pred` (a flush by what an
  // entry translates to rather than by its address).
  template <class Pred>
  void flush_if(std::uint16_t asid, Pred pred) {
    m_array.erase_if(
        [&](std::uint64_t k, const V& v) { return asid_of(k) == asid && pred(v) && drop(k); });
  }

  // Visits every entry as f(asid, level, base address, value), without
  // touching the LRU state (inspection: the invariant checker).
  template <class F>
  void for_each(F f) const {
    m_array.for_each(
        [&](std::uint64_t k, const V& v) { f(asid_of(k), level_of(k), base_of(k), v); });
  }

 private:
  static std::uint64_t key(std::uint16_t asid, unsigned level, std::uint64_t addr) {
    return ((addr >> level_shift(level)) << 16) | (std::uint64_t(level - 1) << 12) | asid;
  }
  static std::uint16_t asid_of(std::uint64_t k) { return static_cast<std::uint16_t>(k & 0xfff); }
  static unsigned level_of(std::uint64_t k) { return static_cast<unsigned>((k >> 12) & 0xf) + 1; }
  static std::uint64_t base_of(std::uint64_t k) { return (k >> 16) << level_shift(level_of(k)); }
  // Counts out an entry a flush removes; true, for the erase predicates.
  bool drop(std::uint64_t k) {
    --m_live[level_of(k)];
    return true;
  }

  SetAssoc<V> m_array;
  std::array<std::uint64_t, kLevels + 1> m_live{};  // live entries per level (index 0 unused)
};

}  // namespace rmpsim
