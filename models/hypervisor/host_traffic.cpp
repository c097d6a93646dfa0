#include "models/hypervisor/host_traffic.hpp"

#include <fmt/format.h>

#include "models/rmp/rmp_check.hpp"

namespace rmpsim::hypervisor {

HostTrafficCounters::HostTrafficCounters() {
  group.add_counters({
      {"reads", &reads, "host reads of host memory (HMEM R), per 4K page"},
      {"writes", &writes, "host writes to host memory (HMEM W), per 4K page"},
      {"rmp_checks", &rmp_checks, "host writes RMP-checked: one RMP entry read each"},
      {"rmp_check_cycles", &rmp_check_cycles,
       "cycles of those RMP entry reads (through the memory hierarchy)"},
      {"checks_skipped", &checks_skipped,
       "host writes to a 1 GiB region whose RMPOPT bit is set: not checked"},
      {"rmp_faults", &rmp_faults, "host writes refused by the RMP: host #PF with bit 31"},
  });
}

HostTraffic::Result HostTraffic::access(std::uint64_t spa, bool write, std::uint64_t now) {
  Result r;
  if (!write) {
    // Reads are not RMP-checked (§1.7: they never fault).
    ++m_c.reads;
    r.cycles = m_mem.data(m_core, spa, false, now);
    return r;
  }
  ++m_c.writes;
  if (m_rmpopt && m_rmpopt->report(m_core, spa)) {
    // The region holds no assigned page and this CPU knows it (§2.4).
    ++m_c.checks_skipped;
  } else {
    // The check reads the page's RMP entry; through a 2M or 1G mapping the
    // 2M region decides (§1.5, §1.7), and the model reads its 2M-aligned
    // entry (assumption: one reference either way, §2.4).
    const std::uint64_t pfn = spa >> 12;
    const std::uint64_t entry = m_mapping == PageSize::k4K ? pfn : pfn & ~511ull;
    const std::uint64_t check = m_mem.table(m_core, rmp::RmpTable::entry_address(entry), now);
    ++m_c.rmp_checks;
    m_c.rmp_check_cycles += check;
    r.cycles = check;
    r.refused = rmp::host_write_faults(m_rmp, spa, m_mapping);
  }
  // The store issues as a load of its line (a refused one must not dirty it).
  r.cycles += m_mem.data(m_core, spa, false, now + r.cycles);
  if (r.refused)
    ++m_c.rmp_faults;
  else
    m_mem.dirty(m_core, spa);
  return r;
}

std::string HostTraffic::rmp_pf_end(std::uint64_t spa) const {
  return host_rmp_pf_end(m_on_pf, fmt::format("host RMP #PF in {} mode: host write to its own "
                                              "memory at SPA {:#x} refused by the RMP",
                                              m_on_pf.kernel_mode ? "kernel" : "user",
                                              spa & ~0xfffull));
}

}  // namespace rmpsim::hypervisor
