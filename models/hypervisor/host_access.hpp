#pragma once
// The host (the hypervisor or a device model in userspace) touching guest
// memory through its own mapping (`HOST R|W` trace lines; snp-semantics
// §1.7): the host's RMP check reads the page's RMP entry, a read always
// completes (it sees ciphertext), and a write to a page the RMP assigns to a
// guest — or, through a host mapping of 2M or more, to any page of its 2 MiB
// region — is a host #PF with bit 31 (§6 rows 6-7). Functional core: it
// returns what happened and counts it; the caller keeps the time.
#include <cstdint>
#include <string>

#include "models/common/page_size.hpp"
#include "models/common/stats.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/memory/cache_hierarchy.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::hypervisor {

struct HostAccessCounters {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t rmp_faults = 0;  // writes refused by the RMP (host #PF bit 31)
};

// What a refused host write leads to (host.access_mode, host.on_rmp_pf).
struct HostRmpPfParams {
  bool kernel_mode = true;  // host.access_mode = kernel (else user)
  bool fatal = true;        // host.on_rmp_pf = linux (else continue)
};

// What Linux does after a refused host write described by `what` (the
// outcome of host.on_rmp_pf in host.access_mode): why the run ends, or ""
// when it goes on. HOST and HMEM lines share it.
std::string host_rmp_pf_end(const HostRmpPfParams& p, const std::string& what);

class HostAccess {
 public:
  // `host_mapping`: the size of the host's mapping of guest memory
  // (host.mapping_page_size); `core`: the core whose caches the host
  // thread uses (the vCPU's thread stands in for it); `on_pf`: what a host
  // RMP #PF does (host.on_rmp_pf).
  HostAccess(Hypervisor& hv, memory::CacheHierarchy& mem, const rmp::RmpTable& rmp,
             PageSize host_mapping, unsigned core, const HostRmpPfParams& on_pf)
      : m_hv(hv), m_mem(mem), m_rmp(rmp), m_mapping(host_mapping), m_core(core), m_on_pf(on_pf) {}

  // One 4K page of a host access, in two steps: issue() finds the host frame
  // behind `gpa` (allocated if the guest never touched it) and times the RMP
  // entry read and the access issued at `now`; complete() is the outcome
  // once that time has passed — the RMP as it is then decides a write.
  struct Page {
    std::uint64_t spa;
    std::uint64_t cycles;
  };
  Page issue(std::uint64_t gpa, std::uint64_t now);
  // True when the write was refused (host RMP #PF); a read never is.
  bool complete(const Page& page, bool write);
  // After a refused write to `gpa`: why the run ends, or "" when it goes on
  // (host.on_rmp_pf = continue).
  std::string rmp_pf_end(std::uint64_t gpa, const Page& page) const;

  const HostAccessCounters& counters() const { return m_c; }
  // Adds host_reads, host_writes and host_rmp_faults to `g` (the group of
  // the vCPU whose thread stands in for the host thread).
  void register_stats(stats::Group& g);

 private:
  Hypervisor& m_hv;
  memory::CacheHierarchy& m_mem;
  const rmp::RmpTable& m_rmp;
  PageSize m_mapping;
  unsigned m_core;
  HostRmpPfParams m_on_pf;
  HostAccessCounters m_c;
};

}  // namespace rmpsim::hypervisor
