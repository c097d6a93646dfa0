#include "models/rmp/rmp_table.hpp"

#include <cassert>

#include <fmt/format.h>

namespace rmpsim::rmp {

RmpTable::RmpTable() {
  m_stats.add_formula("stored_entries", [this] { return stats::Value(stored_entries()); },
                      "RMP entries ever written (the table is sparse)");
}

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

const RmpTable::Stored RmpTable::kZero{};

RmpEntry RmpTable::unpack(const Stored& p) {
  RmpEntry e;
  e.assigned = p.flags & kAssigned;
  e.large = p.flags & kLarge;
  e.immutable = p.flags & kImmutable;
  e.validated = p.flags & kValidated;
  e.vmsa = p.flags & kVmsa;
  e.asid = p.asid;
  e.gpa = p.gpa;
  e.perms = p.perms;
  return e;
}

RmpTable::Stored RmpTable::pack(const RmpEntry& e) {
  Stored p;
  p.gpa = e.gpa;
  p.asid = e.asid;
  p.flags = static_cast<std::uint8_t>((e.assigned ? kAssigned : 0) | (e.large ? kLarge : 0) |
                                      (e.immutable ? kImmutable : 0) |
                                      (e.validated ? kValidated : 0) | (e.vmsa ? kVmsa : 0));
  p.perms = e.perms;
  return p;
}

RmpEntry RmpTable::raw(std::uint64_t pfn) const {
  const Region* r = region(pfn >> 9);
  return r ? unpack(r->e[pfn & 511]) : RmpEntry{};
}

Governing RmpTable::governing(std::uint64_t spa) const {
  Governing g;
  g.entry = unpack(governing_stored(spa, g.size, g.page_gpa));
  return g;
}

void RmpTable::set_raw(std::uint64_t pfn, const RmpEntry& e) {
  // Debug builds check every change (the invariant mode for release
  // builds is a separate, runtime option).
  assert(entry_violation(pfn, e).empty());
  const bool zero = e == RmpEntry{};
  const std::uint64_t rn = pfn >> 9;
  Region* rp = untag(m_region_dir.get(rn));
  if (!rp) {
    if (zero) return;  // absent already means all-zero
    rp = m_regions.take();  // zeroed: its entries are initialised
    m_region_dir.set(rn, rp);
  }
  Region& r = *rp;
  Stored& p = r.e[pfn & 511];
  if (!(p.flags & kStored)) {
    if (zero) return;
    m_pfns.push_back(pfn);
  }
  const RmpEntry old = unpack(p);
  p = pack(e);
  p.flags |= kStored;  // a stored entry stays stored, also when zeroed
  if ((pfn & 511) == 0) m_region_dir.set(rn, tag(rp, e.large));  // the head: its 2M bit
  if (m_observer) m_observer->rmp_written(pfn, old);
  auto weight = [](const RmpEntry& x) -> std::int64_t {
    return x.assigned ? (x.large ? 512 : 1) : 0;
  };
  const std::int64_t delta = weight(e) - weight(old);
  if (delta != 0) {
    const std::uint32_t had = m_assigned_2m.find(rn);
    const auto now = static_cast<std::uint32_t>(
        std::int64_t(had == FlatMap::kNone ? 0 : had) + delta);
    if (now == 0)
      m_assigned_2m.erase(rn);
    else
      m_assigned_2m.put(rn, now);
    std::uint64_t& g = m_assigned_1g[pfn >> 18];
    g = static_cast<std::uint64_t>(std::int64_t(g) + delta);
    if (g == 0) m_assigned_1g.erase(pfn >> 18);
  }
  if (e.assigned && !old.assigned && m_assign_observer)
    m_assign_observer->page_assigned(pfn << 12);
}

std::uint64_t RmpTable::assigned_in_1g(std::uint64_t spa) const {
  const auto it = m_assigned_1g.find(spa >> 30);
  return it == m_assigned_1g.end() ? 0 : it->second;
}

std::uint64_t RmpTable::assigned_in_region(std::uint64_t spa) const {
  const std::uint32_t n = m_assigned_2m.find(spa >> 21);
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
  for (const std::uint64_t pfn : m_pfns) {
    std::string v = entry_violation(pfn, raw(pfn));
    if (!v.empty()) return v;
  }
  return "";
}

}  // namespace rmpsim::rmp
