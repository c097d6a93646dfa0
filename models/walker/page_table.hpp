#pragma once
// Builds and edits real radix page tables in a PhysStore. The guest OS model
// uses it for the guest page tables (in guest-physical memory) and the
// hypervisor model for the nested page tables (in host memory); the walker
// reads the same bytes.
#include <cstdint>
#include <functional>
#include <optional>

#include "models/memory/phys_store.hpp"
#include "models/walker/pte.hpp"

namespace rmpsim::paging {

struct Mapping {
  std::uint64_t pa;    // base of the leaf's frame
  PageSize size;
  std::uint64_t pte;   // the leaf entry
};

enum class MapStatus {
  Ok,
  CoveredByLargerPage,  // a larger leaf already maps this address
  HasSmallerPages,      // a table of smaller mappings sits where the leaf would go
};

class PageTableEditor {
 public:
  // `alloc_table` returns the physical address of a fresh, zeroed 4K frame
  // for a table page; `table_flags` are the bits of non-leaf entries
  // (present, writable, user, and the C-bit for guest tables).
  PageTableEditor(memory::PhysStore& mem, unsigned levels,
                  std::function<std::uint64_t()> alloc_table, std::uint64_t table_flags);

  unsigned levels() const { return m_levels; }
  std::uint64_t new_root() { return m_alloc(); }

  // Installs a leaf mapping va -> pa of `size` with `leaf_flags` (present is
  // added). An existing leaf of the same size is replaced. A table of smaller
  // mappings at the leaf's level is discarded when `replace_smaller` (the
  // caller must then flush translations of the whole range), else reported.
  // `replaced` (optional) tells whether a present entry — a leaf, or a
  // table of smaller mappings — was overwritten: translations of the range
  // may then be cached and must be flushed.
  MapStatus map(std::uint64_t root, std::uint64_t va, std::uint64_t pa, PageSize size,
                std::uint64_t leaf_flags, bool replace_smaller = true, bool* replaced = nullptr);
  // Removes the leaf that maps va, whatever its size.
  std::optional<Mapping> unmap(std::uint64_t root, std::uint64_t va);
  // Splits the large leaf (2M or 1G) that maps va into a table of 512 leaves
  // one level down that map the same frames with the same flags (what
  // Linux's split_huge_pmd does before it zaps part of a huge page). Returns
  // the leaf that was split, nullopt if va is unmapped or mapped by a 4K
  // leaf. The caller must flush the translations of the whole old leaf.
  std::optional<Mapping> split(std::uint64_t root, std::uint64_t va);
  // The leaf that maps va (no side effects: no A/D updates, no timing).
  std::optional<Mapping> lookup(std::uint64_t root, std::uint64_t va) const;
  // The lowest address in [va, last] that a leaf maps, or nullopt. Skips
  // non-present entries a whole table entry at a time, so the cost follows
  // the tables that exist, not the range's size (a huge UNMAP, issue 14).
  std::optional<std::uint64_t> first_mapped(std::uint64_t root, std::uint64_t va,
                                            std::uint64_t last) const;
  // Rewrites the leaf's flags (keeping its address); false if unmapped.
  bool set_leaf_flags(std::uint64_t root, std::uint64_t va, std::uint64_t set, std::uint64_t clear);

  // Told of every mapping change as (va, len): map, unmap, set_leaf_flags
  // (the invariant checker, `run --check`). Creating empty tables is not a
  // change of any mapping.
  void on_change(std::function<void(std::uint64_t, std::uint64_t)> f) { m_on_change = std::move(f); }
  // Visits every leaf under `root` as f(va, Mapping), in address order.
  void for_each_leaf(std::uint64_t root,
                     const std::function<void(std::uint64_t, const Mapping&)>& f) const;

 private:
  // Address of the entry for va at `level` on the way down, creating tables
  // above it when `create`; nullopt if a leaf above blocks or (no create) a
  // table is missing. `blocked_by_leaf` reports the first case.
  std::optional<std::uint64_t> entry_slot(std::uint64_t root, std::uint64_t va, unsigned level,
                                          bool create, bool* blocked_by_leaf) const;
  // The leaf that maps va: its entry's address, level and mapping.
  struct Leaf {
    std::uint64_t slot;
    unsigned level;
    Mapping mapping;
  };
  std::optional<Leaf> find_leaf(std::uint64_t root, std::uint64_t va) const;

  memory::PhysStore& m_mem;
  unsigned m_levels;
  std::function<std::uint64_t()> m_alloc;
  std::uint64_t m_table_flags;
  std::function<void(std::uint64_t, std::uint64_t)> m_on_change;
  std::optional<std::uint64_t> first_mapped_below(std::uint64_t table, unsigned level,
                                                  std::uint64_t va, std::uint64_t last) const;
  void leaves_below(std::uint64_t table, unsigned level, std::uint64_t va_base,
                    const std::function<void(std::uint64_t, const Mapping&)>& f) const;
};

}  // namespace rmpsim::paging
