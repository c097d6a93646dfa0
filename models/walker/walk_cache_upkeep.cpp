// The walker's side-effect-free table reads for the invariant checker
// (`run --check`) and its walk-cache invalidation: what the caches of
// nested_walker.cpp must agree with, and where their entries go.
#include "models/walker/nested_walker.hpp"

namespace rmpsim::walker {

using namespace paging;

namespace {
// The table the level-`level` entry for `addr` points to, with W/X
// accumulated from the root down to that entry (what a page-walk cache
// entry of either dimension caches); false if the walk does not reach a
// table there. Guest and nested tables share the x86-64 entry format.
bool table_below(const memory::PhysStore& mem, std::uint64_t root, unsigned levels,
                 std::uint64_t addr, unsigned level, std::uint64_t& table_out, bool& writable,
                 bool& executable) {
  std::uint64_t table = root;
  bool w = true, x = true;
  for (unsigned l = levels; l >= level; --l) {
    const std::uint64_t e = mem.read64(table + 8ull * index_at(addr, l));
    if (!(e & kPresent) || is_leaf(e, l)) return false;
    w = w && (e & kWritable);
    x = x && !(e & kNoExec);
    table = entry_addr(e);
  }
  table_out = table;
  writable = w;
  executable = x;
  return true;
}
}  // namespace

bool NestedWalker::probe_nested(std::uint64_t ncr3, std::uint64_t gpa, NestedProbe& out) const {
  std::uint64_t table = ncr3;
  bool w = true, x = true;
  for (unsigned l = m_p.nested_levels; l >= 1; --l) {
    const std::uint64_t e = m_hmem.read64(table + 8ull * index_at(gpa, l));
    if (!(e & kPresent)) return false;
    w = w && (e & kWritable);
    x = x && !(e & kNoExec);
    if (is_leaf(e, l)) {
      const PageSize size = size_at_level(l);
      out = NestedProbe{entry_addr(e) & ~(page_bytes(size) - 1), size, w, x};
      return true;
    }
    table = entry_addr(e);
  }
  return false;
}

bool NestedWalker::probe_guest_table(std::uint64_t gcr3, std::uint64_t gva, unsigned level,
                                     std::uint64_t& table_gpa, bool& writable,
                                     bool& executable) const {
  return table_below(m_gmem, gcr3, m_p.guest_levels, gva, level, table_gpa, writable, executable);
}

bool NestedWalker::probe_nested_table(std::uint64_t ncr3, std::uint64_t gpa, unsigned level,
                                      std::uint64_t& table_spa, bool& writable,
                                      bool& executable) const {
  return table_below(m_hmem, ncr3, m_p.nested_levels, gpa, level, table_spa, writable, executable);
}

// The nested PWC goes wherever the nested TLB goes: both cache what the NPT
// says about a GPA range, and an NPT change (a zap, a split or merge, a
// conversion) is flushed by GPA range or ASID (snp-semantics §2.3). An entry
// is dropped when the region it translates overlaps the range, so a change
// that frees or replaces a nested table drops the entries that point to it.
void NestedWalker::flush_all() {
  for (auto& c : m_pwc) c.flush_all();
  m_ntlb.flush_all();
  m_npwc.flush_all();
}

void NestedWalker::flush_asid(std::uint16_t asid) {
  for (auto& c : m_pwc) c.flush_asid(asid);
  m_ntlb.flush_asid(asid);
  m_npwc.flush_asid(asid);
}

void NestedWalker::flush_gva_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
  for (auto& c : m_pwc) c.flush_range(asid, gva, len);
}

void NestedWalker::flush_gpa_range(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len) {
  m_ntlb.flush_range(asid, gpa, len);
  m_npwc.flush_range(asid, gpa, len);
}

}  // namespace rmpsim::walker
