// The Linux guest under an SVSM (guest.svsm, guest.vmpl > 0): the boot-time
// VMPL checks and svsm_pval_pages — every PVALIDATE the kernel would
// execute goes to the SVSM through its calling area instead
// (docs/snp-semantics.md §3.4; Linux arch/x86/coco/sev, svsm_pval_pages,
// svsm_perform_call_protocol, svsm_setup).
#include <algorithm>

#include <fmt/format.h>

#include "models/guest/guest_kernel.hpp"
#include "models/guest/svsm.hpp"

namespace rmpsim::guest {

void GuestKernel::check_vmpl_at_boot() {
  // Linux finds it is not at VMPL 0 (its RMPADJUST probe fails) and reads
  // the SVSM fields of the secrets page: no SVSM advertised is fatal
  // (reason set 1, code 7), nor is an SVSM that says it runs the guest at
  // VMPL 0 (code 8; an SVSM occupies VMPL 0, so that is the model of
  // guest.vmpl = 0 with an SVSM configured).
  if (m_p.vmpl > 0 && !m_p.svsm)
    m_state.terminate(fmt::format(
        "the guest runs at VMPL {} but no SVSM is configured (guest.svsm = none): Linux "
        "terminates (reason set 1, code 7: SVSM not advertised in the secrets page)",
        m_p.vmpl));
  else if (m_p.vmpl == 0 && m_p.svsm)
    m_state.terminate(
        "an SVSM is configured (guest.svsm) but the guest's VMPL is 0 (guest.vmpl): Linux "
        "terminates (reason set 1, code 8: SVSM present but has set the guest VMPL to 0)");
}

std::uint64_t GuestKernel::svsm_call(std::vector<std::uint64_t>& entries, std::uint16_t& next) {
  // One call: a VMGEXIT with SW_EXITCODE 0x8000_0018 (SNP run VMPL) takes
  // the vCPU to the SVSM's VMSA at VMPL 0 and another brings it back; each
  // is an exit round trip plus the hypervisor's switch of the VMSA it runs.
  ++m_c.svsm_calls;
  const std::uint8_t from = m_cpu.vmpl();  // the guest's (guest.vmpl or a VMPL line)
  const std::uint64_t start = m_cpu.now();
  const std::uint64_t npf_before = m_cpu.npf_costs().total();
  auto switch_to = [&](std::uint8_t vmpl) {
    m_cpu.elapse_in_exit(m_cpu.run_vmpl(vmpl) + m_p.svsm_vmsa_switch_cycles);
  };
  switch_to(0);
  svsm::PvalidateCall call{std::move(entries), next};
  svsm::Svsm s(m_cpu, m_rmp, m_state, m_p, m_c);
  const std::uint64_t rax = s.core_pvalidate(call);
  entries = std::move(call.entries);
  next = call.next;
  if (rax == svsm::kGuestDied || m_state.terminated) return svsm::kGuestDied;
  switch_to(from);
  // #NPF exits the SVSM's instructions took are exit, npt, ... work
  // (docs/stats.md), not the SVSM's.
  m_c.svsm_cycles += (m_cpu.now() - start) - (m_cpu.npf_costs().total() - npf_before);
  if (rax != svsm::kSuccess) ++m_c.svsm_errors;
  return rax;
}

bool GuestKernel::svsm_pval_pages(const std::vector<PscPage>& pages, bool validate) {
  std::vector<std::uint64_t> redo_4k;  // 2M entries the SVSM refused with a size mismatch
  auto terminate = [&](const std::vector<std::uint64_t>& entries, std::uint16_t next,
                       std::uint64_t rax) {
    const std::uint64_t e = next < entries.size() ? entries[next] : 0;
    m_state.terminate(fmt::format(
        "SVSM PVALIDATE {} of GPA {:#x} ({}) returned {:#x}: Linux terminates (reason set 1, "
        "code 2)",
        validate ? "validate" : "rescind", svsm::entry_gpa(e), svsm::entry_is_2m(e) ? "2m" : "4k",
        rax));
  };
  for (std::size_t first = 0; first < pages.size();) {
    if (m_os.stop_requested()) return false;  // interrupted: the run ends
    const std::size_t n = std::min<std::size_t>(svsm::kMaxEntries, pages.size() - first);
    std::vector<std::uint64_t> entries;
    entries.reserve(n);
    for (std::size_t i = first; i < first + n; ++i)
      entries.push_back(svsm::make_entry(pages[i].gpa, pages[i].size, validate));
    first += n;
    std::uint16_t next = 0;
    for (;;) {
      const std::uint64_t rax = svsm_call(entries, next);
      if (rax == svsm::kGuestDied) return false;
      if (rax == svsm::kSuccess) break;
      // A 2M entry over 4K RMP entries is set aside for 4K and the call
      // goes on past it, as a new call (Linux retries with cur_index + 1).
      if (rax == svsm::kErrPvalidateSizeMismatch && next < entries.size() &&
          svsm::entry_is_2m(entries[next])) {
        ++m_c.pvalidate_fallbacks;
        redo_4k.push_back(svsm::entry_gpa(entries[next]));
        if (++next < entries.size()) continue;
        break;
      }
      terminate(entries, next, rax);
      return false;
    }
  }
  for (const std::uint64_t gpa : redo_4k) {
    // 512 4K entries, in calls of up to 510.
    for (std::uint64_t p = 0; p < 512;) {
      const std::uint64_t n = std::min<std::uint64_t>(svsm::kMaxEntries, 512 - p);
      std::vector<std::uint64_t> entries;
      for (std::uint64_t i = p; i < p + n; ++i)
        entries.push_back(svsm::make_entry(gpa + (i << 12), PageSize::k4K, validate));
      p += n;
      std::uint16_t next = 0;
      const std::uint64_t rax = svsm_call(entries, next);
      if (rax == svsm::kGuestDied) return false;
      if (rax != svsm::kSuccess) {
        terminate(entries, next, rax);
        return false;
      }
    }
  }
  return true;
}

bool GuestKernel::svsm_pval_batches(const std::vector<PscPage>& pages, bool validate) {
  // Linux validates per PSC descriptor (__set_pages_state builds up to
  // guest.psc_max_entries entries, then pvalidate_pages); the MSR protocol
  // of early boot validates one 4K page per call (svsm_pval_4k_page).
  const std::size_t batch = m_p.psc_msr ? 1 : m_p.psc_max_entries;
  for (std::size_t first = 0; first < pages.size(); first += batch) {
    const std::size_t n = std::min(batch, pages.size() - first);
    const std::vector<PscPage> desc(pages.begin() + first, pages.begin() + first + n);
    if (!svsm_pval_pages(desc, validate)) return false;
  }
  return true;
}

}  // namespace rmpsim::guest
