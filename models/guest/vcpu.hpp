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
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/common/event_log.hpp"
#include "models/common/snp_ext.hpp"
#include "models/common/stats.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/trace_feed.hpp"
#include "models/hypervisor/conversion.hpp"
#include "models/hypervisor/host_access.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/mmu/mmu_module.hpp"
#include "models/mmu/translation_domain.hpp"
#include "models/walker/lookahead.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::guest {

// Built by vcpu_params_from() (guest_params.hpp); the defaults live in the schema.
struct VcpuParams {
  std::uint64_t access_cycles;     // cpu.access_cycles
  std::uint64_t pvalidate_cycles;  // rmp.pvalidate_ns in cycles
  std::uint64_t rmpadjust_cycles;  // rmp.rmpadjust_ns in cycles
  std::uint64_t invlpg_cycles;     // guest.invlpg_cycles
  PageSize host_mapping;           // host.mapping_page_size
  // guest.on_vc_not_validated: Linux terminates on #VC 0x404 (§4.7); an
  // enlightened guest may validate the page in its #VC handler and retry.
  bool vc_validates;
  bool psc_msr;                     // guest.psc_protocol = msr (else ghcb)
  bool psc_2m;                      // guest.psc_2m: 2M entries where aligned
  unsigned psc_max_entries;         // guest.psc_max_entries (Linux: 64)
  std::uint64_t vc_handler_cycles;  // guest.vc_handler_ns in cycles
  std::uint64_t quantum_cycles;     // sim.quantum_ns in cycles
  std::uint64_t fs_per_cycle;       // SystemC time of one cycle (resolution 1 fs)
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
  rmp::RmpTable& rmp;
  hypervisor::ConversionLog& conversions;
  EventLog* log;  // null unless --events or --vcd
  // Every vCPU's TLBs and walk caches (the guest's broadcast invalidations).
  mmu::TranslationDomain& tlbs;
};

// Counters of the SNP instructions a vCPU executes.
struct SnpOpCounters {
  std::uint64_t pvalidate = 0;            // PVALIDATE instructions executed
  std::uint64_t pvalidate_fallbacks = 0;  // 2M PVALIDATEs redone as 512 x 4K
  std::uint64_t pvalidate_cf = 0;         // PVALIDATE that changed nothing (CF = 1)
  std::uint64_t rmpadjust = 0;
  std::uint64_t rmpadjust_failed = 0;     // RMPADJUST with a non-zero return code
  std::uint64_t rmpadjust_vc = 0;         // RMPADJUST on a page not validated: #VC 0x404
  std::uint64_t vmpl_switches = 0;
  std::uint64_t vc_validated = 0;         // #VC 0x404 resolved by validating (enlightened guest)
  std::uint64_t psc_requests = 0;         // PSC VMGEXITs (MSR or GHCB) issued
  std::uint64_t psc_pages = 0;            // 4K pages PSC requests and CONVERTs covered
  std::uint64_t converts = 0;             // CONVERT lines executed
  std::uint64_t units_accepted = 0;       // 2M units accepted lazily
};

// One page of a conversion (a PSC entry, or a piece of a CONVERT or of a
// lazily accepted unit), in the models' page sizes.
struct PscPage {
  std::uint64_t gpa;  // aligned to its size
  PageSize size;
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

class Vcpu : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Vcpu> socket;  // bound to the child "mmu"

  Vcpu(const sc_core::sc_module_name& name, unsigned id, const VcpuContext& ctx,
       const VcpuParams& params);
  ~Vcpu() override;

  // "cpuN": the vCPU's own counters, with its MMU's group below.
  stats::Group& stats() { return m_stats; }

  unsigned id() const { return m_id; }
  mmu::MmuModule& mmu() { return m_mmu; }
  const mmu::MmuModule& mmu() const { return m_mmu; }
  std::uint64_t cycles() const { return m_cycles; }
  std::uint64_t accesses() const { return m_accesses; }
  const SnpOpCounters& snp_counters() const { return m_snp; }
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
  // One b_transport of m_trans at the vCPU's local time; adds the
  // translation latency to the local time and returns it.
  std::uint64_t translate();
  // The slow path: resolve the fault in m_attrs, retry until it completes.
  bool resolve_and_retry(std::uint64_t gva);
  // Adds a finished conversion to the log (and the event stream).
  void record_conversion(const hypervisor::ConversionRecord& rec);
  void log_psc(const char* proto, std::uint64_t start, const hypervisor::ConversionCost& before,
               const hypervisor::ConversionCost& after, std::uint64_t pages);
  // A #NPF exit (from a walk or an instruction); false if the guest died.
  bool npf_exit(std::uint64_t gpa, std::uint64_t exitinfo1,
                hypervisor::NpfResult* result = nullptr);
  // The #VC 0x404 handler of an enlightened guest (guest.on_vc_not_validated
  // = validate): PVALIDATE the page and retry.
  bool validate_on_vc(const x86::Fault& f, std::uint64_t& cycles);

  // SNP operations of the trace (vcpu_snp.cpp).
  // The translation of a PVALIDATE/RMPADJUST operand; false if the guest died.
  bool translate_operand(std::uint64_t gva);
  void pvalidate(const trace::Event& ev);
  bool run_pvalidate(std::uint64_t gva, PageSize size, bool validate);
  void rmpadjust(const trace::Event& ev);
  void run_rmpadjust(const trace::Event& ev);
  void set_vmpl(unsigned vmpl);
  // A HOST line: the vCPU thread stands in for the host thread; the host
  // model says what each page cost and whether the RMP refused it.
  void host_access(const trace::Event& ev);
  // Page State Change (vcpu_psc.cpp).
  void psc(const trace::Event& ev);
  void convert(const trace::Event& ev);
  bool psc_request(const std::vector<PscPage>& entries, trace::PscOp op, trace::PscProto proto,
                   hypervisor::ConversionCost& cost);
  bool pvalidate_range(std::uint64_t gva, std::uint64_t len, bool validate,
                       const std::vector<PscPage>& entries);
  // guest.accept = lazy: accept one 2 MiB unit — PSC to private, then
  // PVALIDATE through the kernel's direct map (2M, 4K fallback).
  void accept_unit(std::uint64_t gpa);
  bool pvalidate_physical(std::uint64_t gpa, PageSize size);
  void advance(std::uint64_t cycles);
  void sync();
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
  memory::MemoryModule& m_mem;
  rmp::RmpTable& m_rmp;
  hypervisor::ConversionLog& m_conversions;
  EventLog* m_log;
  mmu::TranslationDomain& m_tlbs;
  // The guest's invalidation after it lowered what the RMP lets through for
  // the page at `gva` (PVALIDATE rescind, RMPADJUST): see vcpu_snp.cpp.
  void flush_after_rmp_change(std::uint64_t gva, std::uint64_t gpa, PageSize size);
  VcpuParams m_params;
  mmu::MmuModule m_mmu;  // child module: "system.cpuN.mmu"
  walker::WalkLookahead m_lookahead{m_mmu.core().walker()};
  std::uint64_t m_cycles = 0;         // local time, the ground truth
  std::uint64_t m_synced_cycles = 0;  // local time the SystemC kernel has reached
  std::exception_ptr m_error;
  std::uint64_t m_line = 0;           // trace line of the event being replayed
  bool m_atomic = false;              // no kernel sync: other vCPUs must not run now

  tlm::tlm_generic_payload m_trans;
  SnpAttrs m_attrs;

  // stats
  std::uint64_t m_accesses = 0;
  std::array<std::uint64_t, 4> m_by_kind{};  // R, W, X, M after page splitting
  std::uint64_t m_split = 0;
  std::uint64_t m_delay_cycles = 0;
  std::uint64_t m_translate_cycles = 0;
  std::uint64_t m_fault_cycles = 0;
  SnpOpCounters m_snp;
  hypervisor::HostAccess m_host;
  CheckPoints* m_check = nullptr;  // run --check only
  stats::Group m_stats{basename()};
};

}  // namespace rmpsim::guest
