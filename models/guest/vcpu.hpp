#pragma once
// One vCPU: a SystemC thread that replays its stream of trace events.
// Each access goes to the vCPU's MMU as a TLM transaction (b_transport with
// the SnpAttrs extension); faults go to the guest OS model (#PF) or the
// hypervisor (#NPF), and the access is retried until it completes.
//
// Timing is kept as integer core cycles (ARCHITECTURE.md, "cycle accounting
// is integer cycles"); the thread synchronises with the SystemC kernel only
// when its local time runs a quantum ahead (temporal decoupling), so an
// access costs no wait().
#include <array>
#include <cstdint>
#include <exception>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/common/snp_ext.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/trace_feed.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/mmu/mmu_module.hpp"
#include "sim/stats.hpp"

namespace rmpsim::guest {

struct VcpuParams {
  std::uint64_t access_cycles = 4;   // cpu.access_cycles
  std::uint64_t quantum_cycles = 0;  // sim.quantum_ns in cycles
  std::uint64_t fs_per_cycle = 0;    // SystemC time of one cycle (resolution 1 fs)
  mmu::MmuParams mmu;
  mmu::MmuTiming mmu_timing;
};

// Whether the guest is still alive; shared by all vCPUs.
struct GuestState {
  bool terminated = false;
  std::string reason;
  void terminate(const std::string& why) {
    if (!terminated) reason = why;
    terminated = true;
  }
};

// The shared models a vCPU works with.
struct VcpuContext {
  TraceFeed& feed;
  GuestOs& os;
  hypervisor::Hypervisor& hv;
  GuestState& state;
  memory::MemoryModule& mem;
};

class Vcpu : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Vcpu> socket;  // bound to the child "mmu"

  Vcpu(const sc_core::sc_module_name& name, unsigned id, const VcpuContext& ctx,
       const VcpuParams& params);
  ~Vcpu() override;

  void register_stats(StatsRegistry& stats) const;

  unsigned id() const { return m_id; }
  mmu::MmuModule& mmu() { return m_mmu; }
  const mmu::MmuModule& mmu() const { return m_mmu; }
  std::uint64_t cycles() const { return m_cycles; }
  std::uint64_t accesses() const { return m_accesses; }
  // An error raised inside the thread (bad trace line); the platform stops
  // the simulation and rethrows it.
  std::exception_ptr error() const { return m_error; }

 private:
  void run();
  void replay();
  void access(const trace::Event& ev);
  // One access to one page, retried until it completes; false if the guest
  // died on the way.
  bool access_page(std::uint64_t gva, AccessKind kind);
  void advance(std::uint64_t cycles);
  void sync();

  unsigned m_id;
  TraceFeed& m_feed;
  GuestOs& m_os;
  hypervisor::Hypervisor& m_hv;
  GuestState& m_state;
  VcpuParams m_params;
  mmu::MmuModule m_mmu;  // child module: "system.cpuN.mmu"
  std::uint64_t m_cycles = 0;         // local time, the ground truth
  std::uint64_t m_synced_cycles = 0;  // local time the SystemC kernel has reached
  std::exception_ptr m_error;
  std::uint64_t m_line = 0;           // trace line of the event being replayed

  tlm::tlm_generic_payload m_trans;
  SnpAttrs m_attrs;

  // stats
  std::uint64_t m_accesses = 0;
  std::array<std::uint64_t, 4> m_by_kind{};  // R, W, X, M after page splitting
  std::uint64_t m_split = 0;
  std::uint64_t m_delay_cycles = 0;
  std::uint64_t m_translate_cycles = 0;
  std::uint64_t m_fault_cycles = 0;
  std::uint64_t m_unmodelled = 0;
};

}  // namespace rmpsim::guest
