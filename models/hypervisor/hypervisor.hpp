#pragma once
// The hypervisor (functional core), modelled on KVM (snp-semantics §4).
// It owns the nested page tables and the host memory that backs guest
// memory, and handles #NPF exits:
//   - not present: back the GFN with a folio (hypervisor.backing_page_size)
//     and, for a private access, RMPUPDATE it to the guest (2M only when the
//     folio is 2M and all 512 entries are unassigned, §4.2); map the NPT at
//     min(folio size, RMP level) (§4.6 step 3);
//   - RMP fault with a size mismatch: PSMASH the 2M entry (retrying
//     FAIL_INUSE), zap the 512-GFN NPT range and flush (§4.1 step 4); an RMP
//     fault on an entry that is already 4K is spurious (§6 row 12);
//   - any other RMP fault is a private/shared mismatch: an implicit
//     conversion request, which needs a conversion policy. Until the policy
//     block exists the guest is terminated with the reason.
#include <cstdint>
#include <functional>
#include <string>

#include "models/common/flat_map.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_table.hpp"
#include "models/walker/page_table.hpp"

namespace rmpsim::hypervisor {

struct HypervisorParams {
  unsigned npt_levels = 4;
  PageSize backing_page_size = PageSize::k4K;
  std::uint16_t guest_asid = 1;
  std::uint64_t exit_cycles = 10422;      // one SNP exit round trip
  std::uint64_t npt_map_cycles = 1350;    // in-kernel fault-in: allocate, map
  std::uint64_t rmpupdate_cycles = 1080;  // one RMPUPDATE
  std::uint64_t psmash_cycles = 2160;     // one PSMASH
};

// SPA regions of the host allocators (docs/models.md).
inline constexpr std::uint64_t kBackingSpaBase = 0x1'0000'0000;     // 4 GiB
inline constexpr std::uint64_t kNptSpaBase = 0x7f0'0000'0000;

struct HypervisorCounters {
  std::uint64_t vmexits = 0;
  std::uint64_t npf_total = 0;
  std::uint64_t npf_not_present = 0;
  std::uint64_t npf_rmp = 0;
  std::uint64_t npf_rmp_size = 0;      // resolved by PSMASH + zap
  std::uint64_t npf_rmp_spurious = 0;  // entry already 4K: nothing to do
  std::uint64_t npf_rmp_mismatch = 0;  // private/shared mismatch (conversion request)
  std::uint64_t npt_maps = 0;          // NPT leaves installed
  std::uint64_t npt_zaps = 0;          // 2M GFN ranges zapped after PSMASH
  std::uint64_t backing_frames = 0;    // 4K frames of host memory backing the guest
  std::uint64_t rmpupdate = 0;
  std::uint64_t psmash = 0;
  std::uint64_t psmash_inuse_retries = 0;
};

struct NpfResult {
  std::uint64_t cycles = 0;
  bool resolved = false;
  std::string reason;  // when not resolved: why the guest cannot go on
};

class Hypervisor {
 public:
  // `prevalidated(gpa)`: whether the guest validated this page before the
  // trace began (guest.accept); its pages are assigned already validated.
  // `flush(asid)`: flush the ASID's translations on every vCPU.
  Hypervisor(memory::PhysStore& host_mem, rmp::RmpTable& rmp, const HypervisorParams& p,
             std::function<bool(std::uint64_t)> prevalidated,
             std::function<void(std::uint16_t)> flush);

  std::uint64_t ncr3() const { return m_ncr3; }
  const HypervisorCounters& counters() const { return m_c; }
  rmp::RmpTable& rmp() { return m_rmp; }

  // A #NPF exit (EXITINFO2 = gpa, EXITINFO1 = error code, §1.6).
  NpfResult handle_npf(unsigned vcpu, std::uint64_t gpa, std::uint64_t exitinfo1);

  // A VMPL switch: an exit and a VMRUN of another VMSA; returns its cost.
  std::uint64_t vmpl_switch() {
    ++m_c.vmexits;
    return m_p.exit_cycles;
  }

  // The host frame backing a GPA, if the guest touched it (no side effects).
  bool backing_of(std::uint64_t gpa, std::uint64_t& spa) const;
  // The host frame backing a GPA, allocating shared backing if the guest
  // never touched it (a host access to guest memory).
  std::uint64_t host_backing(std::uint64_t gpa) { return back(gpa); }

 private:
  std::uint64_t back(std::uint64_t gpa);  // SPA of the folio backing gpa, allocating it
  NpfResult fault_in(std::uint64_t gpa, bool is_private);
  NpfResult rmp_fault(std::uint64_t gpa, std::uint64_t exitinfo1);
  // Assigns the backing of a private GPA to the guest; returns the RMP
  // level (4K or 2M) and adds the cost.
  PageSize assign_private(std::uint64_t gpa, std::uint64_t& cycles);
  void zap_2m(std::uint64_t gpa);

  memory::PhysStore& m_mem;
  rmp::RmpTable& m_rmp;
  HypervisorParams m_p;
  std::function<bool(std::uint64_t)> m_prevalidated;
  std::function<void(std::uint16_t)> m_flush;
  std::uint64_t m_next_npt_spa = kNptSpaBase;
  std::uint64_t m_next_backing_spa = kBackingSpaBase;
  paging::PageTableEditor m_npt;
  std::uint64_t m_ncr3;
  FlatMap m_backing{1024};  // folio number (GPA >> folio shift) -> SPA folio number
  HypervisorCounters m_c;
};

}  // namespace rmpsim::hypervisor
