#include "models/walker/page_table.hpp"

#include <algorithm>

namespace rmpsim::paging {

PageTableEditor::PageTableEditor(memory::PhysStore& mem, unsigned levels,
                                 std::function<std::uint64_t()> alloc_table,
                                 std::uint64_t table_flags)
    : m_mem(mem), m_levels(levels), m_alloc(std::move(alloc_table)), m_table_flags(table_flags) {}

std::optional<std::uint64_t> PageTableEditor::entry_slot(std::uint64_t root, std::uint64_t va,
                                                         unsigned level, bool create,
                                                         bool* blocked_by_leaf) const {
  std::uint64_t table = root;
  for (unsigned l = m_levels; l > level; --l) {
    const std::uint64_t slot = table + 8ull * index_at(va, l);
    std::uint64_t e = m_mem.read64(slot);
    if (e & kPresent) {
      if (is_leaf(e, l)) {
        if (blocked_by_leaf) *blocked_by_leaf = true;
        return std::nullopt;
      }
    } else {
      if (!create) return std::nullopt;
      e = m_alloc() | m_table_flags | kPresent;
      m_mem.write64(slot, e);
    }
    table = entry_addr(e);
  }
  return table + 8ull * index_at(va, level);
}

MapStatus PageTableEditor::map(std::uint64_t root, std::uint64_t va, std::uint64_t pa,
                               PageSize size, std::uint64_t leaf_flags, bool replace_smaller,
                               bool* replaced) {
  const unsigned level = leaf_level(size);
  bool blocked = false;
  auto slot = entry_slot(root, va, level, /*create=*/true, &blocked);
  if (!slot) return MapStatus::CoveredByLargerPage;
  const std::uint64_t old = m_mem.read64(*slot);
  if (!replace_smaller && (old & kPresent) && !is_leaf(old, level))
    return MapStatus::HasSmallerPages;
  if (replaced) *replaced = old & kPresent;
  std::uint64_t e = (pa & kAddrMask & ~(page_bytes(size) - 1)) | leaf_flags | kPresent;
  if (level > 1) e |= kLarge;
  m_mem.write64(*slot, e);
  if (m_on_change) m_on_change(va & ~(page_bytes(size) - 1), page_bytes(size));
  return MapStatus::Ok;
}

std::optional<PageTableEditor::Leaf> PageTableEditor::find_leaf(std::uint64_t root,
                                                                std::uint64_t va) const {
  std::uint64_t table = root;
  for (unsigned l = m_levels; l >= 1; --l) {
    const std::uint64_t slot = table + 8ull * index_at(va, l);
    const std::uint64_t e = m_mem.read64(slot);
    if (!(e & kPresent)) return std::nullopt;
    if (is_leaf(e, l))
      return Leaf{slot, l, Mapping{entry_addr(e) & ~(level_bytes(l) - 1), size_at_level(l), e}};
    table = entry_addr(e);
  }
  return std::nullopt;
}

std::optional<Mapping> PageTableEditor::lookup(std::uint64_t root, std::uint64_t va) const {
  const auto leaf = find_leaf(root, va);
  return leaf ? std::optional<Mapping>(leaf->mapping) : std::nullopt;
}

std::optional<std::uint64_t> PageTableEditor::first_mapped(std::uint64_t root, std::uint64_t va,
                                                         std::uint64_t last) const {
  // Only canonical addresses can be mapped; searching each canonical half
  // on its own keeps the root index from wrapping into the other half.
  const unsigned bits = va_bits(m_levels);
  const std::uint64_t low_last = (1ull << (bits - 1)) - 1, high_first = ~low_last;
  if (va > last) return std::nullopt;
  if (va <= low_last)
    if (auto a = first_mapped_below(root, m_levels, va, std::min(last, low_last))) return a;
  if (last >= high_first) return first_mapped_below(root, m_levels, std::max(va, high_first), last);
  return std::nullopt;
}

// [va, last] lies within the part of the address space `table` maps.
std::optional<std::uint64_t> PageTableEditor::first_mapped_below(std::uint64_t table,
                                                               unsigned level, std::uint64_t va,
                                                               std::uint64_t last) const {
  const std::uint64_t span = level_bytes(level);
  for (;;) {
    const std::uint64_t e = m_mem.read64(table + 8ull * index_at(va, level));
    // The last byte this entry maps: inclusive bounds, so a range that ends
    // at 2^64 does not wrap.
    const std::uint64_t entry_last = va | (span - 1);
    if (e & kPresent) {
      if (is_leaf(e, level)) return va;
      if (auto a = first_mapped_below(entry_addr(e), level - 1, va, std::min(last, entry_last)))
        return a;
    }
    if (entry_last >= last) return std::nullopt;
    va = entry_last + 1;
  }
}

std::optional<Mapping> PageTableEditor::unmap(std::uint64_t root, std::uint64_t va) {
  const auto leaf = find_leaf(root, va);
  if (!leaf) return std::nullopt;
  m_mem.write64(leaf->slot, 0);
  if (m_on_change) m_on_change(va & ~(level_bytes(leaf->level) - 1), level_bytes(leaf->level));
  return leaf->mapping;
}

std::optional<Mapping> PageTableEditor::split(std::uint64_t root, std::uint64_t va) {
  const auto leaf = find_leaf(root, va);
  if (!leaf || leaf->level == 1) return std::nullopt;
  const unsigned l = leaf->level;
  const std::uint64_t e = leaf->mapping.pte;
  // The pieces keep every flag of the old leaf (A and D included, as
  // Linux's split does); only the PS bit goes where they are 4K leaves.
  const std::uint64_t flags = (e & ~kAddrMask) & (l - 1 == 1 ? ~kLarge : ~0ull);
  const std::uint64_t sub = m_alloc();
  for (unsigned i = 0; i < 512; ++i)
    m_mem.write64(sub + 8ull * i, (leaf->mapping.pa + i * level_bytes(l - 1)) | flags);
  m_mem.write64(leaf->slot, sub | m_table_flags | kPresent);
  if (m_on_change) m_on_change(va & ~(level_bytes(l) - 1), level_bytes(l));
  return leaf->mapping;
}

bool PageTableEditor::set_leaf_flags(std::uint64_t root, std::uint64_t va, std::uint64_t set,
                                     std::uint64_t clear) {
  const auto leaf = find_leaf(root, va);
  if (!leaf) return false;
  m_mem.write64(leaf->slot, (leaf->mapping.pte | set) & ~clear);
  if (m_on_change) m_on_change(va & ~(level_bytes(leaf->level) - 1), level_bytes(leaf->level));
  return true;
}

void PageTableEditor::for_each_leaf(
    std::uint64_t root, const std::function<void(std::uint64_t, const Mapping&)>& f) const {
  leaves_below(root, m_levels, 0, f);
}

void PageTableEditor::leaves_below(
    std::uint64_t table, unsigned level, std::uint64_t va_base,
    const std::function<void(std::uint64_t, const Mapping&)>& f) const {
  for (unsigned i = 0; i < 512; ++i) {
    const std::uint64_t e = m_mem.read64(table + 8ull * i);
    if (!(e & kPresent)) continue;
    const std::uint64_t va = va_base + i * level_bytes(level);
    if (is_leaf(e, level))
      f(va, Mapping{entry_addr(e) & ~(level_bytes(level) - 1), size_at_level(level), e});
    else
      leaves_below(entry_addr(e), level - 1, va, f);
  }
}

}  // namespace rmpsim::paging
