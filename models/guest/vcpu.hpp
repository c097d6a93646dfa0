#pragma once
// One vCPU: a SystemC thread that replays its stream of trace events.
// Each access goes to the vCPU's MMU with the SnpAttrs extension, by a
// direct call of its child module (MmuModule::translate, the in-process
// form of its TLM b_transport, which embedders use); faults go to the guest OS model (#PF) or the
// hypervisor (#NPF), and the access is retried until it completes.
//
// Timing is kept as integer core cycles (ARCHITECTURE.md, "cycle accounting
// is integer cycles"); the thread synchronises with the SystemC kernel only
// when its local time runs a quantum ahead (temporal decoupling), so an
// access costs no wait().
#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/common/event_log.hpp"
#include "models/common/snp_ext.hpp"
#include "models/common/stats.hpp"
#include "models/guest/guest_kernel.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/miss_window.hpp"
#include "models/guest/region.hpp"
#include "models/guest/trace_feed.hpp"
#include "models/hypervisor/conversion.hpp"
#include "models/hypervisor/host_access.hpp"
#include "models/hypervisor/host_traffic.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/mmu/mmu_module.hpp"
#include "models/mmu/translation_domain.hpp"
#include "models/walker/lookahead.hpp"
#include "models/walker/pte.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::guest {

// Built by vcpu_params_from() (guest_params.hpp); the defaults live in the schema.
struct VcpuParams {
  unsigned mlp_window;              // cpu.mlp_window with cpu.core_model=window, else 0 (blocking)
  PageSize host_mapping;            // host.mapping_page_size
  PageSize host_direct_map;         // host.direct_map_page_size (HMEM lines)
  hypervisor::HostRmpPfParams host_rmp_pf;  // host.access_mode, host.on_rmp_pf
  std::uint64_t quantum_cycles;     // sim.quantum_ns in cycles
  double ghz;                       // cpu.freq_ghz (only to phrase the time-limit error)
  GuestKernelParams kernel;
  mmu::MmuParams mmu;
  mmu::MmuTiming mmu_timing;
};

// The shared models a vCPU works with.
struct VcpuContext {
  TraceFeed& feed;
  GuestOs& os;
  hypervisor::Hypervisor& hv;
  GuestState& state;
  memory::MemoryModule& mem;
  rmp::RmpTable& rmp;
  hypervisor::ConversionLog& conversions;
  EventLog* log;  // null unless --events or --vcd
  // Every vCPU's TLBs and walk caches (the guest's broadcast invalidations).
  mmu::TranslationDomain& tlbs;
  Region& region;  // the measured region (ROI lines, warm-up)
  // HMEM and RMPOPT lines (issue 19): the host traffic counters every vCPU
  // shares; RMPOPT, null unless rmp.rmpopt is on.
  hypervisor::HostTrafficCounters& host_traffic;
  rmp::Rmpopt* rmpopt;
};

// Consistency points for the invariant checker (`run --check`,
// docs/reliability.md). The vCPU calls them where the models claim a
// consistent state: after a hypervisor exit returns, after a guest #PF or a
// guest mapping change, after each non-access trace line — never between
// the steps of one KVM operation, where in-flight states are legitimate
// (snp-semantics §2.3) — and when a conversion completes. Without --check
// no CheckPoints is attached and nothing on the access path changes.
class CheckPoints {
 public:
  virtual ~CheckPoints() = default;
  virtual void consistent(const char* after) = 0;
  // The guest finished converting `entries`; `validated`: the guest also
  // PVALIDATEd them (CONVERT, lazy acceptance), not only a PSC line.
  virtual void conversion_done(const std::vector<PscPage>& entries, bool to_private,
                               bool validated) = 0;
};

// The vCPU is the CpuPort its guest kernel runs on (privately: only the
// kernel calls those methods; vcpu_snp.cpp).
class Vcpu : public sc_core::sc_module, private CpuPort {
 public:
  // Bound to the child "mmu", whose target socket SystemC requires bound;
  // accesses call the child directly (MmuModule::translate), the in-process
  // form of a b_transport through it.
  tlm_utils::simple_initiator_socket<Vcpu> socket;
  Vcpu(const sc_core::sc_module_name& name, unsigned id, const VcpuContext& ctx,
       const VcpuParams& params);

  // "cpuN": the vCPU's own counters, with its MMU's group below.
  stats::Group& stats() { return m_stats; }

  unsigned id() const { return m_id; }
  mmu::MmuModule& mmu() { return m_mmu; }
  const mmu::MmuModule& mmu() const { return m_mmu; }
  std::uint64_t cycles() const { return m_cycles; }
  std::uint64_t accesses() const { return m_accesses; }
  const GuestKernel& kernel() const { return m_kernel; }
  // An error raised inside the thread (bad trace line); the platform stops
  // the simulation and rethrows it.
  std::exception_ptr error() const { return m_error; }
  // The translation context: ASID, VMPL, gCR3, nCR3.
  const SnpAttrs& context() const { return m_attrs; }
  void set_check(CheckPoints* c) { m_check = c; }

 private:
  void register_stats();
  void run();
  void replay();
  void access(const trace::Event& ev);
  __attribute__((noinline)) void look_ahead();
  // Translates one page for an access or an instruction operand, resolving
  // faults and retrying until it succeeds; false if the guest died on the
  // way. On success m_attrs holds the SPA and GPA.
  bool access_page(std::uint64_t gva, AccessKind kind);
  // One translation of m_gva at the vCPU's local time; adds the
  // translation latency to the local time and returns it. `overlap`: an
  // access's first translation, which the window core model (if on) lets
  // overlap earlier misses instead (miss_window.hpp).
  std::uint64_t translate(bool overlap = false);
  // Window core model: wait for every outstanding miss (a serialising point).
  void drain() {
    if (__builtin_expect(m_window != nullptr, 0)) drain_window();
  }
  // Out of line, so that the blocking default's replay loop and access
  // path keep their code (callgrind: +10 instructions per access inline).
  __attribute__((noinline, cold)) void drain_window();
  __attribute__((noinline, cold)) void issue_in_window(std::uint64_t cycles);
  // The slow path: resolve the fault in m_attrs, retry until it completes.
  bool resolve_and_retry(std::uint64_t gva);
  // A #NPF exit (from a walk or an instruction); false if the guest died.
  bool exit_npf(std::uint64_t gpa, std::uint64_t exitinfo1, hypervisor::NpfResult& result);

  // Trace lines the vCPU forwards (vcpu_snp.cpp): decoded here, carried out
  // by the guest kernel or the host model.
  void pvalidate(const trace::Event& ev);
  void rmpadjust(const trace::Event& ev);
  void psc(const trace::Event& ev);
  void convert(const trace::Event& ev);
  void set_vmpl(unsigned vmpl);
  // An ROI line (region.hpp): the region begins, or the run ends.
  void roi(const trace::Event& ev);
  // A HOST line: the vCPU thread stands in for the host thread; the host
  // model says what each page cost and whether the RMP refused it.
  void host_access(const trace::Event& ev);
  // An HMEM line: this CPU's host work on host memory (HostTraffic).
  void host_mem_access(const trace::Event& ev);
  // An RMPOPT line: Linux's delayed re-scan request, or a pass now.
  void rmpopt(const trace::Event& ev);

  // CpuPort (vcpu_snp.cpp).
  std::uint16_t asid() const override { return m_attrs.asid; }
  std::uint8_t vmpl() const override { return m_attrs.vmpl; }
  std::uint64_t now() const override { return m_cycles; }
  void elapse(std::uint64_t cycles) override { advance(cycles); }
  void elapse_in_exit(std::uint64_t cycles) override;
  void charge_handler(std::uint64_t cycles) override;
  void set_atomic(bool atomic) override { m_atomic = atomic; }
  bool translate_operand(std::uint64_t gva, Operand& out) override;
  bool npt_backing(std::uint64_t gpa, std::uint64_t& spa) const override;
  ConversionCost npf_costs() const override { return m_npf_costs; }
  bool npf_exit(std::uint64_t gpa, std::uint64_t exitinfo1) override;
  std::uint64_t psc_msr(std::uint64_t request, ConversionCost& cost) override;
  hypervisor::GhcbPscResult psc_ghcb(std::uint8_t* scratch, std::size_t len, std::size_t entries,
                                     ConversionCost& cost) override;
  void broadcast_invalidate(std::uint64_t gva, std::uint64_t gpa, std::uint64_t bytes) override;
  void invalidate_gpa(std::uint64_t gpa, std::uint64_t bytes) override;
  bool npt_mapped(std::uint64_t gpa, std::uint64_t& spa) const override {
    return m_hv.npt_mapped(gpa, spa);
  }
  std::uint64_t run_vmpl(std::uint8_t vmpl) override;
  void consistent(const char* after) override { checkpoint(after); }
  void conversion_done(const std::vector<PscPage>& entries, bool to_private,
                       bool validated) override;

  void advance(std::uint64_t cycles);
  void sync();
  // Guest virtual addresses beyond what the configured paging translates
  // are bad input (see vcpu.cpp); `last` is the range's last byte.
  __attribute__((noinline, cold)) void check_gva_range(std::uint64_t first,
                                                       std::uint64_t last) const;
  // Canonical for the configured paging: bits 63..m_va_bits-1 all equal.
  bool canonical(std::uint64_t va) const { return ((va + m_va_half) >> m_va_bits) == 0; }
  // Bytes of guest virtual address space a line names (0: none).
  static std::uint64_t gva_span(const trace::Event& ev) {
    switch (ev.op) {
      case trace::Op::Read:
      case trace::Op::Write:
      case trace::Op::Exec:
      case trace::Op::Modify:
        return ev.size;
      case trace::Op::Map:
      case trace::Op::Unmap:
      case trace::Op::Convert:
        return ev.len;
      case trace::Op::Pvalidate:
      case trace::Op::Rmpadjust:
        return 1;
      default:
        return 0;
    }
  }
  // A vCPU's time stays below 2^62 cycles (D lines are refused past it).
  static constexpr std::uint64_t kMaxCycles = 1ull << 62;
  // After a MAP, UNMAP or CONVERT line: if a signal cut it short, the trace
  // ends here (docs/reliability.md "Interrupted runs").
  void stop_if_requested() {
    if (m_os.stop_requested()) m_feed.stop_now();
  }
  // A consistency point for run --check; out of line, so that the handlers
  // it sits in stay as they were without --check.
  void checkpoint(const char* after) {
    if (__builtin_expect(m_check != nullptr, 0)) check_consistent(after);
  }
  __attribute__((noinline, cold)) void check_consistent(const char* after);

  unsigned m_id;
  TraceFeed& m_feed;
  GuestOs& m_os;
  hypervisor::Hypervisor& m_hv;
  GuestState& m_state;
  hypervisor::ConversionLog& m_conversions;
  EventLog* m_log;
  mmu::TranslationDomain& m_tlbs;
  Region& m_region;
  VcpuParams m_params;
  mmu::MmuModule m_mmu;  // child module: "system.cpuN.mmu"
  memory::CacheHierarchy& m_caches;  // data accesses and fetches time here
  walker::WalkLookahead m_lookahead{m_mmu.core().walker()};
  std::uint64_t m_cycles = 0;         // local time, the ground truth
  // The guest virtual-address width (48 bits with 4-level paging) and half
  // the space it spans.
  unsigned m_va_bits = paging::va_bits(m_params.mmu.walker.guest_levels);
  std::uint64_t m_va_half = 1ull << (m_va_bits - 1);
  std::uint64_t m_synced_cycles = 0;  // local time the SystemC kernel has reached
  std::unique_ptr<MissWindow> m_window;  // cpu.core_model=window only
  std::uint64_t m_window_translate = 0;  // window: the current access's translation latency
  std::uint64_t m_l1_hit_cycles = 0;     // window: an access this fast is not a miss
  void window_access(std::uint64_t data);
  std::exception_ptr m_error;
  std::uint64_t m_line = 0;           // trace line of the event being replayed
  bool m_atomic = false;              // no kernel sync: other vCPUs must not run now

  std::uint64_t m_gva = 0;  // the page access_page() translates
  SnpAttrs m_attrs;

  // stats
  std::uint64_t m_region_cycles = 0;  // "cycles": m_cycles from the region's start, set at the end
  std::uint64_t m_accesses = 0;
  std::array<std::uint64_t, 4> m_by_kind{};  // R, W, X, M after page splitting
  std::uint64_t m_split = 0;
  std::uint64_t m_delay_cycles = 0;
  std::uint64_t m_translate_cycles = 0;
  std::uint64_t m_fault_cycles = 0;
  ConversionCost m_npf_costs;  // every #NPF exit's cost, summed (npf_costs())
  std::uint64_t m_vmpl_switches = 0;
  GuestKernel m_kernel;           // the guest kernel's SNP behaviour, run on this vCPU
  hypervisor::HostAccess m_host;  // HOST lines, on this vCPU's thread
  hypervisor::HostTraffic m_host_traffic;  // HMEM lines, on this CPU
  rmp::Rmpopt* m_rmpopt;                   // null unless rmp.rmpopt is on
  CheckPoints* m_check = nullptr;  // run --check only
  stats::Group m_stats{basename()};
};

}  // namespace rmpsim::guest
