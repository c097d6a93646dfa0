// The guest kernel's validation side: PVALIDATE and RMPADJUST lines, the
// #VC 0x404 handler and the guest #PF handler's lazy acceptance
// (snp-semantics §2.2, §3.3, §4.7, §6 rows 8-10).
#include "models/guest/guest_kernel.hpp"

#include <fmt/format.h>

#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::guest {

namespace {
// Livelock guards (models/guest/README.md, "Livelock guards"). Instructions
// whose fault the hypervisor resolved are retried; a resolution that never
// lets the instruction through ends the guest, naming the guard. A
// resolution takes at most two rounds (a fault-in, then a PSMASH): 8 is
// ample.
constexpr unsigned kMaxInsnRounds = 8;
// The #VC handler's PVALIDATE retries after the hypervisor PSMASHed.
constexpr unsigned kMaxVcRounds = 16;

// Executes a guest SNP instruction (`name`) on the page at `base`:
// translates the operand into `op`, runs `exec` on it (the result in `r`),
// charges `cycles`, and retries after a #NPF the hypervisor resolved — a
// 4K request inside a 2M entry (SIZEM, §6 row 10) or a page the guest does
// not own. False if the guest died on the way or livelocks.
template <class Exec>
bool execute_on_operand(CpuPort& cpu, GuestState& state, const char* name, std::uint64_t base,
                        std::uint64_t cycles, CpuPort::Operand& op, rmp::GuestInsnResult& r,
                        Exec exec) {
  for (unsigned round = 0;; ++round) {
    if (round == kMaxInsnRounds) {
      state.terminate(fmt::format("{} of GVA {:#x} made no progress after {} rounds: the guest "
                                  "livelocks (livelock guard kMaxInsnRounds)",
                                  name, base, kMaxInsnRounds));
      return false;
    }
    if (!cpu.translate_operand(base, op)) return false;
    r = exec(op);
    cpu.elapse(cycles);
    if (!r.npf) return true;
    if (!cpu.npf_exit(op.gpa, x86::npf_private_read(/*present=*/true, r.npf_bits))) return false;
  }
}
}  // namespace

GuestKernel::GuestKernel(unsigned vcpu, CpuPort& cpu, GuestOs& os, rmp::RmpTable& rmp,
                         GuestState& state, hypervisor::ConversionLog& conversions,
                         const GuestKernelParams& p)
    : m_vcpu(vcpu),
      m_cpu(cpu),
      m_os(os),
      m_rmp(rmp),
      m_state(state),
      m_conversions(conversions),
      m_p(p) {
  check_vmpl_at_boot();
}

void GuestKernel::register_stats(stats::Group& g) {
  g.add_counters({
      {"pvalidate", &m_c.pvalidate, "PVALIDATE instructions executed"},
      {"pvalidate_fallbacks", &m_c.pvalidate_fallbacks,
       "2M PVALIDATEs that failed with FAIL_SIZEMISMATCH and were redone as 512 x 4K"},
      {"pvalidate_cf", &m_c.pvalidate_cf, "PVALIDATEs that changed nothing (CF = 1)"},
      {"rmpadjust", &m_c.rmpadjust, "RMPADJUST instructions executed"},
      {"rmpadjust_failed", &m_c.rmpadjust_failed,
       "RMPADJUST instructions that returned an error code"},
      {"rmpadjust_vc", &m_c.rmpadjust_vc, "RMPADJUST on a page not validated: #VC 0x404"},
      {"vc_validated", &m_c.vc_validated,
       "#VC 0x404 resolved by PVALIDATE in an enlightened guest's handler"},
      {"psc_requests", &m_c.psc_requests, "Page State Change VMGEXITs issued (MSR or GHCB)"},
      {"psc_pages", &m_c.psc_pages,
       "4K pages covered by PSC lines, CONVERTs and lazy acceptances"},
      {"converts", &m_c.converts, "CONVERT lines executed"},
      {"units_accepted", &m_c.units_accepted,
       "2M units of memory accepted lazily (guest.accept = lazy)"},
  });
  if (!m_p.svsm) return;  // the SVSM's counters exist only with one
  g.add_counters({
      {"svsm_calls", &m_c.svsm_calls, "SVSM_CORE_PVALIDATE calls (guest.svsm)"},
      {"svsm_entries", &m_c.svsm_entries, "calling-area entries the SVSM processed"},
      {"svsm_errors", &m_c.svsm_errors, "SVSM calls that returned an error code"},
      {"svsm_rmpadjust", &m_c.svsm_rmpadjust,
       "the SVSM's RMPADJUSTs: guest-VMPL grants after a validate, revocations before a "
       "rescind"},
      {"svsm_flushes", &m_c.svsm_flushes, "the SVSM's INVLPGB + TLBSYNC after a rescind"},
      {"svsm_cycles", &m_c.svsm_cycles,
       "cycles in SVSM calls: the VMPL switches there and back and the SVSM's work (#NPF "
       "exits inside excluded)"},
  });
}

void GuestKernel::pvalidate(std::uint64_t gva, PageSize size, bool validate) {
  run_pvalidate(gva, size, validate);
}

bool GuestKernel::run_pvalidate(std::uint64_t gva, PageSize size, bool validate) {
  const std::uint64_t base = gva & ~(page_bytes(size) - 1);
  if (delegates_pvalidate()) {
    // Below VMPL 0 the kernel asks the SVSM (§3.4): one entry, the GPA the
    // operand translates to (a 2M entry at a GPA not 2M aligned is the
    // SVSM's invalid parameter).
    CpuPort::Operand op;
    if (!m_cpu.translate_operand(base, op)) return false;
    return svsm_pval_pages({PscPage{op.gpa, size}}, validate);
  }
  rmp::GuestInsnResult r;
  CpuPort::Operand op;
  const bool done = execute_on_operand(
      m_cpu, m_state, "PVALIDATE", base, m_p.pvalidate_cycles, op, r,
      [&](const CpuPort::Operand& o) {
        ++m_c.pvalidate;
        return rmp::pvalidate(m_rmp, o.spa, o.gpa, size, validate, m_cpu.asid(), m_cpu.vmpl());
      });
  if (!done) return false;
  if (r.rc == rmp::kFailSizeMismatch && size == PageSize::k2M) {
    // Linux retries a 2M PVALIDATE as 512 x 4K (§3.3, §6 row 9).
    ++m_c.pvalidate_fallbacks;
    for (unsigned i = 0; i < 512; ++i)
      if (!run_pvalidate(base + (std::uint64_t(i) << 12), PageSize::k4K, validate)) return false;
    return true;
  }
  if (r.cf) ++m_c.pvalidate_cf;
  if (r.rc != rmp::kSuccess || r.cf) {
    // Linux terminates on any other PVALIDATE failure, CF = 1 included
    // (GHCB reason set 1, code 2; §6 row 8).
    m_state.terminate(fmt::format(
        "PVALIDATE {} of GVA {:#x} (GPA {:#x}, {}) returned {}{}: Linux terminates "
        "(reason set 1, code 2)",
        validate ? "validate" : "rescind", base, op.gpa, page_size_name(size), r.rc,
        r.cf ? " with CF=1 (already in that state)" : ""));
    return false;
  }
  if (!validate) flush_after_rmp_change(base, op.gpa, size);
  return true;
}

void GuestKernel::flush_after_rmp_change(std::uint64_t gva, std::uint64_t gpa, PageSize size) {
  // The TLBs cache RMP results with translations (§1.8): a rescinded page,
  // or a permission taken away, must not stay usable. The guest broadcasts
  // an invalidation (INVLPGB, §2.3) of the operand's GVA range. Assumption:
  // it also drops every other translation of the same guest-physical range
  // (a GPA can be mapped at several GVAs, and a 2M operand covers GPAs that
  // other GVAs map); a Linux guest changes pages only its direct map maps,
  // where the two coincide. The broadcast's cost is UNKNOWN (§5) —
  // assumption: one INVLPG.
  m_cpu.broadcast_invalidate(gva, gpa & ~(page_bytes(size) - 1), page_bytes(size));
  m_cpu.elapse(m_p.invlpg_cycles);
}

void GuestKernel::rmpadjust(std::uint64_t gva, PageSize size, std::uint8_t target,
                            std::uint8_t perms, bool vmsa) {
  const std::uint64_t base = gva & ~(page_bytes(size) - 1);
  rmp::GuestInsnResult r;
  CpuPort::Operand op;
  // At most one #VC: once its handler validated the page, the retried
  // RMPADJUST finds it validated.
  for (unsigned vc = 0;; ++vc) {
    const bool done = execute_on_operand(
        m_cpu, m_state, "RMPADJUST", base, m_p.rmpadjust_cycles, op, r,
        [&](const CpuPort::Operand& o) {
          ++m_c.rmpadjust;
          return rmp::rmpadjust(m_rmp, o.spa, o.gpa, size, target, perms, vmsa, m_cpu.asid(),
                                m_cpu.vmpl());
        });
    if (!done) return;
    if (!r.not_validated) break;
    ++m_c.rmpadjust_vc;
    // RMPADJUST's #VC 0x404 is a #VC like any other (docs/snp-semantics.md
    // §4.7): guest.on_vc_not_validated decides — Linux terminates, an
    // enlightened guest's handler PVALIDATEs the page and the instruction
    // is retried.
    x86::Fault f;
    f.kind = x86::FaultKind::VcNotValidated;
    f.addr = op.gpa;
    f.spa = op.spa;
    f.error_code = x86::kExitPageNotValidated;
    std::uint64_t cycles = 0;
    if (vc == 0 && validate_on_vc(f, cycles)) continue;
    m_state.terminate(fmt::format(
        "#VC 0x404 (page not validated) from RMPADJUST of GVA {:#x} (GPA {:#x}): {}", base,
        op.gpa,
        m_p.vc_validates ? "the #VC handler could not validate it"
                         : "a Linux guest cannot recover"));
    return;
  }
  if (r.rc != rmp::kSuccess) {
    // An SVSM checks the code and carries on; the trace goes on too.
    ++m_c.rmpadjust_failed;
    return;
  }
  // Lowered permissions must not survive in other vCPUs' TLBs (§2.3).
  flush_after_rmp_change(base, op.gpa, size);
}

std::uint64_t GuestKernel::page_fault(std::uint64_t addr, std::uint64_t error_code) {
  GuestResult r = m_os.handle_page_fault(m_vcpu, addr, error_code);
  m_cpu.consistent("a guest #PF");
  m_cpu.charge_handler(r.cycles);
  if (r.terminated) m_state.terminate(r.reason);
  // Lazy acceptance happens before the access goes on (§4.7).
  accept(r.accept_units);
  return r.cycles;
}

bool GuestKernel::vc_not_validated(const x86::Fault& f, std::uint64_t gva,
                                   std::uint64_t& cycles) {
  const bool ok = validate_on_vc(f, cycles);
  if (!ok && !m_state.terminated)
    // #VC 0x404 is delivered inside the guest; Linux has no handler for it
    // and asks to be terminated (snp-semantics §4.7, §6 row 3).
    m_state.terminate(fmt::format(
        "#VC 0x404 (page not validated) at GPA {:#x}, GVA {:#x}{}: a Linux guest cannot "
        "recover",
        f.addr, gva, f.gpt ? " (guest page-table page)" : ""));
  return ok;
}

bool GuestKernel::validate_on_vc(const x86::Fault& f, std::uint64_t& cycles) {
  if (!m_p.vc_validates) return false;
  // The #VC handler runs in the guest (no exit), then PVALIDATEs the page.
  cycles += m_p.vc_handler_cycles;
  for (unsigned round = 0; round < kMaxVcRounds; ++round) {
    const rmp::GuestInsnResult r =
        rmp::pvalidate(m_rmp, f.spa & ~0xfffull, f.addr & ~0xfffull, PageSize::k4K, true,
                       m_cpu.asid(), m_cpu.vmpl());
    ++m_c.pvalidate;
    cycles += m_p.pvalidate_cycles;
    if (r.npf) {
      // A 4K PVALIDATE inside a 2M entry: the hypervisor PSMASHes (§6 row 10).
      m_cpu.charge_handler(cycles);
      cycles = 0;
      if (!m_cpu.npf_exit(f.addr, x86::npf_private_read(/*present=*/true, r.npf_bits)))
        return false;
      continue;
    }
    m_cpu.charge_handler(cycles);
    if (r.rc != rmp::kSuccess) return false;
    ++m_c.vc_validated;  // CF=1 too: the page is validated either way
    return true;
  }
  m_state.terminate(fmt::format("#VC 0x404 handler could not validate GPA {:#x} after {} "
                                "PVALIDATEs: the guest livelocks (livelock guard kMaxVcRounds)",
                                f.addr, kMaxVcRounds));
  return false;
}

}  // namespace rmpsim::guest
