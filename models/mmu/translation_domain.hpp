#pragma once
// The translation domain: every vCPU's MMU (TLBs and walk caches) of one
// guest, and the one path by which anything outside an MMU keeps them
// coherent with the tables and the RMP (snp-semantics §2.3):
//   - the guest kernel's TLB shootdowns after it changes its page tables
//     (INVLPG on this vCPU plus an IPI to the others, modelled as one
//     broadcast), and its INVLPGB after it lowers what the RMP allows;
//   - the hypervisor's flush of the guest's ASID on every vCPU after an
//     NPT or RMP change (KVM flushes explicitly; whether hardware does it
//     for RMPUPDATE is UNKNOWN, §2.3 and §8 point 2).
// The guest OS model, the hypervisor and the vCPUs hold it by reference;
// the platform attaches each vCPU's MMU once. It decides nothing about
// costs: the callers charge what the operation costs them.
#include <cstdint>
#include <vector>

#include "models/mmu/mmu.hpp"

namespace rmpsim::mmu {

class TranslationDomain {
 public:
  void attach(Mmu& mmu) { m_mmus.push_back(&mmu); }

  // Every cached translation of the GVA range in the ASID, on every vCPU
  // (TLBs and page-walk caches).
  void shootdown(std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
    for (Mmu* m : m_mmus) m->flush_gva_range(asid, gva, len);
  }
  // Every TLB entry of the ASID that translates to the GPA range, through
  // any GVA, on every vCPU.
  void shootdown_gpa(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len) {
    for (Mmu* m : m_mmus) m->flush_gpa_range(asid, gpa, len);
  }
  // The hypervisor's flush of a guest ASID on every vCPU.
  void flush_asid(std::uint16_t asid) {
    ++m_asid_flushes;
    if (m_drop_asid_flushes) return;
    for (Mmu* m : m_mmus) m->flush_asid(asid);
  }
  // ASID flushes requested so far (tests observe the coherence path here).
  std::uint64_t asid_flushes() const { return m_asid_flushes; }

  // Fault injection for the invariant checker's own tests (`run
  // --check-inject skip-hv-flush`): the hypervisor's ASID flushes do nothing.
  void drop_asid_flushes() { m_drop_asid_flushes = true; }

 private:
  std::vector<Mmu*> m_mmus;
  bool m_drop_asid_flushes = false;
  std::uint64_t m_asid_flushes = 0;
};

}  // namespace rmpsim::mmu
