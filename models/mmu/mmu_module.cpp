#include "models/mmu/mmu_module.hpp"

namespace rmpsim::mmu {

MmuModule::MmuModule(const sc_core::sc_module_name& name, unsigned core,
                     memory::PhysStore& guest_mem, memory::PhysStore& host_mem, const MmuParams& p,
                     const MmuTiming& t)
    : sc_module(name),
      socket("socket"),
      mem("mem"),
      m_core(core),
      m_mmu(guest_mem, host_mem, p),
      m_t(t) {
  socket.register_b_transport(this, &MmuModule::b_transport);
  register_stats();
}

void MmuModule::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& /*delay*/) {
  SnpAttrs* a = trans.get_extension<SnpAttrs>();
  if (!a) {
    trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  translate(trans.get_address(), *a);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void MmuModule::translate_past_l1(const TlbEntry* l1_entry, std::uint64_t gva, SnpAttrs& a) {
  const TranslateResult r = m_mmu.translate_past_l1(l1_entry, gva, a.kind, a.asid, a.gcr3, a.ncr3,
                                                    a.vmpl, a.insn_operand);
  std::uint64_t cycles = m_t.l2_hit_cycles;  // an L2 hit, or the L2 lookup before a walk
  if (r.level == HitLevel::Walk) cycles += time_walk(*r.walk, a.now_cycles + cycles);
  a.cycles = cycles;
  a.spa = r.spa;
  a.gpa = r.gpa;
  a.cbit = r.cbit;
  if (r.ok)
    a.fault.kind = x86::FaultKind::None;  // the rest of a.fault is then unused
  else
    a.fault = *r.fault;
}

std::uint64_t MmuModule::time_walk(const walker::WalkOutcome& w, std::uint64_t start) {
  std::uint64_t walk =
      std::uint64_t(w.pwc_hits + w.ntlb_hits + w.npwc_hits) * m_t.walk_cache_hit_cycles;
  // Each reference depends on the one before it: issue them in order.
  walk += mem->reference_chain(m_core, &w.refs[0].spa, sizeof(walker::WalkRef), w.nrefs, start + walk);
  m_walk_cycles += walk;
  return walk;
}

void MmuModule::register_stats() {
  const MmuCounters& c = m_mmu.counters();
  m_stats.add_counters({
      {"itlb.hits", &c.l1i_hits, "L1 ITLB hits"},
      {"itlb.misses", &c.l1i_misses, "L1 ITLB misses"},
      {"dtlb.hits", &c.l1d_hits, "L1 DTLB hits"},
      {"dtlb.misses", &c.l1d_misses, "L1 DTLB misses"},
      {"l2tlb.hits", &c.l2_hits, "L2 TLB hits"},
      {"l2tlb.misses", &c.l2_misses, "L2 TLB misses"},
      {"dirty_assists", &c.dirty_assists,
       "TLB hits that re-walked: a write to a clean or read-only entry, or a fetch " "from a "
       "no-execute one"},
      {"walker.walks", &c.walks, "2-D page walks started"},
      {"walker.refs", &c.walk_refs, "page-table references made by walks"},
      {"walker.guest_refs", &c.walk_guest_refs, "guest page-table entries read by walks"},
      {"walker.nested_refs", &c.walk_nested_refs, "nested page-table entries read by walks"},
      {"walker.pwc_hits", &c.pwc_hits, "guest page-walk cache hits"},
      {"walker.ntlb_hits", &c.ntlb_hits, "nested TLB hits"},
      {"walker.ntlb_misses", &c.ntlb_misses, "nested TLB misses"},
      {"walker.npwc_hits", &c.npwc_hits,
       "nested page-walk cache hits (nested walks that started below the root)"},
      {"walker.npwc_misses", &c.npwc_misses,
       "nested page-walk cache misses (nested walks that started at the root)"},
      {"walker.ad_updates", &c.ad_updates, "accessed/dirty bits written back by walks"},
      {"walker.cycles", &m_walk_cycles, "cycles spent walking"},
      {"guest_page_faults", &c.guest_page_faults,
       "guest #PF raised by walks (before the guest OS resolved them)"},
      {"nested_page_faults", &c.nested_page_faults, "#NPF raised by walks"},
      {"walker.rmp_refs", &c.rmp_refs, "RMP entries read by walks (one per checked page)"},
      {"rmp_npf_final", &c.rmp_npf_final, "RMP #NPF on the final guest-physical access"},
      {"rmp_npf_gpt", &c.rmp_npf_gpt, "RMP #NPF on a guest page-table access"},
      {"vc_not_validated", &c.vc_not_validated,
       "#VC 0x404: private access to a page the guest has not validated"},
  });
}

}  // namespace rmpsim::mmu
