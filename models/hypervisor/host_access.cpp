#include "models/hypervisor/host_access.hpp"

#include "models/rmp/rmp_check.hpp"

namespace rmpsim::hypervisor {

HostAccess::Page HostAccess::issue(std::uint64_t gpa, std::uint64_t now) {
  const std::uint64_t spa = m_hv.host_backing(gpa);
  // The host's RMP check reads the page's entry (§1.7).
  return Page{spa, m_mem.access(rmp::RmpTable::entry_address(spa >> 12), now) + m_access_cycles};
}

bool HostAccess::complete(const Page& page, bool write) {
  if (!write) {
    ++m_c.reads;  // reads are never refused (they see ciphertext)
    return false;
  }
  ++m_c.writes;
  const bool fault = rmp::host_write_faults(m_rmp, page.spa, m_mapping);
  if (fault) ++m_c.rmp_faults;
  return fault;
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
