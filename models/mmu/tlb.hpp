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

#include "models/common/set_assoc.hpp"
#include "models/common/types.hpp"

namespace rmpsim::mmu {

// Built by mmu_params_from() (mmu_params.hpp); the defaults live in the schema.
struct TlbGeometry {
  unsigned entries;           // 0 disables the structure
  unsigned ways;              // == entries: fully associative
  std::array<bool, 3> holds;  // per PageSize; 4K must be held
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
    // Only 4K entries live (the usual case): one probe, constant shifts.
    if (__builtin_expect((m_live[1] | m_live[2]) == 0, 1))
      return m_array.lookup(key(asid, PageSize::k4K, gva), gva >> 12);
    for (unsigned s = 0; s < 3; ++s) {
      if (!m_live[s]) continue;  // probe only sizes with live entries
      if (const TlbEntry* e = m_array.lookup(key(asid, PageSize(s), gva), gva >> (12 + 9 * s)))
        return e;
    }
    return nullptr;
  }
  // Caches the translation of `gva`: `spa`/`gpa` are the addresses of the
  // accessed byte, `size` the effective page size of the translation.
  // `absent`: a lookup of `gva` has just missed, so no entry of any size
  // covers it and the insert need not search. Inline: a walk fills two TLBs.
  __attribute__((always_inline)) void insert(std::uint16_t asid, std::uint64_t gva,
                                             std::uint64_t spa, std::uint64_t gpa, PageSize size,
                                             bool writable, bool executable, bool dirty,
                                             bool cbit, bool absent = false) {
    if (!m_array.enabled()) return;
    const PageSize stored = stored_size(size);
    const std::uint64_t mask = ~(page_bytes(stored) - 1);
    const std::uint64_t k = key(asid, stored, gva);
    const std::uint64_t index = gva >> (12 + 9 * unsigned(stored));
    const TlbEntry e{spa & mask, gpa & mask, stored, writable, executable, dirty, cbit};
    const auto r = absent ? m_array.insert_absent(k, index, e) : m_array.insert(k, index, e);
    if (r.fresh) ++m_live[unsigned(stored)];
    if (r.evicted != FlatMap::kEmpty) --m_live[unsigned(PageSize((r.evicted >> 12) & 0xf))];
  }

  void flush_all();
  void flush_asid(std::uint16_t asid);
  // Entries of the ASID that overlap [gva, gva + len).
  void flush_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len);

  std::size_t live_entries() const { return m_array.size(); }
  // Visits every live entry as f(asid, gva_base, entry), no LRU update
  // (the invariant checker, docs/reliability.md).
  template <class F>
  void for_each(F f) const {
    m_array.for_each([&](std::uint64_t k, const TlbEntry& e) {
      f(static_cast<std::uint16_t>(k & 0xfff), (k >> 16) << (12 + 9 * unsigned(e.size)), e);
    });
  }

 private:
  static std::uint64_t key(std::uint16_t asid, PageSize s, std::uint64_t gva) {
    return ((gva >> (12 + 9 * unsigned(s))) << 16) | (std::uint64_t(s) << 12) | asid;
  }
  PageSize stored_size(PageSize s) const { return m_store_as[unsigned(s)]; }

  TlbGeometry m_geo;
  // The size each page size is cached as (itself, or smashed smaller).
  std::array<PageSize, 3> m_store_as{};
  SetAssoc<TlbEntry> m_array;
  // Live entries per page size: lookups probe only sizes that have some.
  std::array<std::uint64_t, 3> m_live{};
};

}  // namespace rmpsim::mmu
