#pragma once
// The host's own memory traffic (`HMEM R|W` trace lines, issue 19): a host
// CPU reads and writes host memory by system-physical address, e.g. a
// memcpy storm or page-cache work next to a guest. Every host write on an
// SNP-enabled machine is RMP-checked (docs/snp-semantics.md §1.7): the
// check reads an RMP entry through the memory hierarchy before the store
// completes, and a write to an assigned page -- or, through a 2M or 1G host
// mapping, to any page of a 2 MiB region holding one -- is a host #PF with
// bit 31. With RMPOPT (§2.4) a write to a 1 GiB region whose bit is set on
// this CPU skips the check. Functional core: returns the cost, counts it.
#include <cstdint>
#include <string>

#include "models/common/page_size.hpp"
#include "models/common/stats.hpp"
#include "models/hypervisor/host_access.hpp"
#include "models/memory/cache_hierarchy.hpp"
#include "models/rmp/rmp_table.hpp"
#include "models/rmp/rmpopt.hpp"

namespace rmpsim::hypervisor {

// Shared by every CPU's HostTraffic: the group "host_traffic".
struct HostTrafficCounters {
  std::uint64_t reads = 0;             // HMEM R, per 4K page touched
  std::uint64_t writes = 0;            // HMEM W, per 4K page touched
  std::uint64_t rmp_checks = 0;        // host writes whose RMP entry was read
  std::uint64_t rmp_check_cycles = 0;  // the latency of those RMP entry reads
  std::uint64_t checks_skipped = 0;    // host writes RMPOPT let through unchecked
  std::uint64_t rmp_faults = 0;        // writes refused by the RMP (host #PF bit 31)
  stats::Group group{"host_traffic"};
  HostTrafficCounters();
  bool used() const { return reads + writes != 0; }
};

class HostTraffic {
 public:
  // `mapping`: the host's mapping of its own memory (host.direct_map_page_size);
  // `rmpopt`: null unless rmp.rmpopt is on; `core`: the CPU.
  HostTraffic(memory::CacheHierarchy& mem, const rmp::RmpTable& rmp, const rmp::Rmpopt* rmpopt,
              PageSize mapping, unsigned core, const HostRmpPfParams& on_pf,
              HostTrafficCounters& counters)
      : m_mem(mem), m_rmp(rmp), m_rmpopt(rmpopt), m_mapping(mapping), m_core(core),
        m_on_pf(on_pf), m_c(counters) {}

  // One 4K page of an HMEM line at `spa`, issued at `now`: its cycles (the
  // RMP check of a write, then the access), and whether the RMP refused the
  // write (then the line is not stored).
  struct Result {
    std::uint64_t cycles = 0;
    bool refused = false;
  };
  Result access(std::uint64_t spa, bool write, std::uint64_t now);
  // After a refused write to `spa`: why the run ends, or "" (host.on_rmp_pf).
  std::string rmp_pf_end(std::uint64_t spa) const;

 private:
  memory::CacheHierarchy& m_mem;
  const rmp::RmpTable& m_rmp;
  const rmp::Rmpopt* m_rmpopt;
  PageSize m_mapping;
  unsigned m_core;
  HostRmpPfParams m_on_pf;
  HostTrafficCounters& m_c;
};

}  // namespace rmpsim::hypervisor
