#pragma once
// The MMU of one vCPU as a loosely-timed TLM target. b_transport translates
// the access (functional core: Mmu) and annotates its latency: 0 extra
// cycles for an L1 hit (the L1 lookup is part of cpu.access_cycles), the L2
// hit latency, or for a walk the L2 lookup plus the walk's dependent table
// references, each timed by the memory block at the moment it is issued.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/snp_ext.hpp"
#include "models/memory/memory_module.hpp"
#include "models/mmu/mmu.hpp"
#include "sim/stats.hpp"

namespace rmpsim::mmu {

// Built by mmu_timing_from() (mmu_params.hpp); the defaults live in the schema.
struct MmuTiming {
  std::uint64_t l2_hit_cycles;          // mmu.l2.hit_cycles
  std::uint64_t walk_cache_hit_cycles;  // walker.cache_hit_cycles (PWC / nested TLB)
  std::uint64_t fs_per_cycle;           // SystemC time of one cycle
};

class MmuModule : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<MmuModule> socket;
  sc_core::sc_port<memory::MemTimingIf> mem;

  MmuModule(const sc_core::sc_module_name& name, memory::PhysStore& guest_mem,
            memory::PhysStore& host_mem, const MmuParams& p, const MmuTiming& t);
  void register_stats(StatsRegistry& stats) const;

  Mmu& core() { return m_mmu; }
  const Mmu& core() const { return m_mmu; }
  std::uint64_t walk_cycles() const { return m_walk_cycles; }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // The latency of a walk that starts at cycle `start`. Out of line: TLB
  // hits, the common case, should not carry its code and registers.
  __attribute__((noinline)) std::uint64_t time_walk(const walker::WalkOutcome& w,
                                                    std::uint64_t start);

  Mmu m_mmu;
  MmuTiming m_t;
  std::uint64_t m_walk_cycles = 0;
};

}  // namespace rmpsim::mmu
