#include "models/mmu/mmu.hpp"

namespace rmpsim::mmu {

Mmu::Mmu(memory::PhysStore& guest_mem, memory::PhysStore& host_mem, const MmuParams& p)
    : m_l1i(p.l1i), m_l1d(p.l1d), m_l2(p.l2), m_walker(guest_mem, host_mem, p.walker) {}

void Mmu::refill(Tlb& l1, std::uint16_t asid, std::uint64_t gva, const TlbEntry& e) {
  l1.insert(asid, gva, e.spa_page | page_offset(e, gva), e.gpa_page | page_offset(e, gva), e.size,
            e.writable, e.executable, e.dirty, e.cbit);
}

TranslateResult Mmu::translate_past_l1(const TlbEntry* l1_entry, std::uint64_t gva,
                                       AccessKind kind, std::uint16_t asid, std::uint64_t gcr3,
                                       std::uint64_t ncr3, std::uint8_t vmpl, bool insn_operand) {
  const bool fetch = kind == AccessKind::Fetch;
  Tlb& l1 = fetch ? m_l1i : m_l1d;
  if (l1_entry) {  // a hit that does not serve the access
    count_l1_hit(kind);
    ++m_c.dirty_assists;
    return do_walk(gva, kind, asid, gcr3, ncr3, vmpl, insn_operand, l1);
  }
  ++(fetch ? m_c.l1i_misses : m_c.l1d_misses);
  if (const TlbEntry* e = m_l2.lookup(asid, gva)) {
    ++m_c.l2_hits;
    if (serves(*e, kind)) {
      const TlbEntry copy = *e;
      refill(l1, asid, gva, copy);
      return from_entry(copy, gva, HitLevel::L2);
    }
    ++m_c.dirty_assists;
    return do_walk(gva, kind, asid, gcr3, ncr3, vmpl, insn_operand, l1);
  }
  ++m_c.l2_misses;
  return do_walk(gva, kind, asid, gcr3, ncr3, vmpl, insn_operand, l1, /*missed=*/true);
}

TranslateResult Mmu::do_walk(std::uint64_t gva, AccessKind kind, std::uint16_t asid,
                             std::uint64_t gcr3, std::uint64_t ncr3, std::uint8_t vmpl,
                             bool insn_operand, Tlb& l1, bool missed) {
  ++m_c.walks;
  walker::WalkRequest req;
  req.gva = gva;
  req.kind = kind;
  req.asid = asid;
  req.vmpl = vmpl;
  req.check_final_rmp = !insn_operand;
  req.gcr3 = gcr3;
  req.ncr3 = ncr3;
  m_walker.walk(req, m_walk);
  m_c.walk_guest_refs += m_walk.guest_refs;
  m_c.walk_nested_refs += m_walk.nrefs - m_walk.guest_refs - m_walk.rmp_checks;
  m_c.rmp_refs += m_walk.rmp_checks;  // one RMP entry read per check
  m_c.walk_refs = m_c.walk_guest_refs + m_c.walk_nested_refs;
  m_c.pwc_hits += m_walk.pwc_hits;
  m_c.ntlb_hits += m_walk.ntlb_hits;
  m_c.ntlb_misses += m_walk.ntlb_misses;
  m_c.npwc_hits += m_walk.npwc_hits;
  m_c.npwc_misses += m_walk.npwc_misses;
  m_c.ad_updates += m_walk.ad_updates;

  TranslateResult r;
  r.level = HitLevel::Walk;
  r.walk = &m_walk;
  if (m_walk.fault.kind != x86::FaultKind::None) {
    const x86::Fault& f = m_walk.fault;
    switch (f.kind) {
      case x86::FaultKind::GuestPageFault: ++m_c.guest_page_faults; break;
      case x86::FaultKind::VcNotValidated: ++m_c.vc_not_validated; break;
      default:
        ++m_c.nested_page_faults;
        if (f.error_code & x86::pf::kRmp) ++(f.gpt ? m_c.rmp_npf_gpt : m_c.rmp_npf_final);
        break;
    }
    r.fault = &m_walk.fault;
    return r;
  }
  const walker::Translation& t = m_walk.tr;
  r.ok = true;
  r.spa = t.spa;
  r.gpa = t.gpa;
  r.cbit = t.cbit;
  r.size = t.size;
  // An instruction operand, and a fetch checked as private through a C=0
  // PTE (walker Translation::fetch_only, snp-semantics §1.4), are not
  // cached: a data access must not use either's RMP result.
  if (insn_operand || t.fetch_only) return r;
  // Fill both levels with the effective (smaller) page size.
  m_l2.insert(asid, gva, t.spa, t.gpa, t.size, t.writable, t.executable, t.dirty, t.cbit, missed);
  l1.insert(asid, gva, t.spa, t.gpa, t.size, t.writable, t.executable, t.dirty, t.cbit, missed);
  if (__builtin_expect(m_fill_observer != nullptr, 0)) m_fill_observer->tlb_filled(req, t);
  return r;
}

void Mmu::flush_all() {
  m_l1i.flush_all();
  m_l1d.flush_all();
  m_l2.flush_all();
  m_walker.flush_all();
}

void Mmu::flush_asid(std::uint16_t asid) {
  m_l1i.flush_asid(asid);
  m_l1d.flush_asid(asid);
  m_l2.flush_asid(asid);
  m_walker.flush_asid(asid);
}

void Mmu::flush_gva_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
  m_l1i.flush_range(asid, gva, len);
  m_l1d.flush_range(asid, gva, len);
  m_l2.flush_range(asid, gva, len);
  m_walker.flush_gva_range(asid, gva, len);
}

void Mmu::flush_gpa_range(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len) {
  m_l1i.flush_gpa_range(asid, gpa, len);
  m_l1d.flush_gpa_range(asid, gpa, len);
  m_l2.flush_gpa_range(asid, gpa, len);
}

}  // namespace rmpsim::mmu
