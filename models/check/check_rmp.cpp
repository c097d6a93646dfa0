// The RMP rules of the invariant checker: §1.3 entries, the 2M-region rule
// (§1.1, §1.5) and the instruction transition rules (§2.1, §2.2).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "models/check/check_util.hpp"
#include "models/check/checker.hpp"

namespace rmpsim::check {

using namespace detail;

// ---------------------------------------------------------------- RMP

void Checker::rmp_written(std::uint64_t pfn, const rmp::RmpEntry& before) {
  if (m_pending_index.find(pfn) == FlatMap::kNone) {
    m_pending_index.put(pfn, static_cast<std::uint32_t>(m_pending.size()));
    m_pending.push_back(Pending{pfn, before});
  }
  // What the change can affect: translations to this page (or its 2M
  // region) and the GFNs the entry was or is bound to.
  Dirty& d = dirty_here();
  const rmp::RmpEntry after = m_rmp.raw(pfn);
  const bool big = before.large || after.large;
  add(d.spa, big ? (pfn << 12) & ~(k2M - 1) : pfn << 12, big ? k2M : k4K);
  for (const rmp::RmpEntry* e : {&before, &after})
    if (e->assigned) add(d.gpa, e->gpa, e->large ? k2M : k4K);
}

void Checker::rmp_instruction_done(rmp::RmpOp op, std::uint64_t /*spa*/) {
  if (m_pending.empty()) return;  // the instruction changed nothing
  m_after = rmp::rmp_op_name(op);
  check_pending_rmp(rmp::rmp_op_name(op), &op);
}

void Checker::check_pending_rmp(const char* op_name, const rmp::RmpOp* op) {
  std::set<std::uint64_t> regions;
  for (const Pending& p : m_pending) {
    const rmp::RmpEntry after = m_rmp.raw(p.pfn);
    ++m_c.checks;
    ++m_c.rmp_entries;
    const std::string v = rmp::RmpTable::entry_violation(p.pfn, after);
    if (!v.empty())
      fail("RMP entry well-formedness (snp-semantics §1.3)",
           fmt::format("{} after {}; entry {}", v, op_name, entry_text(after)));
    if (after.assigned && m_hv.overlaps_npt(p.pfn << 12, after.large ? k2M : k4K))
      fail("nested page-table pages are hypervisor-owned: the walker's A/D write-backs to "
           "them are RMP-checked hypervisor writes (snp-semantics §1.4, §8 point 1)",
           fmt::format("{} assigned PFN {:#x}, a page of the nested page tables; entry {}",
                       op_name, p.pfn, entry_text(after)));
    check_entry_transition(op, p.pfn, p.before, after);
    if (op && *op == rmp::RmpOp::Psmash && p.before.large) check_psmash(p.pfn, p.before);
    regions.insert(p.pfn >> 9);
  }
  for (std::uint64_t r : regions) check_region(r);
  m_pending.clear();
  m_pending_index = FlatMap(64);
}

void Checker::check_entry_transition(const rmp::RmpOp* op, std::uint64_t pfn,
                                     const rmp::RmpEntry& before, const rmp::RmpEntry& after) {
  if (!op || before == after) return;
  ++m_c.checks;
  const char* name = rmp::rmp_op_name(*op);
  auto bad = [&](const char* invariant, const char* what) {
    fail(invariant, fmt::format("{} of PFN {:#x} {}: before {}, after {}", name, pfn, what,
                                entry_text(before), entry_text(after)));
  };
  if (before.immutable)
    bad("immutable RMP entries do not change (snp-semantics §1.3, §2.2 FAIL_PERMISSION)",
        "changed an immutable entry");
  if ((*op == rmp::RmpOp::Rmpupdate || *op == rmp::RmpOp::Psmash) && m_rmp.in_use(pfn))
    bad("in-use RMP entries do not change (snp-semantics §2.1 FAIL_INUSE, §1.6 VMSA)",
        "changed an entry that is in use");
  switch (*op) {
    case rmp::RmpOp::Rmpupdate: {
      const bool reassigned = before.assigned != after.assigned || before.asid != after.asid ||
                              before.gpa != after.gpa || before.large != after.large ||
                              before.immutable != after.immutable;
      const std::array<std::uint8_t, 4> fresh{rmp::kPermAll, 0, 0, 0};
      if (reassigned && after.assigned && (after.validated || after.vmsa || after.perms != fresh))
        bad("RMPUPDATE reassignment resets Validated, VMSA and VMPL permissions "
            "(snp-semantics §2.2, §6 row 18)",
            "reassigned the page but kept state");
      break;
    }
    case rmp::RmpOp::Pvalidate: {
      rmp::RmpEntry expect = before;
      expect.validated = after.validated;
      if (!(expect == after))
        bad("PVALIDATE changes only the Validated bit (snp-semantics §2.2)",
            "changed more than Validated");
      break;
    }
    case rmp::RmpOp::Rmpadjust: {
      rmp::RmpEntry expect = before;
      for (int v = 1; v < 4; ++v) expect.perms[v] = after.perms[v];
      expect.vmsa = after.vmsa;
      if (!(expect == after))
        bad("RMPADJUST changes only VMPL1-3 permissions and the VMSA flag (snp-semantics §2.2)",
            "changed other fields");
      break;
    }
    case rmp::RmpOp::Psmash:
      break;  // check_psmash() looks at all 512 entries at once
  }
}

void Checker::check_psmash(std::uint64_t head_pfn, const rmp::RmpEntry& hb) {
  for (std::uint64_t i = 0; i < 512; ++i) {
    const rmp::RmpEntry e = m_rmp.raw(head_pfn + i);
    ++m_c.checks;
    const bool ok = !e.large && e.assigned == hb.assigned && e.asid == hb.asid &&
                    e.immutable == hb.immutable && e.validated == hb.validated &&
                    (!hb.assigned || e.gpa == hb.gpa + (i << 12));
    if (!ok)
      fail("PSMASH keeps owner, consecutive GPAs and Validated (snp-semantics §2.2, §6 row 19)",
           fmt::format("PFN {:#x} (entry {} of the 2M entry at PFN {:#x}) is {}; the 2M entry was "
                       "{}",
                       head_pfn + i, i, head_pfn, entry_text(e), entry_text(hb)));
  }
}

void Checker::check_region(std::uint64_t region) {
  ++m_c.rmp_regions;
  ++m_c.checks;
  const std::uint64_t head_pfn = region << 9;
  const rmp::RmpEntry head = m_rmp.raw(head_pfn);
  std::uint64_t assigned = 0;
  for (std::uint64_t i = 1; i < 512; ++i) {
    const rmp::RmpEntry e = m_rmp.raw(head_pfn + i);
    if (!e.assigned) continue;
    ++assigned;
    // A 2M entry governs the whole region (§1.1); RMPUPDATE refuses a 2M
    // entry over assigned 4K entries with FAIL_OVERLAP (§1.5, §6 row 17).
    if (head.large)
      fail("2M-region rule: no assigned 4K entry under a 2M entry (snp-semantics §1.1, §1.5)",
           fmt::format("the 2M RMP entry at PFN {:#x} {} overlaps the assigned 4K entry of PFN "
                       "{:#x} {}",
                       head_pfn, entry_text(head), head_pfn + i, entry_text(e)));
  }
  if (head.large && head.assigned && (head.gpa & (k2M - 1)))
    fail("2M-region rule: a 2M entry binds a 2M-aligned GPA (snp-semantics §2.2)",
         fmt::format("the 2M RMP entry at PFN {:#x} binds GPA {:#x}", head_pfn, head.gpa));
  const std::uint64_t expect = head.large ? (head.assigned ? 512 : 0) : assigned + head.assigned;
  const std::uint64_t counted = m_rmp.assigned_in_region(head_pfn << 12);
  if (counted != expect)
    fail(
        "2M-region assigned count, used by the host 2M-mapping rule and FAIL_OVERLAP "
        "(snp-semantics §1.5)",
        fmt::format("the region at SPA {:#x} has {} assigned 4K pages but the RMP counts {}",
                    head_pfn << 12, expect, counted));
}

}  // namespace rmpsim::check
