#pragma once
// The MMU of one vCPU as a loosely-timed TLM target. b_transport translates
// the access (functional core: Mmu) and annotates its latency: 0 extra
// cycles for an L1 hit (the L1 TLB lookup is hidden in the L1D access), the L2
// hit latency, or for a walk the L2 lookup plus the walk's dependent table
// references, each timed by the memory block at the moment it is issued.
// Time in and out travels on the SnpAttrs extension as integer cycles
// (now_cycles, cycles), never in the TLM delay argument: see snp_ext.hpp.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/snp_ext.hpp"
#include "models/common/stats.hpp"
#include "models/memory/memory_module.hpp"
#include "models/mmu/mmu.hpp"

namespace rmpsim::mmu {

// Built by mmu_timing_from() (mmu_params.hpp); the defaults live in the schema.
struct MmuTiming {
  std::uint64_t l2_hit_cycles;          // mmu.l2.hit_cycles
  std::uint64_t walk_cache_hit_cycles;  // walker.cache_hit_cycles (PWC / nested TLB)
};

class MmuModule : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<MmuModule> socket;
  sc_core::sc_port<memory::MemTimingIf> mem;

  // `core`: the vCPU this MMU belongs to (whose L2 its walker reads through).
  MmuModule(const sc_core::sc_module_name& name, unsigned core, memory::PhysStore& guest_mem,
            memory::PhysStore& host_mem, const MmuParams& p, const MmuTiming& t);
  // "mmu": TLBs and walker; the vCPU attaches it below its own group.
  stats::Group& stats() { return m_stats; }

  // What b_transport does, for an initiator that holds this module (the
  // platform's vCPU, its parent): translates the access `a` describes at
  // `gva` and fills in a's response fields. It skips what the TLM path
  // costs per access (the socket's indirect call, the extension lookup)
  // and keeps an L1 TLB hit that serves the access, the common case, inline
  // (0 extra cycles: the L1 TLB lookup is hidden in the L1D access).
  __attribute__((always_inline)) void translate(std::uint64_t gva, SnpAttrs& a) {
    const TlbEntry* e = m_mmu.lookup_l1(gva, a.kind, a.asid);
    if (__builtin_expect(e != nullptr && Mmu::serves(*e, a.kind), 1)) {
      m_mmu.count_l1_hit(a.kind);
      const std::uint64_t off = page_offset(*e, gva);
      a.cycles = 0;
      a.spa = e->spa_page | off;
      a.gpa = e->gpa_page | off;
      a.cbit = e->cbit;
      a.fault.kind = x86::FaultKind::None;  // the rest of a.fault is then unused
      return;
    }
    translate_past_l1(e, gva, a);
  }

  Mmu& core() { return m_mmu; }
  const Mmu& core() const { return m_mmu; }
  std::uint64_t walk_cycles() const { return m_walk_cycles; }

 private:
  void register_stats();
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // translate() past the L1 TLB lookup that found `l1_entry` (see
  // Mmu::translate_past_l1).
  __attribute__((noinline)) void translate_past_l1(const TlbEntry* l1_entry, std::uint64_t gva,
                                                   SnpAttrs& a);
  // The latency of a walk that starts at cycle `start`. Out of line: TLB
  // hits, the common case, should not carry its code and registers.
  __attribute__((noinline)) std::uint64_t time_walk(const walker::WalkOutcome& w,
                                                    std::uint64_t start);

  unsigned m_core;
  Mmu m_mmu;
  MmuTiming m_t;
  std::uint64_t m_walk_cycles = 0;
  stats::Group m_stats{basename()};
};

}  // namespace rmpsim::mmu
