#include "models/rmp/rmp_table.hpp"

#include <cassert>

#include <fmt/format.h>

namespace rmpsim::rmp {

// The well-formedness invariant of one entry (snp-semantics §1.3, VeriSMo's
// is_valid); "" when it holds.
std::string RmpTable::entry_violation(std::uint64_t pfn, const RmpEntry& e) {
  auto bad = [&](const char* what) { return fmt::format("RMP entry of PFN {:#x}: {}", pfn, what); };
  if (e.validated && !(e.assigned && e.asid != 0)) return bad("validated but not guest-assigned");
  if (e.asid == 0 && e.assigned && !e.immutable) return bad("assigned to ASID 0 but not immutable");
  if (e.large && (pfn & 511)) return bad("2M entry at a PFN that is not 2M aligned");
  if (e.assigned && e.perms[0] != kPermAll) return bad("VMPL0 lacks full permissions");
  if (!e.assigned && (e.validated || e.vmsa)) return bad("hypervisor-owned but validated or VMSA");
  return "";
}

const char* rmp_op_name(RmpOp op) {
  switch (op) {
    case RmpOp::Rmpupdate: return "RMPUPDATE";
    case RmpOp::Psmash: return "PSMASH";
    case RmpOp::Pvalidate: return "PVALIDATE";
    case RmpOp::Rmpadjust: return "RMPADJUST";
  }
  return "?";
}

bool RmpEntry::operator==(const RmpEntry& o) const {
  return assigned == o.assigned && large == o.large && immutable == o.immutable &&
         validated == o.validated && vmsa == o.vmsa && asid == o.asid && gpa == o.gpa &&
         perms == o.perms;
}

RmpEntry RmpTable::raw(std::uint64_t pfn) const {
  const std::uint32_t s = m_index.find(pfn);
  return s == FlatMap::kNone ? RmpEntry{} : m_entries[s];
}

Governing RmpTable::governing(std::uint64_t spa) const {
  const std::uint64_t pfn = spa >> 12;
  Recent& r = m_recent[pfn & (kRecent - 1)];
  if (r.pfn == pfn && r.epoch == m_epoch) return r.g;
  r.pfn = pfn;
  r.epoch = m_epoch;
  r.g = resolve(pfn);
  return r.g;
}

Governing RmpTable::resolve(std::uint64_t pfn) const {
  const std::uint64_t aligned = pfn & ~511ull;
  Governing g;
  const RmpEntry head = raw(aligned);
  if (head.large) {
    g.entry = head;
    g.size = PageSize::k2M;
    g.page_gpa = head.gpa + ((pfn - aligned) << 12);
  } else {
    g.entry = pfn == aligned ? head : raw(pfn);
    g.size = PageSize::k4K;
    g.page_gpa = g.entry.gpa;
  }
  return g;
}

void RmpTable::set_raw(std::uint64_t pfn, const RmpEntry& e) {
  // Debug builds check every change (the invariant mode for release
  // builds is a separate, runtime option).
  assert(entry_violation(pfn, e).empty());
  ++m_epoch;  // every cached resolution may be stale now
  std::uint32_t s = m_index.find(pfn);
  RmpEntry old;
  if (s == FlatMap::kNone) {
    if (e == RmpEntry{}) return;  // absent already means all-zero
    s = static_cast<std::uint32_t>(m_entries.size());
    m_entries.push_back(e);
    m_pfns.push_back(pfn);
    m_index.put(pfn, s);
  } else {
    old = m_entries[s];
    m_entries[s] = e;
  }
  if (m_observer) m_observer->rmp_written(pfn, old);
  auto weight = [](const RmpEntry& x) -> std::int64_t {
    return x.assigned ? (x.large ? 512 : 1) : 0;
  };
  const std::int64_t delta = weight(e) - weight(old);
  if (delta) {
    const std::uint64_t region = pfn >> 9;
    std::uint32_t n = m_region_assigned.find(region);
    if (n == FlatMap::kNone) n = 0;
    m_region_assigned.put(region, static_cast<std::uint32_t>(std::int64_t(n) + delta));
  }
}

std::uint64_t RmpTable::assigned_in_region(std::uint64_t spa) const {
  const std::uint32_t n = m_region_assigned.find(spa >> 21);
  return n == FlatMap::kNone ? 0 : n;
}

void RmpTable::set_in_use(std::uint64_t pfn, bool in_use) {
  if (in_use)
    m_in_use.put(pfn, 1);
  else
    m_in_use.erase(pfn);
}

bool RmpTable::in_use(std::uint64_t pfn) const { return m_in_use.find(pfn) != FlatMap::kNone; }


std::string RmpTable::check_invariants() const {
  for (std::size_t s = 0; s < m_entries.size(); ++s) {
    std::string v = entry_violation(m_pfns[s], m_entries[s]);
    if (!v.empty()) return v;
  }
  return "";
}

}  // namespace rmpsim::rmp
