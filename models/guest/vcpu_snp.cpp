// The SNP side of the vCPU: the trace lines it forwards (PVALIDATE,
// RMPADJUST, PSC and CONVERT to the guest kernel, HOST and HMEM to the host
// models, RMPOPT to Linux's RMPOPT policy, VMPL itself) and the CpuPort the guest kernel runs on — operand
// translation, exits, time and the guest's broadcast invalidations.
#include "models/guest/vcpu.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "models/rmp/rmp_instructions.hpp"
#include "traces/input_error.hpp"

namespace rmpsim::guest {

void Vcpu::pvalidate(const trace::Event& ev) {
  m_kernel.pvalidate(ev.addr, page_size_of(trace::attr_page_size(ev.attrs)),
                     ev.attrs & trace::kPvalidateValidate);
  checkpoint("a PVALIDATE line");
}

void Vcpu::rmpadjust(const trace::Event& ev) {
  std::uint8_t perms = 0;
  if (ev.attrs & trace::kPermR) perms |= rmp::kPermR;
  if (ev.attrs & trace::kPermW) perms |= rmp::kPermW;
  if (ev.attrs & trace::kPermXu) perms |= rmp::kPermXu;
  if (ev.attrs & trace::kPermXs) perms |= rmp::kPermXs;
  m_kernel.rmpadjust(ev.addr, page_size_of(trace::attr_page_size(ev.attrs)),
                     static_cast<std::uint8_t>(trace::rmpadjust_vmpl(ev.attrs)), perms,
                     ev.attrs & trace::kPermVmsa);
  checkpoint("an RMPADJUST line");
}

void Vcpu::psc(const trace::Event& ev) {
  std::vector<PscPage> entries;
  entries.reserve(ev.psc_count);
  for (unsigned i = 0; i < ev.psc_count; ++i)
    entries.push_back(PscPage{ev.psc[i].gpa, page_size_of(ev.psc[i].size)});
  m_kernel.psc(entries, trace::psc_op(ev.attrs), trace::psc_proto(ev.attrs));
  checkpoint("a PSC line");
}

void Vcpu::convert(const trace::Event& ev) {
  try {
    m_kernel.convert(ev.addr, ev.len, ev.attrs & trace::kConvertToPrivate);
  } catch (const BadLine& e) {
    throw InputError(m_feed.trace_name(m_id), m_line, e.what());
  }
  checkpoint("a CONVERT line");
}

void Vcpu::set_vmpl(unsigned vmpl) {
  // Switching VMPL runs another VMSA: an exit to the hypervisor and a VMRUN.
  // TLB entries are not tagged by VMPL, so the vCPU's TLBs are flushed.
  ++m_vmpl_switches;
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
    // A refused write is counted there; what follows is host.on_rmp_pf's.
    if (m_host.complete(p, write)) {
      const std::string end = m_host.rmp_pf_end(page << 12, p);
      if (!end.empty()) {
        m_state.terminate(end);
        break;
      }
    }
  }
  checkpoint("a HOST line");
}

void Vcpu::host_mem_access(const trace::Event& ev) {
  const bool write = ev.op == trace::Op::HostMemWrite;
  const std::uint64_t last = ev.addr + (ev.size - 1);  // the reader checked size >= 1
  // The RMP table is the models' own (rmp_table.hpp); host software
  // cannot store to it, and reading it is RMPREAD's business.
  if (last >= rmp::kRmpBase)
    throw InputError(m_feed.trace_name(m_id), m_line,
                     fmt::format("expected HMEM <spa> range [{:#x}, {:#x}] below the RMP table at "
                                 "{:#x} (docs/models.md)",
                                 ev.addr, last, rmp::kRmpBase));
  for (std::uint64_t page = ev.addr >> 12; page <= (last >> 12); ++page) {
    const std::uint64_t spa = std::max(page << 12, ev.addr);
    const hypervisor::HostTraffic::Result r = m_host_traffic.access(spa, write, m_cycles);
    advance(r.cycles);
    if (r.refused) {
      const std::string end = m_host_traffic.rmp_pf_end(spa);
      if (!end.empty()) {
        m_state.terminate(end);
        break;
      }
    }
  }
}

void Vcpu::rmpopt(const trace::Event& ev) {
  // Without rmp.rmpopt the kernel has no RMPOPT to run: Linux's interface
  // returns at once (snp-semantics §2.4).
  if (!m_rmpopt) return;
  if (ev.attrs & trace::kRmpoptNow)
    m_rmpopt->scan_now();
  else
    m_rmpopt->request_rescan(m_cycles);
}

// CpuPort.

void Vcpu::elapse_in_exit(std::uint64_t cycles) {
  m_fault_cycles += cycles;
  advance(cycles);
}

void Vcpu::charge_handler(std::uint64_t cycles) {
  // Inside a fault's resolution: no synchronisation with the other vCPUs
  // until the access has gone on.
  m_fault_cycles += cycles;
  m_cycles += cycles;
}

bool Vcpu::translate_operand(std::uint64_t gva, Operand& out) {
  // The instruction translates its operand through the page tables; the
  // RMP checks on the target page are its own (Mmu::translate).
  m_attrs.insn_operand = true;
  const bool ok = access_page(gva, AccessKind::Read);
  m_attrs.insn_operand = false;
  out = Operand{m_attrs.gpa, m_attrs.spa};
  return ok;
}

bool Vcpu::npt_backing(std::uint64_t gpa, std::uint64_t& spa) const {
  return m_hv.backing_of(gpa, spa);
}

bool Vcpu::npf_exit(std::uint64_t gpa, std::uint64_t exitinfo1) {
  hypervisor::NpfResult r;
  return exit_npf(gpa, exitinfo1, r);
}

std::uint64_t Vcpu::psc_msr(std::uint64_t request, ConversionCost& cost) {
  // The exit's time is the kernel's to charge (elapse_in_exit); the event
  // log places it after what the request has cost so far.
  const ConversionCost before = cost;
  const std::uint64_t response = m_hv.psc_msr(request, cost);
  checkpoint("an MSR PSC exit");
  if (m_log)
    m_log->psc(m_id, m_cycles + before.total(), "msr", 1, 1, cost.total() - before.total(),
               cost.userspace - before.userspace);
  return response;
}

hypervisor::GhcbPscResult Vcpu::psc_ghcb(std::uint8_t* scratch, std::size_t len,
                                         std::size_t entries, ConversionCost& cost) {
  const ConversionCost before = cost;
  // The event's `pages` are 4K pages, as in conversion events (issue 16,
  // item 11): those of the entries this VMGEXIT still has to process.
  std::uint64_t pages = 0;
  if (m_log) {
    const hypervisor::psc::DecodeResult sent = hypervisor::psc::decode(scratch, len);
    for (std::size_t i = sent.buffer.header.cur_entry;
         sent.ok && i <= sent.buffer.header.end_entry && i < sent.buffer.entries.size(); ++i)
      pages += sent.buffer.entries[i].page_count();
  }
  const hypervisor::GhcbPscResult r = m_hv.psc_ghcb(scratch, len, cost);
  checkpoint("a GHCB PSC exit");
  if (m_log)
    m_log->psc(m_id, m_cycles + before.total(), "ghcb", entries, pages,
               cost.total() - before.total(), cost.userspace - before.userspace);
  return r;
}

void Vcpu::broadcast_invalidate(std::uint64_t gva, std::uint64_t gpa, std::uint64_t bytes) {
  m_tlbs.shootdown(m_attrs.asid, gva, bytes);
  m_tlbs.shootdown_gpa(m_attrs.asid, gpa, bytes);
}

void Vcpu::invalidate_gpa(std::uint64_t gpa, std::uint64_t bytes) {
  m_tlbs.shootdown_gpa(m_attrs.asid, gpa, bytes);
}

std::uint64_t Vcpu::run_vmpl(std::uint8_t vmpl) {
  // An SVSM call's switch (docs/snp-semantics.md §3.4): the exit that asks
  // for the other VMSA; as on a VMPL line, the TLBs are flushed (not tagged
  // by VMPL). Not a VMPL line: vmpl_switches does not count it.
  m_attrs.vmpl = vmpl;
  m_mmu.core().flush_asid(m_attrs.asid);
  return m_hv.vmgexit();
}

void Vcpu::conversion_done(const std::vector<PscPage>& entries, bool to_private,
                           bool validated) {
  if (m_check) m_check->conversion_done(entries, to_private, validated);
}

}  // namespace rmpsim::guest
