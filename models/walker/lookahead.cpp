#include "models/walker/lookahead.hpp"

#include "models/common/host_prefetch.hpp"

namespace rmpsim::walker {

using namespace paging;

namespace {
// WalkLookahead::leaf for one store and depth.
const std::uint64_t* find_leaf(const memory::PhysStore& mem, unsigned levels, std::uint64_t root,
                               std::uint64_t va, unsigned& level) {
  std::uint64_t table = root;
  for (unsigned l = levels; l > 1; --l) {
    const std::uint64_t* e = mem.word(table + 8ull * index_at(va, l));
    if (!e) return nullptr;
    const std::uint64_t v = *e;  // an upper level: every walk reads it, cached
    if (!(v & kPresent)) return nullptr;
    if (l <= 3 && (v & kLarge)) {  // a 2M or 1G leaf
      level = l;
      return e;
    }
    table = entry_addr(v);
  }
  // A level-1 entry is a leaf whatever it holds. Not reading it is the
  // point: it is the line to prefetch, and a read would wait for it.
  level = 1;
  return mem.word(table + 8ull * index_at(va, 1));
}
}  // namespace

const std::uint64_t* WalkLookahead::memo_leaf(MemoTable& memo, const memory::PhysStore& mem,
                                              unsigned levels, std::uint64_t root,
                                              std::uint64_t va, unsigned& level,
                                              std::uint64_t* table) {
  const std::uint64_t region = va >> 21;
  Memo& m = memo[region % kMemo];
  if (m.root != root || m.region != region) {
    // Walk down to the level-2 entry (find_leaf's upper levels).
    std::uint64_t table = root;
    for (unsigned l = levels; l > 2; --l) {
      const std::uint64_t* e = mem.word(table + 8ull * index_at(va, l));
      if (!e) return nullptr;
      const std::uint64_t v = *e;
      if (!(v & kPresent)) return nullptr;
      if (l == 3 && (v & kLarge)) {  // a 1G leaf: not memoised
        level = 3;
        return e;
      }
      table = entry_addr(v);
    }
    const std::uint64_t* e2 = mem.word(table + 8ull * index_at(va, 2));
    if (!e2) return nullptr;
    m = Memo{root, region, e2};
  }
  const std::uint64_t v = *m.l2e;
  if (!(v & kPresent)) return nullptr;
  if (v & kLarge) {  // a 2M leaf
    level = 2;
    return m.l2e;
  }
  level = 1;
  if (table) *table = entry_addr(v);
  return mem.word(entry_addr(v) + 8ull * index_at(va, 1));
}

const std::uint64_t* WalkLookahead::leaf(bool nested, std::uint64_t root, std::uint64_t va,
                                         unsigned& level) const {
  return nested ? find_leaf(m_w.host_mem(), m_w.params().nested_levels, root, va, level)
                : find_leaf(m_w.guest_mem(), m_w.params().guest_levels, root, va, level);
}

void WalkLookahead::step(std::uint64_t gcr3, std::uint64_t ncr3, const Upcoming& a,
                         const Upcoming& b, const Upcoming& c) {
  if (const Upcoming& u = a; u.valid) {
    Slot& s = slot(u.seq);
    s = Slot{};
    s.seq = u.seq;
    s.gpte = memo_leaf(m_gmemo, m_w.guest_mem(), m_w.params().guest_levels, gcr3, u.gva, s.glevel,
                       &s.gpt_gpa);
    if (s.gpte) host_prefetch(s.gpte);
  }
  // B and C use what the stage before stored for the same access on an
  // earlier step; its line was asked for then and has had time to arrive.
  if (const Upcoming& u = b; u.valid) {
    Slot& s = slot(u.seq);
    if (s.seq == u.seq && s.gpte && (*s.gpte & kPresent)) {
      s.gpa = leaf_address(*s.gpte, s.glevel, u.gva);
      s.npte =
          memo_leaf(m_nmemo, m_w.host_mem(), m_w.params().nested_levels, ncr3, s.gpa, s.nlevel);
      if (s.npte) host_prefetch(s.npte);
      // The RMP entry of the guest leaf table's page: 4K tables spread
      // over the guest's memory, one per 2 MiB mapped, and their nested
      // leaf entries are few and stay cached, so it is read here at once.
      const rmp::RmpTable* rmp = m_w.rmp();
      unsigned level = 0;
      const std::uint64_t* tpte = nullptr;
      if (rmp && s.gpt_gpa != kNoTable)
        tpte = memo_leaf(m_nmemo, m_w.host_mem(), m_w.params().nested_levels, ncr3, s.gpt_gpa,
                         level);
      if (tpte && (*tpte & kPresent)) rmp->prefetch(leaf_address(*tpte, level, s.gpt_gpa));
    }
  }
  if (const Upcoming& u = c; u.valid) {
    const Slot& s = slot(u.seq);
    const rmp::RmpTable* rmp = m_w.rmp();
    if (s.seq == u.seq && s.npte && rmp && (*s.npte & kPresent))
      rmp->prefetch(leaf_address(*s.npte, s.nlevel, s.gpa));
  }
}

}  // namespace rmpsim::walker
