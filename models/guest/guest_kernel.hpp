#pragma once
// The Linux guest kernel's SNP behaviour (functional core, no SystemC): how
// it validates and converts memory and what it does when that fails.
//   - PVALIDATE with the 2M->4K fallback on FAIL_SIZEMISMATCH, and Linux's
//     termination on any other failure, CF = 1 included (snp-semantics §3.3,
//     §6 rows 8-9); the broadcast invalidation after a rescind;
//   - RMPADJUST (an SVSM's or VMPL0 kernel's: errors are counted, a page not
//     validated is #VC 0x404);
//   - the #VC 0x404 handler (Linux has none and terminates, §4.7; an
//     enlightened guest, guest.on_vc_not_validated = validate, PVALIDATEs);
//   - the guest #PF handler's lazy acceptance of 2 MiB units (§4.7);
//   - Page State Change requests over the MSR or GHCB protocol (§3.1, §3.2)
//     with Linux's checks of the answers, and CONVERT in Linux's order
//     (__set_memory_enc_pgtable, §3.3).
// It runs on one vCPU through `CpuPort` — operand translation, exits, time —
// and uses the guest OS model (mappings), the RMP instructions and the
// conversion log directly.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/conversion_record.hpp"
#include "models/common/page_size.hpp"
#include "models/common/stats.hpp"
#include "models/common/x86_fault.hpp"
#include "models/guest/guest_os.hpp"
#include "models/hypervisor/conversion.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/rmp/rmp_table.hpp"
#include "traces/event.hpp"

namespace rmpsim::guest {

// Built by guest_kernel_params_from() (guest_params.hpp).
struct GuestKernelParams {
  std::uint64_t pvalidate_cycles;  // rmp.pvalidate_ns in cycles
  std::uint64_t rmpadjust_cycles;  // rmp.rmpadjust_ns in cycles
  std::uint64_t invlpg_cycles;     // guest.invlpg_cycles
  // guest.on_vc_not_validated: Linux terminates on #VC 0x404 (§4.7); an
  // enlightened guest may validate the page in its #VC handler and retry.
  bool vc_validates;
  std::uint64_t vc_handler_cycles;  // guest.vc_handler_ns in cycles
  bool psc_msr;                     // guest.psc_protocol = msr (else ghcb)
  bool psc_2m;                      // guest.psc_2m: 2M entries where aligned
  unsigned psc_max_entries;         // guest.psc_max_entries (Linux: 64)
  // guest.vmpl and guest.svsm (guest_params.cpp): the VMPL the kernel runs
  // at, and whether a COCONUT-SVSM at VMPL 0 does its PVALIDATEs.
  std::uint8_t vmpl = 0;
  bool svsm = false;
  std::uint64_t svsm_vmsa_switch_cycles = 0;  // guest.svsm_vmsa_switch_ns in cycles
  std::uint64_t svsm_zero_4k_cycles = 0;      // guest.svsm_zero_4k_ns in cycles
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

// One page of a conversion (a PSC entry, or a piece of a CONVERT or of a
// lazily accepted unit), in the models' page sizes.
struct PscPage {
  std::uint64_t gpa;  // aligned to its size
  PageSize size;
};

// A trace line the kernel cannot carry out (a CONVERT of a range that is
// not mapped); the vCPU reports it with the line's place in the trace.
class BadLine : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the guest kernel needs of the CPU it runs on. Implemented by
// guest::Vcpu; the unit tests drive the kernel through a fake.
class CpuPort {
 public:
  virtual ~CpuPort() = default;

  // The translation context the kernel's instructions run in.
  virtual std::uint16_t asid() const = 0;
  virtual std::uint8_t vmpl() const = 0;

  // Time, in core cycles. now(): the CPU's current cycle. elapse(): the
  // kernel's own work; elapse_in_exit(): time the guest spent in exits it
  // asked for (PSC). Both may let other vCPUs run. charge_handler(): fault
  // handling inside the resolution of a fault, counted as fault time, never
  // yielding. While set_atomic(true) no other vCPU runs.
  virtual std::uint64_t now() const = 0;
  virtual void elapse(std::uint64_t cycles) = 0;
  virtual void elapse_in_exit(std::uint64_t cycles) = 0;
  virtual void charge_handler(std::uint64_t cycles) = 0;
  virtual void set_atomic(bool atomic) = 0;

  // Translates the operand of an SNP instruction (without the final RMP
  // check, which the instruction makes itself), resolving faults on the
  // way; false if the guest died.
  struct Operand {
    std::uint64_t gpa = 0;
    std::uint64_t spa = 0;
  };
  virtual bool translate_operand(std::uint64_t gva, Operand& out) = 0;
  // The host frame the nested page tables map `gpa` to, if any (the
  // kernel's direct-map access reaches the NPT like any private access).
  virtual bool npt_backing(std::uint64_t gpa, std::uint64_t& spa) const = 0;
  // The host frame the NPT currently maps `gpa` to, if it does (the SVSM's
  // accesses by GPA go through the NPT, docs/snp-semantics.md §3.4).
  virtual bool npt_mapped(std::uint64_t gpa, std::uint64_t& spa) const = 0;

  // Exits to the hypervisor. A #NPF an instruction raised: false if the
  // guest died. PSC VMGEXITs: the hypervisor's answer; `cost` accumulates
  // (the CPU charges it when the kernel says, elapse_in_exit). A GHCB
  // request's descriptor is in `scratch[0..len)`, `entries` entries long.
  virtual bool npf_exit(std::uint64_t gpa, std::uint64_t exitinfo1) = 0;
  // The cost components of every #NPF exit this CPU took so far, summed: a
  // conversion charges the exits taken inside it (e.g. during its
  // PVALIDATEs) to `exit`, `npt`, ... as docs/stats.md defines them, not to
  // `pvalidate`. A CPU that takes no #NPF exits reports zero.
  virtual ConversionCost npf_costs() const { return {}; }
  virtual std::uint64_t psc_msr(std::uint64_t request, ConversionCost& cost) = 0;
  virtual hypervisor::GhcbPscResult psc_ghcb(std::uint8_t* scratch, std::size_t len,
                                             std::size_t entries, ConversionCost& cost) = 0;

  // The guest's broadcast invalidation (INVLPGB, §2.3) of [gva, gva+bytes)
  // and of every translation of [gpa, gpa+bytes), on every vCPU.
  virtual void broadcast_invalidate(std::uint64_t gva, std::uint64_t gpa,
                                    std::uint64_t bytes) = 0;
  // The SVSM's INVLPGB + TLBSYNC after a rescind (docs/snp-semantics.md
  // §2.3): every translation of [gpa, gpa+bytes) on every vCPU (the SVSM
  // knows no guest virtual address).
  virtual void invalidate_gpa(std::uint64_t gpa, std::uint64_t bytes) = 0;
  // A VMGEXIT asking the hypervisor to run this vCPU's VMSA of `vmpl` (the
  // SVSM call protocol, docs/snp-semantics.md §3.4): afterwards the CPU runs
  // at `vmpl`, its TLBs flushed as on a VMPL line. Returns the exit round
  // trip's cycles, which the caller charges.
  virtual std::uint64_t run_vmpl(std::uint8_t vmpl) = 0;

  // run --check: the models are consistent again (after `after`), and a
  // conversion completed (`validated`: the guest PVALIDATEd it too).
  virtual void consistent(const char* after) = 0;
  virtual void conversion_done(const std::vector<PscPage>& entries, bool to_private,
                               bool validated) = 0;
};

struct GuestKernelCounters {
  std::uint64_t pvalidate = 0;            // PVALIDATE instructions executed
  std::uint64_t pvalidate_fallbacks = 0;  // 2M PVALIDATEs redone as 512 x 4K
  std::uint64_t pvalidate_cf = 0;         // PVALIDATE that changed nothing (CF = 1)
  std::uint64_t rmpadjust = 0;
  std::uint64_t rmpadjust_failed = 0;     // RMPADJUST with a non-zero return code
  std::uint64_t rmpadjust_vc = 0;         // RMPADJUST on a page not validated: #VC 0x404
  std::uint64_t vc_validated = 0;         // #VC 0x404 resolved by validating (enlightened guest)
  std::uint64_t psc_requests = 0;         // PSC VMGEXITs (MSR or GHCB) issued
  std::uint64_t psc_pages = 0;            // 4K pages PSC lines, CONVERTs and acceptances covered
  std::uint64_t converts = 0;             // CONVERT lines executed
  std::uint64_t units_accepted = 0;       // 2M units accepted lazily
  // Under an SVSM (guest.svsm; registered only then).
  std::uint64_t svsm_calls = 0;           // SVSM_CORE_PVALIDATE calls
  std::uint64_t svsm_entries = 0;         // calling-area entries the SVSM processed
  std::uint64_t svsm_errors = 0;          // calls that returned an SVSM error code
  std::uint64_t svsm_rmpadjust = 0;       // the SVSM's permission grants and revocations
  std::uint64_t svsm_flushes = 0;         // the SVSM's INVLPGB + TLBSYNC after a rescind
  std::uint64_t svsm_cycles = 0;          // cycles in SVSM calls (VMPL switches + SVSM work)
};

class GuestKernel {
 public:
  GuestKernel(unsigned vcpu, CpuPort& cpu, GuestOs& os, rmp::RmpTable& rmp, GuestState& state,
              hypervisor::ConversionLog& conversions, const GuestKernelParams& p);

  const GuestKernelCounters& counters() const { return m_c; }
  // The cycles this vCPU spent in SVSM calls so far, #NPF exits inside them
  // excluded (they are exit, npt, ... work, docs/stats.md).
  std::uint64_t svsm_cycles() const { return m_c.svsm_cycles; }
  // Adds the counters to `g` (the group of the vCPU the kernel runs on).
  void register_stats(stats::Group& g);

  // Trace lines (guest_kernel.cpp).
  void pvalidate(std::uint64_t gva, PageSize size, bool validate);
  // `perms`: rmp::kPermR | ...; `target`: the VMPL whose permissions change.
  void rmpadjust(std::uint64_t gva, PageSize size, std::uint8_t target, std::uint8_t perms,
                 bool vmsa);

  // Faults delivered inside the guest (guest_kernel.cpp). A guest #PF: the
  // guest OS handles it, then the units it hands out are accepted; returns
  // the handler's cycles (charged already).
  std::uint64_t page_fault(std::uint64_t addr, std::uint64_t error_code);
  // #VC 0x404 on the access to `gva`: false (and the guest terminated) when
  // the guest cannot go on. `cycles` gets what the handler's PVALIDATEs cost.
  bool vc_not_validated(const x86::Fault& f, std::uint64_t gva, std::uint64_t& cycles);

  // Page State Change (guest_kernel_psc.cpp). A PSC line: one request per
  // page (MSR) or per psc_max_entries entries (GHCB).
  void psc(const std::vector<PscPage>& entries, trace::PscOp op, trace::PscProto proto);
  // A CONVERT line of [gva, gva + len); throws BadLine if not mapped or if
  // it needs more than kMaxConvertEntries PSC entries. Stops early (the
  // conversion not recorded) once GuestOs::stop_requested().
  static constexpr std::size_t kMaxConvertEntries = std::size_t(1) << 20;
  void convert(std::uint64_t gva, std::uint64_t len, bool to_private);
  // guest.accept = lazy: accepts each 2 MiB unit (GPA) while the guest lives.
  void accept(const std::vector<std::uint64_t>& units);

 private:
  bool run_pvalidate(std::uint64_t gva, PageSize size, bool validate);
  void flush_after_rmp_change(std::uint64_t gva, std::uint64_t gpa, PageSize size);
  bool validate_on_vc(const x86::Fault& f, std::uint64_t& cycles);
  bool psc_request(const std::vector<PscPage>& entries, trace::PscOp op, trace::PscProto proto,
                   ConversionCost& cost);
  bool pvalidate_range(std::uint64_t gva, std::uint64_t len, bool validate,
                       const std::vector<PscPage>& entries);
  // Accepts one 2 MiB unit: PSC to private, then PVALIDATE through the
  // kernel's direct map (2M, 4K fallback).
  void accept_unit(std::uint64_t gpa);
  bool pvalidate_physical(std::uint64_t gpa, PageSize size);
  // Linux's checks at boot of the VMPL it runs at (guest_kernel_svsm.cpp).
  void check_vmpl_at_boot();
  // Linux's svsm_pval_pages: the PVALIDATEs of `entries` (one PSC
  // descriptor) through SVSM_CORE_PVALIDATE calls of up to 510 entries,
  // 2M entries the SVSM answers with a size mismatch redone as 4K; false
  // (and the guest terminated) on any other error.
  bool svsm_pval_pages(const std::vector<PscPage>& entries, bool validate);
  // The PVALIDATEs of a conversion under an SVSM, one svsm_pval_pages per
  // PSC descriptor (GHCB), one call per 4K page (MSR protocol).
  bool svsm_pval_batches(const std::vector<PscPage>& entries, bool validate);
  // One SVSM call: the VMPL switch there and back around the SVSM's work.
  std::uint64_t svsm_call(std::vector<std::uint64_t>& entries, std::uint16_t& next);
  // Under an SVSM and below VMPL 0 (guest.vmpl, or a VMPL line), PVALIDATE
  // goes through the SVSM core protocol.
  bool delegates_pvalidate() const { return m_p.svsm && m_cpu.vmpl() > 0; }
  trace::PscProto protocol() const {
    return m_p.psc_msr ? trace::PscProto::Msr : trace::PscProto::Ghcb;
  }

  unsigned m_vcpu;
  CpuPort& m_cpu;
  GuestOs& m_os;
  rmp::RmpTable& m_rmp;
  GuestState& m_state;
  hypervisor::ConversionLog& m_conversions;
  GuestKernelParams m_p;
  GuestKernelCounters m_c;
};

}  // namespace rmpsim::guest
