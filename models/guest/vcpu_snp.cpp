// The SNP operations a vCPU replays: PVALIDATE, RMPADJUST, VMPL switches and
// host accesses to guest memory (snp-semantics §1.7, §2.2, §3.3).
#include <fmt/format.h>

#include "models/guest/vcpu.hpp"
#include "models/rmp/rmp_check.hpp"
#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::guest {

namespace {
// Instructions whose fault the hypervisor resolved are retried; a
// resolution that never lets the instruction through is a model error.
constexpr unsigned kMaxInsnRounds = 8;
}  // namespace

bool Vcpu::translate_operand(std::uint64_t gva) {
  // The instruction translates its operand through the page tables; the
  // RMP checks on the target page are its own (Mmu::translate).
  m_attrs.insn_operand = true;
  const bool ok = access_page(gva, AccessKind::Read);
  m_attrs.insn_operand = false;
  return ok;
}

bool Vcpu::run_pvalidate(std::uint64_t gva, PageSize size, bool validate) {
  const std::uint64_t base = gva & ~(page_bytes(size) - 1);
  rmp::GuestInsnResult r;
  std::uint64_t gpa = 0;
  unsigned round = 0;
  for (;; ++round) {
    if (round == kMaxInsnRounds) {
      m_state.terminate(fmt::format("PVALIDATE of GVA {:#x} made no progress after {} rounds: "
                                    "the guest livelocks",
                                    base, kMaxInsnRounds));
      return false;
    }
    if (!translate_operand(base)) return false;
    gpa = m_attrs.gpa;
    r = rmp::pvalidate(m_rmp, m_attrs.spa, gpa, size, validate, m_attrs.asid, m_attrs.vmpl);
    ++m_snp.pvalidate;
    advance(m_params.pvalidate_cycles);
    if (!r.npf) break;
    // 4K inside a 2M entry (SIZEM, §6 row 10) or a page the guest does not
    // own: the hypervisor decides; on success the instruction is retried.
    if (!npf_exit(gpa, x86::npf_private_read(/*present=*/true, r.npf_bits))) return false;
  }
  if (r.rc == rmp::kFailSizeMismatch && size == PageSize::k2M) {
    // Linux retries a 2M PVALIDATE as 512 x 4K (§3.3, §6 row 9).
    ++m_snp.pvalidate_fallbacks;
    for (unsigned i = 0; i < 512; ++i)
      if (!run_pvalidate(base + (std::uint64_t(i) << 12), PageSize::k4K, validate)) return false;
    return true;
  }
  if (r.cf) ++m_snp.pvalidate_cf;
  if (r.rc != rmp::kSuccess || r.cf) {
    // Linux terminates on any other PVALIDATE failure, CF = 1 included
    // (GHCB reason set 1, code 2; §6 row 8).
    m_state.terminate(fmt::format(
        "PVALIDATE {} of GVA {:#x} (GPA {:#x}, {}) returned {}{}: Linux terminates "
        "(reason set 1, code 2)",
        validate ? "validate" : "rescind", base, gpa, page_size_name(size), r.rc,
        r.cf ? " with CF=1 (already in that state)" : ""));
    return false;
  }
  if (!validate) flush_after_rmp_change(base, gpa, size);
  return true;
}

void Vcpu::flush_after_rmp_change(std::uint64_t gva, std::uint64_t gpa, PageSize size) {
  // The TLBs cache RMP results with translations (§1.8): a rescinded page,
  // or a permission taken away, must not stay usable. The guest broadcasts
  // an invalidation (INVLPGB, §2.3) of the operand's GVA range. Assumption:
  // it also drops every other translation of the same guest-physical range
  // (a GPA can be mapped at several GVAs, and a 2M operand covers GPAs that
  // other GVAs map); a Linux guest changes pages only its direct map maps,
  // where the two coincide. The broadcast's cost is UNKNOWN (§5) —
  // assumption: one INVLPG.
  m_tlbs.shootdown(m_attrs.asid, gva, page_bytes(size));
  m_tlbs.shootdown_gpa(m_attrs.asid, gpa & ~(page_bytes(size) - 1), page_bytes(size));
  advance(m_params.invlpg_cycles);
}

void Vcpu::pvalidate(const trace::Event& ev) {
  run_pvalidate(ev.addr, page_size_of(trace::attr_page_size(ev.attrs)),
                ev.attrs & trace::kPvalidateValidate);
  checkpoint("a PVALIDATE line");
}

void Vcpu::rmpadjust(const trace::Event& ev) {
  run_rmpadjust(ev);
  checkpoint("an RMPADJUST line");
}

void Vcpu::run_rmpadjust(const trace::Event& ev) {
  const PageSize size = page_size_of(trace::attr_page_size(ev.attrs));
  const std::uint64_t base = ev.addr & ~(page_bytes(size) - 1);
  std::uint8_t perms = 0;
  if (ev.attrs & trace::kPermR) perms |= rmp::kPermR;
  if (ev.attrs & trace::kPermW) perms |= rmp::kPermW;
  if (ev.attrs & trace::kPermXu) perms |= rmp::kPermXu;
  if (ev.attrs & trace::kPermXs) perms |= rmp::kPermXs;
  const bool vmsa = ev.attrs & trace::kPermVmsa;
  const auto target = static_cast<std::uint8_t>(trace::rmpadjust_vmpl(ev.attrs));
  rmp::GuestInsnResult r;
  for (unsigned round = 0;; ++round) {
    if (round == kMaxInsnRounds) {
      m_state.terminate(fmt::format("RMPADJUST of GVA {:#x} made no progress after {} rounds: "
                                    "the guest livelocks",
                                    base, kMaxInsnRounds));
      return;
    }
    if (!translate_operand(base)) return;
    r = rmp::rmpadjust(m_rmp, m_attrs.spa, m_attrs.gpa, size, target, perms, vmsa, m_attrs.asid,
                       m_attrs.vmpl);
    ++m_snp.rmpadjust;
    advance(m_params.rmpadjust_cycles);
    if (!r.npf) break;
    if (!npf_exit(m_attrs.gpa, x86::npf_private_read(/*present=*/true, r.npf_bits))) return;
  }
  if (r.not_validated) {
    ++m_snp.rmpadjust_vc;
    m_state.terminate(fmt::format(
        "#VC 0x404 (page not validated) from RMPADJUST of GVA {:#x} (GPA {:#x})", base,
        m_attrs.gpa));
    return;
  }
  if (r.rc != rmp::kSuccess) {
    // An SVSM checks the code and carries on; the trace goes on too.
    ++m_snp.rmpadjust_failed;
    return;
  }
  // Lowered permissions must not survive in other vCPUs' TLBs (§2.3).
  flush_after_rmp_change(base, m_attrs.gpa, size);
}

void Vcpu::set_vmpl(unsigned vmpl) {
  // Switching VMPL runs another VMSA: an exit to the hypervisor and a VMRUN.
  // TLB entries are not tagged by VMPL, so the vCPU's TLBs are flushed.
  ++m_snp.vmpl_switches;
  m_attrs.vmpl = static_cast<std::uint8_t>(vmpl);
  m_mmu.core().flush_asid(m_attrs.asid);
  const std::uint64_t cost = m_hv.vmpl_switch();
  m_fault_cycles += cost;
  advance(cost);
  checkpoint("a VMPL line");
}

void Vcpu::host_access(const trace::Event& ev) {
  const bool write = ev.op == trace::Op::HostWrite;
  const std::uint64_t last = ev.addr + (ev.size ? ev.size - 1 : 0);
  for (std::uint64_t page = ev.addr >> 12; page <= (last >> 12); ++page) {
    const hypervisor::HostAccess::Page p = m_host.issue(page << 12, m_cycles);
    advance(p.cycles);
    m_host.complete(p, write);  // a refused write is counted there; the trace goes on
  }
  checkpoint("a HOST line");
}

}  // namespace rmpsim::guest
