#include "models/rmp/rmp_instructions.hpp"

#include "models/common/x86_fault.hpp"

namespace rmpsim::rmp {

namespace {

constexpr std::uint64_t k2MMask = 0x1fffff;

bool is_2m_aligned(std::uint64_t a) { return (a & k2MMask) == 0; }

// The state fields RMPUPDATE writes; a change in any of them "reassigns" the
// page (§2.2, §6 row 18).
bool same_assignment(const RmpEntry& e, const RmpEntry& n) {
  return e.assigned == n.assigned && e.asid == n.asid && e.gpa == n.gpa && e.large == n.large &&
         e.immutable == n.immutable;
}

// Ownership checks shared by PVALIDATE and RMPADJUST (§2.2): a page the
// guest does not own raises a #NPF; a 4K request inside a 2M entry raises
// it with SIZEM (§1.5).
bool owner_fault(const Governing& g, std::uint64_t gpa, PageSize size, std::uint16_t asid,
                 GuestInsnResult& r) {
  const RmpEntry& e = g.entry;
  if (!e.assigned || e.immutable || e.asid != asid || g.page_gpa != (gpa & ~0xfffull)) {
    r.npf = true;
    r.npf_bits = x86::rmp_npf_bits(x86::RmpViolation::Entry);
    return true;
  }
  if (g.size == PageSize::k2M && size == PageSize::k4K) {
    r.npf = true;
    r.npf_bits = x86::rmp_npf_bits(x86::RmpViolation::SizeMismatch);
    return true;
  }
  return false;
}

// The PFN whose stored entry governs `spa` (the 2M head for a 2M entry).
std::uint64_t governing_pfn(const Governing& g, std::uint64_t spa) {
  return g.size == PageSize::k2M ? (spa >> 12) & ~511ull : spa >> 12;
}


std::uint32_t rmpupdate_impl(RmpTable& rmp, std::uint64_t spa, const RmpState& s,
                        std::uint16_t caller_asid) {
  if (caller_asid != 0) return kFailPermission;  // host only (§2.2)
  const bool big = s.size == PageSize::k2M;
  if ((big && !is_2m_aligned(spa)) || s.size == PageSize::k1G) return kFailInput;
  // Assigned to ASID 0 is only meaningful for immutable firmware pages.
  if (s.assigned && s.asid == 0 && !s.immutable) return kFailInput;
  const std::uint64_t pfn = spa >> 12, head_pfn = pfn & ~511ull;
  const RmpEntry head = rmp.raw(head_pfn);
  RmpEntry cur;
  if (big) {
    // A 2M entry may replace a 2M entry, or 4K entries that are all
    // unassigned; otherwise the sizes overlap (§1.5, §6 row 17).
    if (!head.large && rmp.assigned_in_region(spa) != 0) return kFailOverlap;
    cur = head;
  } else {
    if (head.large) {
      if (head.immutable) return kFailPermission;
      if (head.assigned) return kFailOverlap;  // PSMASH first (§1.5)
      // Assumption: a hypervisor-owned 2M entry may be rewritten at 4K
      // granularity; the region becomes 512 unassigned 4K entries first.
      if (rmp.in_use(head_pfn)) return kFailInUse;
      RmpEntry split = head;
      split.large = false;
      rmp.set_raw(head_pfn, split);
    }
    cur = rmp.raw(pfn);
  }
  if (cur.immutable) return kFailPermission;
  if (rmp.in_use(pfn) || (big && rmp.in_use(head_pfn))) return kFailInUse;

  RmpEntry n;
  n.assigned = s.assigned;
  n.large = big;
  n.immutable = s.immutable;
  n.asid = s.asid;
  n.gpa = s.assigned ? s.gpa & ~(page_bytes(s.size) - 1) : 0;
  if (same_assignment(cur, n)) {
    n.validated = cur.validated;
    n.vmsa = cur.vmsa;
    n.perms = cur.perms;
  } else if (n.assigned) {
    // Reassignment: not validated, not VMSA, VMPL0 all, VMPL1-3 none (§6 row 18).
    n.perms = {kPermAll, 0, 0, 0};
  }
  if (big) {
    for (std::uint64_t p = head_pfn + 1; p < head_pfn + 512; ++p) rmp.set_raw(p, RmpEntry{});
    rmp.set_raw(head_pfn, n);
  } else {
    rmp.set_raw(pfn, n);
  }
  return kSuccess;
}

std::uint32_t psmash_impl(RmpTable& rmp, std::uint64_t spa, std::uint16_t caller_asid) {
  if (caller_asid != 0) return kFailPermission;
  if (!is_2m_aligned(spa)) return kFailInput;
  const std::uint64_t head_pfn = spa >> 12;
  if (rmp.in_use(head_pfn)) return kFailInUse;
  const RmpEntry head = rmp.raw(head_pfn);
  if (!head.large) return kPsmashNotEligible;  // already 4K (§6 row 13)
  // 512 4K entries with the owner, consecutive GPAs and Validated kept (§2.2).
  for (std::uint64_t i = 0; i < 512; ++i) {
    RmpEntry e = head;
    e.large = false;
    e.gpa = head.assigned ? head.gpa + (i << 12) : 0;
    e.vmsa = i == 0 && head.vmsa;
    rmp.set_raw(head_pfn + i, e);
  }
  return kSuccess;
}

GuestInsnResult pvalidate_impl(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          bool validate, std::uint16_t asid, std::uint8_t vmpl) {
  GuestInsnResult r;
  if (vmpl != 0) {  // PVALIDATE is a VMPL0 instruction (§2.2)
    r.rc = kFailPermission;
    return r;
  }
  // A 2M request names a 2M-aligned page; whether the memory behind it is
  // one 2M RMP entry is the size check below.
  if (size == PageSize::k1G || (size == PageSize::k2M && !is_2m_aligned(gpa))) {
    r.rc = kFailInput;
    return r;
  }
  const Governing g = rmp.governing(spa);
  if (owner_fault(g, gpa, size, asid, r)) return r;
  if (g.size == PageSize::k4K && size == PageSize::k2M) {
    r.rc = kFailSizeMismatch;  // the guest falls back to 512 x 4K (§3.3)
    return r;
  }
  if (g.entry.validated == validate) {
    r.cf = true;  // nothing changed: EAX 0 with CF = 1 (§6 row 8)
    return r;
  }
  const std::uint64_t pfn = governing_pfn(g, spa);
  RmpEntry e = rmp.raw(pfn);
  e.validated = validate;
  rmp.set_raw(pfn, e);
  return r;
}

GuestInsnResult rmpadjust_impl(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          std::uint8_t target_vmpl, std::uint8_t perms, bool vmsa,
                          std::uint16_t asid, std::uint8_t vmpl) {
  GuestInsnResult r;
  if (target_vmpl > 3 || size == PageSize::k1G) {
    r.rc = kFailInput;
    return r;
  }
  // The target must be less privileged than the caller (§2.2, §6 row 20).
  if (target_vmpl <= vmpl) {
    r.rc = kFailPermission;
    return r;
  }
  if (size == PageSize::k2M && !is_2m_aligned(gpa)) {
    r.rc = kFailInput;
    return r;
  }
  const Governing g = rmp.governing(spa);
  if (owner_fault(g, gpa, size, asid, r)) return r;
  if (!g.entry.validated) {
    r.not_validated = true;  // #VC 0x404 in VeriSMo's model (§2.2)
    return r;
  }
  if (g.size == PageSize::k4K && size == PageSize::k2M) {
    r.rc = kFailSizeMismatch;
    return r;
  }
  // Only permissions the caller holds itself can be granted.
  if ((perms & ~g.entry.perms[vmpl]) != 0) {
    r.rc = kFailPermission;
    return r;
  }
  const std::uint64_t pfn = governing_pfn(g, spa);
  RmpEntry e = rmp.raw(pfn);
  e.perms[target_vmpl] = perms & kPermAll;
  if (vmpl == 0) e.vmsa = vmsa;  // the VMSA flag is honoured only at VMPL0
  rmp.set_raw(pfn, e);
  return r;
}

}  // namespace

// The public entry points: each instruction, then the observer (if any) is
// told it finished, so that an invariant checker sees whole instructions,
// never the intermediate writes of one (PSMASH writes 512 entries).
std::uint32_t rmpupdate(RmpTable& rmp, std::uint64_t spa, const RmpState& s,
                        std::uint16_t caller_asid) {
  const std::uint32_t rc = rmpupdate_impl(rmp, spa, s, caller_asid);
  rmp.instruction_done(RmpOp::Rmpupdate, spa);
  return rc;
}

std::uint32_t psmash(RmpTable& rmp, std::uint64_t spa, std::uint16_t caller_asid) {
  const std::uint32_t rc = psmash_impl(rmp, spa, caller_asid);
  rmp.instruction_done(RmpOp::Psmash, spa);
  return rc;
}

GuestInsnResult pvalidate(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          bool validate, std::uint16_t asid, std::uint8_t vmpl) {
  const GuestInsnResult r = pvalidate_impl(rmp, spa, gpa, size, validate, asid, vmpl);
  rmp.instruction_done(RmpOp::Pvalidate, spa);
  return r;
}

GuestInsnResult rmpadjust(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          std::uint8_t target_vmpl, std::uint8_t perms, bool vmsa,
                          std::uint16_t asid, std::uint8_t vmpl) {
  const GuestInsnResult r =
      rmpadjust_impl(rmp, spa, gpa, size, target_vmpl, perms, vmsa, asid, vmpl);
  rmp.instruction_done(RmpOp::Rmpadjust, spa);
  return r;
}

QueryResult rmpquery(const RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa,
                     std::uint16_t asid, std::uint8_t target_vmpl, std::uint8_t vmpl) {
  QueryResult q;
  if (target_vmpl > 3 || target_vmpl < vmpl) {
    q.rc = kFailPermission;
    return q;
  }
  const Governing g = rmp.governing(spa);
  if (!g.entry.assigned || g.entry.asid != asid || g.page_gpa != (gpa & ~0xfffull)) {
    q.rc = kFailPermission;
    return q;
  }
  q.perms = g.entry.perms[target_vmpl];
  q.vmsa = g.entry.vmsa;
  q.size = g.size;
  return q;
}

}  // namespace rmpsim::rmp
