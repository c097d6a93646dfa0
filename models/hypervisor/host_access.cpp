#include "models/hypervisor/host_access.hpp"

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

void HostAccess::register_stats(stats::Group& g) {
  g.add_counters({
      {"host_reads", &m_c.reads, "host reads of guest memory (HOST R)"},
      {"host_writes", &m_c.writes, "host writes to guest memory (HOST W)"},
      {"host_rmp_faults", &m_c.rmp_faults,
       "host writes refused by the RMP: host #PF with bit 31"},
  });
}

}  // namespace rmpsim::hypervisor
