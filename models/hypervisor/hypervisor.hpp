#pragma once
// The hypervisor (functional core). This first part owns the nested page
// tables and the host memory that backs guest memory: a not-present #NPF
// allocates the backing frame (a folio of hypervisor.backing_page_size) on
// first touch and maps it in the NPT, as KVM's fault-in path does
// (snp-semantics §4.6 step 3). Policies for RMP faults and Page State Change
// requests build on it.
#include <cstdint>
#include <string>

#include "models/common/flat_map.hpp"
#include "models/memory/phys_store.hpp"
#include "models/walker/page_table.hpp"

namespace rmpsim::hypervisor {

struct HypervisorParams {
  unsigned npt_levels = 4;
  PageSize backing_page_size = PageSize::k4K;
  std::uint64_t exit_cycles = 10422;    // one SNP exit round trip
  std::uint64_t npt_map_cycles = 1350;  // in-kernel fault-in: allocate, map
};

// SPA regions of the host allocators (docs/models.md).
inline constexpr std::uint64_t kBackingSpaBase = 0x1'0000'0000;     // 4 GiB
inline constexpr std::uint64_t kNptSpaBase = 0x7f0'0000'0000;

struct HypervisorCounters {
  std::uint64_t vmexits = 0;
  std::uint64_t npf_total = 0;
  std::uint64_t npf_not_present = 0;
  std::uint64_t npt_maps = 0;          // NPT leaves installed
  std::uint64_t backing_frames = 0;    // 4K frames of host memory backing the guest
};

struct NpfResult {
  std::uint64_t cycles = 0;
  bool resolved = false;
  std::string reason;  // when not resolved: why the guest cannot go on
};

class Hypervisor {
 public:
  Hypervisor(memory::PhysStore& host_mem, const HypervisorParams& p);

  std::uint64_t ncr3() const { return m_ncr3; }
  const HypervisorCounters& counters() const { return m_c; }

  // A #NPF exit (EXITINFO2 = gpa, EXITINFO1 = error code, snp-semantics §1.6).
  NpfResult handle_npf(unsigned vcpu, std::uint64_t gpa, std::uint64_t exitinfo1);

  // The host frame backing a GPA, if the guest touched it (no side effects).
  bool backing_of(std::uint64_t gpa, std::uint64_t& spa) const;

 private:
  std::uint64_t back(std::uint64_t gpa);  // SPA of the folio backing gpa, allocating it

  memory::PhysStore& m_mem;
  HypervisorParams m_p;
  std::uint64_t m_next_npt_spa = kNptSpaBase;
  std::uint64_t m_next_backing_spa = kBackingSpaBase;
  paging::PageTableEditor m_npt;
  std::uint64_t m_ncr3;
  FlatMap m_backing{1024};  // folio number (GPA >> folio shift) -> SPA folio number
  HypervisorCounters m_c;
};

}  // namespace rmpsim::hypervisor
