#pragma once
// One TLB structure (L1 ITLB, L1 DTLB or L2), functional core.
//
// Page-size aware: the entries of every page size the structure holds share
// one set-associative array (Zen's L1 TLBs hold 4K, 2M and 1G entries in one
// fully associative array; its L2 holds 4K and 2M). A translation of a size
// the structure does not hold is "smashed" into the largest smaller size it
// does hold — the 1G page cached as the 2M piece that was used, as Zen's L2
// does. Entries are tagged by ASID and carry what a hit needs: the SPA,
// permissions, dirty state and the effective C-bit.
#include <array>
#include <cstdint>

#include "models/common/translation_cache.hpp"
#include "models/common/types.hpp"

namespace rmpsim::mmu {

// Built by mmu_params_from() (mmu_params.hpp); the defaults live in the schema.
struct TlbGeometry {
  unsigned entries;           // 0 disables the structure
  unsigned ways;              // == entries: fully associative
  std::array<bool, kPageSizes> holds;  // per PageSize; 4K must be held
};

struct TlbEntry {
  std::uint64_t spa_page = 0;  // base of the cached page (its stored size)
  std::uint64_t gpa_page = 0;
  PageSize size = PageSize::k4K;
  bool writable = false;
  bool executable = false;
  bool dirty = false;
  bool cbit = false;
};

class Tlb {
 public:
  explicit Tlb(const TlbGeometry& g);

  // Refreshes LRU on a hit. Inline: every access looks up its L1 TLB.
  const TlbEntry* lookup(std::uint16_t asid, std::uint64_t gva) {
    // The 4K page of the last lookup, if it hit: its entry is still the one
    // a lookup finds, and the most recent of its set (every insert and
    // flush forgets it, and a lookup of another page replaces it), so a
    // lookup would change nothing. Real traces touch a page many times in
    // a row (callgrind, lackey md5sum: -10 % instructions).
    const std::uint64_t page = gva >> 12;
    if (page == m_last_page && asid == m_last_asid && m_last) return m_last;
    m_last = m_cache.lookup(asid, gva);
    m_last_page = page;
    m_last_asid = asid;
    return m_last;
  }
  // Caches the translation of `gva`: `spa`/`gpa` are the addresses of the
  // accessed byte, `size` the effective page size of the translation.
  // `absent`: a lookup of `gva` has just missed, so no entry of any size
  // covers it and the insert need not search. Inline: a walk fills two TLBs.
  __attribute__((always_inline)) void insert(std::uint16_t asid, std::uint64_t gva,
                                             std::uint64_t spa, std::uint64_t gpa, PageSize size,
                                             bool writable, bool executable, bool dirty,
                                             bool cbit, bool absent = false) {
    m_last = nullptr;
    if (!m_cache.enabled()) return;
    const PageSize stored = stored_size(size);
    const std::uint64_t mask = ~(page_bytes(stored) - 1);
    m_cache.insert(asid, leaf_level(stored), gva,
                   TlbEntry{spa & mask, gpa & mask, stored, writable, executable, dirty, cbit},
                   absent);
  }

  void flush_all() {
    m_last = nullptr;
    m_cache.flush_all();
  }
  void flush_asid(std::uint16_t asid) {
    m_last = nullptr;
    m_cache.flush_asid(asid);
  }
  // Entries of the ASID that overlap [gva, gva + len).
  void flush_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
    m_last = nullptr;
    m_cache.flush_range(asid, gva, len);
  }
  // Entries of the ASID whose guest-physical page overlaps [gpa, gpa + len),
  // whatever GVA they translate.
  void flush_gpa_range(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len) {
    m_last = nullptr;
    m_cache.flush_if(asid, [&](const TlbEntry& e) {
      return e.gpa_page < gpa + len && gpa < e.gpa_page + page_bytes(e.size);
    });
  }

  std::size_t live_entries() const { return m_cache.size(); }
  // Visits every live entry as f(asid, gva_base, entry), no LRU update
  // (the invariant checker, docs/reliability.md).
  template <class F>
  void for_each(F f) const {
    m_cache.for_each([&](std::uint16_t asid, unsigned, std::uint64_t base, const TlbEntry& e) {
      f(asid, base, e);
    });
  }

 private:
  PageSize stored_size(PageSize s) const { return m_store_as[unsigned(s)]; }

  TlbGeometry m_geo;
  // The size each page size is cached as (itself, or smashed smaller).
  std::array<PageSize, kPageSizes> m_store_as{};
  // Entries of every size held, one array (levels 1..3 = 4K, 2M, 1G).
  TranslationCache<TlbEntry> m_cache;
  // The last lookup (see lookup()): its entry, null after a miss, an
  // insert or a flush.
  TlbEntry* m_last = nullptr;
  std::uint64_t m_last_page = 0;
  std::uint16_t m_last_asid = 0;
};

}  // namespace rmpsim::mmu
