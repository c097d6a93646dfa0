#include "models/hypervisor/host_access.hpp"

#include <fmt/format.h>

#include "models/rmp/rmp_check.hpp"

namespace rmpsim::hypervisor {

HostAccess::Page HostAccess::issue(std::uint64_t gpa, std::uint64_t now) {
  const std::uint64_t spa = m_hv.host_backing(gpa);
  // The host's RMP check reads the page's entry (§1.7) through the table
  // walker's path; then the access itself goes through the L1D (a read: the
  // outcome of a write is decided at complete(), and a refused write
  // must not dirty the line).
  const std::uint64_t check = m_mem.table(m_core, rmp::RmpTable::entry_address(spa >> 12), now);
  return Page{spa, check + m_mem.data(m_core, spa, false, now + check)};
}

bool HostAccess::complete(const Page& page, bool write) {
  if (!write) {
    ++m_c.reads;  // reads are never refused (they see ciphertext)
    return false;
  }
  ++m_c.writes;
  const bool fault = rmp::host_write_faults(m_rmp, page.spa, m_mapping);
  if (fault)
    ++m_c.rmp_faults;
  else
    m_mem.dirty(m_core, page.spa);  // the write went through: write-back cache
  return fault;
}

std::string host_rmp_pf_end(const HostRmpPfParams& p, const std::string& what) {
  if (!p.fatal) return {};
  // Linux treats an RMP #PF in the kernel as fatal (an oops, with the RMP
  // entries of the 2 MiB region dumped; docs/snp-semantics.md §1.6). In
  // user mode it sends SIGBUS and the process dies (SNP host series,
  // "x86/fault: Handle RMP page faults for user addresses": "Unexpected
  // RMP page fault ..., terminating process"); the model's host process is
  // the VMM, so the guest ends with it.
  if (p.kernel_mode)
    return what + ": fatal, Linux oopses on a kernel-mode RMP #PF (snp-semantics §1.6)";
  return what + ": Linux sends SIGBUS and terminates the host process (the VMM), and the guest "
                "with it";
}

std::string HostAccess::rmp_pf_end(std::uint64_t gpa, const Page& page) const {
  return host_rmp_pf_end(
      m_on_pf, fmt::format("host RMP #PF in {} mode: host write to GPA {:#x} (SPA {:#x}) refused "
                           "by the RMP",
                           m_on_pf.kernel_mode ? "kernel" : "user", gpa, page.spa & ~0xfffull));
}

void HostAccess::register_stats(stats::Group& g) {
  g.add_counters({
      {"host_reads", &m_c.reads, "host reads of guest memory (HOST R)"},
      {"host_writes", &m_c.writes, "host writes to guest memory (HOST W)"},
      {"host_rmp_faults", &m_c.rmp_faults,
       "host writes refused by the RMP: host #PF with bit 31"},
  });
}

}  // namespace rmpsim::hypervisor
