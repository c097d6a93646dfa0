#pragma once
// The hypervisor (functional core), modelled on KVM (snp-semantics §4).
// It owns the nested page tables, KVM's memory attributes and the two
// backings of guest memory (GuestMemory), and handles #NPF exits:
//   - an access whose private/shared-ness differs from the GFN's attribute
//     is an implicit conversion request, handled by hypervisor.policy:
//       exit-to-userspace (upstream KVM, default): KVM_EXIT_MEMORY_FAULT to
//         the userspace model, which converts the attribute (or refuses);
//         the guest re-faults and the page is faulted in on its new side;
//       auto-convert (2021/2022 RFC): the kernel converts and maps at once;
//       terminate: the guest is terminated with a reason;
//   - not present: fault in from the side the attribute says: a private
//     page is RMPUPDATEd to the guest (2M only when the folio is 2M, all
//     512 entries are unassigned and the 2M GFN range uniformly private,
//     §4.2), the NPT mapped at min(folio, RMP level) (§4.6 step 3);
//   - RMP fault with a size mismatch: PSMASH (retrying FAIL_INUSE), zap the
//     512-GFN NPT range, flush (§4.1 step 4); on a 4K entry: spurious; on a
//     GFN that is not private, has no page or no assigned entry: warned
//     about (counted) and skipped, as sev_handle_rmp_fault does.
// Conversions always unmap the NPT and flush before an RMPUPDATE to shared
// (§2.3), and return guest_memfd pages with a 2M RMPUPDATE only when the
// whole 2M entry is converted, else PSMASH first (§4.2).
#include <cstdint>
#include <functional>
#include <string>

#include "models/common/stats.hpp"
#include "models/hypervisor/conversion.hpp"
#include "models/hypervisor/guest_memory.hpp"
#include "models/hypervisor/psc.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_table.hpp"
#include "models/walker/page_table.hpp"
#include "models/mmu/translation_domain.hpp"

namespace rmpsim::hypervisor {

// Bytes in a 2 MiB page: the 2M regions of the hypervisor's fault-in,
// conversion and PSMASH arithmetic (hypervisor.cpp, hypervisor_npf.cpp).
inline constexpr std::uint64_t k2M = page_bytes(PageSize::k2M);

enum class Policy : std::uint8_t { ExitToUserspace, AutoConvert, Terminate };

// What a huge guest_memfd folio does across conversions
// (hypervisor.huge_folio_conversion; only matters with backing_page_size 2m/1g).
//   SplitMerge: split on the way to shared, whole again once its 2M range is
//     uniformly private, so a 2M RMP entry and NPT leaf come back (KVM's rule:
//     folio order + uniform attributes + all 512 PFNs unassigned, §4.2);
//   Stay4K: a GFN that was ever converted never again sits in a 2M entry.
enum class HugeFolioConversion : std::uint8_t { SplitMerge, Stay4K };

// Built by hypervisor_params_from() (hypervisor_params.hpp); the defaults live in the schema.
struct HypervisorParams {
  Policy policy;
  unsigned npt_levels;
  PageSize backing_page_size;
  HugeFolioConversion huge_folio_conversion;
  std::uint16_t guest_asid;
  // Under an SVSM (guest.svsm): the guest VMPL its boot-time validation
  // granted every page to; 0 without one.
  std::uint8_t boot_grant_vmpl = 0;
  std::uint64_t exit_cycles;            // one SNP exit round trip
  std::uint64_t npt_map_cycles;         // in-kernel fault-in: allocate, map
  std::uint64_t rmpupdate_cycles;       // one RMPUPDATE
  std::uint64_t psmash_cycles;          // one PSMASH
  std::uint64_t tlb_flush_cycles;       // flushing the guest's ASID on every vCPU
  std::uint64_t userspace_cycles;       // KVM_RUN return to userspace and back
  std::uint64_t userspace_page_cycles;  // userspace work per 4K page converted
  bool userspace_refuses;               // userspace.refuse_conversions
};

inline constexpr std::uint64_t kNptSpaBase = 0x7f0'0000'0000;

struct HypervisorCounters {
  std::uint64_t vmexits = 0;
  std::uint64_t npf_total = 0;
  std::uint64_t npf_not_present = 0;
  std::uint64_t npf_rmp = 0;
  std::uint64_t npf_rmp_size = 0;      // resolved by PSMASH + zap
  std::uint64_t npf_rmp_spurious = 0;  // entry already 4K: nothing to do
  std::uint64_t npf_rmp_unexpected = 0;  // warned about and ignored (§4.1 step 4)
  std::uint64_t npf_mismatch = 0;      // implicit conversion requests (attribute mismatch)
  std::uint64_t npf_vmpl = 0;          // VMPL permission violations
  std::uint64_t userspace_exits = 0;   // KVM_EXIT_MEMORY_FAULT + KVM_HC_MAP_GPA_RANGE exits
  std::uint64_t memory_fault_exits = 0;
  std::uint64_t pages_to_private = 0;  // 4K pages whose attribute became private
  std::uint64_t pages_to_shared = 0;
  std::uint64_t npt_maps = 0;          // NPT leaves installed
  std::uint64_t npt_zaps = 0;          // NPT ranges unmapped (PSMASH, conversions)
  std::uint64_t tlb_flushes = 0;       // ASID flushes on every vCPU
  std::uint64_t rmpupdate = 0;
  std::uint64_t psmash = 0;
  std::uint64_t psmash_inuse_retries = 0;
  std::uint64_t psc_msr_requests = 0;   // MSR-protocol PSC VMGEXITs
  std::uint64_t psc_ghcb_requests = 0;  // GHCB PSC VMGEXITs
  std::uint64_t psc_pages = 0;          // 4K pages forwarded to userspace by PSC
  std::uint64_t map_gpa_range_exits = 0;
  std::uint64_t psc_errors = 0;         // PSC requests answered with an error
};

// What the guest reads back after a GHCB PSC VMGEXIT.
struct GhcbPscResult {
  std::uint64_t sw_exitinfo1 = 0;
  std::uint64_t sw_exitinfo2 = 0;
};

struct NpfResult {
  std::uint64_t cycles = 0;
  bool resolved = false;
  std::string reason;        // when not resolved: why the guest cannot go on
  bool conversion = false;   // the exit converted a page (or sent it to userspace to)
  bool to_private = false;
  ConversionCost cost;       // `cycles`, by component
};

class Hypervisor {
 public:
  // `prevalidated(gpa)`: whether the guest validated this page before the
  // trace began (guest.accept); such pages are assigned already validated.
  // `tlbs`: every vCPU's TLBs and walk caches; NPT and RMP changes flush
  // the guest's ASID there (snp-semantics §2.3).
  // `clflush(spa)`: write back and forget a 4K frame's cache lines; returns
  // the cycles that takes (writing back the dirty ones), charged to the
  // conversion's cost.flush.
  Hypervisor(memory::PhysStore& host_mem, rmp::RmpTable& rmp, const HypervisorParams& p,
             std::function<bool(std::uint64_t)> prevalidated, mmu::TranslationDomain& tlbs,
             std::function<std::uint64_t(std::uint64_t)> clflush = {});

  std::uint64_t ncr3() const { return m_ncr3; }
  const HypervisorCounters& counters() const { return m_c; }
  // "hypervisor": the HypervisorCounters and the guest's backing at the end.
  stats::Group& stats() { return m_stats; }
  const HypervisorParams& params() const { return m_p; }
  GuestMemory& memory() { return m_gm; }
  rmp::RmpTable& rmp() { return m_rmp; }
  const GuestMemory& memory() const { return m_gm; }
  // The nested page tables (the invariant checker inspects them).
  paging::PageTableEditor& npt() { return m_npt; }
  // Whether [spa, spa + len) overlaps a page of the nested page tables
  // (they are allocated from kNptSpaBase up).
  bool overlaps_npt(std::uint64_t spa, std::uint64_t len) const {
    return spa < m_next_npt_spa && spa + len > kNptSpaBase;
  }

  // A #NPF exit (EXITINFO2 = gpa, EXITINFO1 = error code, §1.6).
  NpfResult handle_npf(unsigned vcpu, std::uint64_t gpa, std::uint64_t exitinfo1);

  // The userspace side of a conversion of [gpa, gpa + pages*4K): what QEMU
  // does on KVM_EXIT_MEMORY_FAULT or KVM_HC_MAP_GPA_RANGE — set the memory
  // attributes and discard the stale backing (§4.2). Returns false when
  // userspace refuses. Costs are added to `cost`.
  bool userspace_convert(std::uint64_t gpa, std::uint64_t pages, bool to_private,
                         ConversionCost& cost);

  // Page State Change requests (VMGEXIT), handled as KVM does (§4.2): every
  // private/shared run becomes a KVM_HC_MAP_GPA_RANGE exit to the userspace
  // model, which converts; no RMPUPDATE happens in the PSC path itself.
  // MSR protocol: returns the GHCB MSR value the guest reads back.
  std::uint64_t psc_msr(std::uint64_t ghcb_msr, ConversionCost& cost);
  // GHCB protocol: the descriptor in the guest's scratch area
  // `scratch[0..len)` is hostile input; its progress fields are written back.
  GhcbPscResult psc_ghcb(std::uint8_t* scratch, std::size_t len, ConversionCost& cost);

  // VMGEXIT AP_CREATION with the VMSA at `vmsa_gpa`. KVM refuses a 2 MiB-
  // aligned VMSA (the host-hugepage erratum guard, §1.5): SW_EXITINFO1 = 2,
  // SW_EXITINFO2 = 5 "invalid input" (§6 row 30); otherwise {0, 0}.
  GhcbPscResult ap_create(std::uint64_t vmsa_gpa) {
    ++m_c.vmexits;
    if ((vmsa_gpa & 0x1fffff) == 0) return GhcbPscResult{2, 5};
    return GhcbPscResult{0, 0};
  }

  // A VMPL switch: an exit and a VMRUN of another VMSA; returns its cost.
  std::uint64_t vmpl_switch() {
    ++m_c.vmexits;
    return m_p.exit_cycles;
  }
  // A VMGEXIT round trip (PSC requests); returns its cost.
  std::uint64_t vmgexit() {
    ++m_c.vmexits;
    return m_p.exit_cycles;
  }

  // The host frame backing a GPA on its current side, if any.
  bool backing_of(std::uint64_t gpa, std::uint64_t& spa) const;
  // The host frame the NPT maps `gpa` to, if it maps it (an access by GPA —
  // the SVSM's — takes a not-present #NPF otherwise).
  bool npt_mapped(std::uint64_t gpa, std::uint64_t& spa) const;
  // The host frame a host access to `gpa` reaches: the backing of the GFN's
  // current side, allocated if the guest never touched it.
  std::uint64_t host_backing(std::uint64_t gpa) {
    return m_gm.backing(gpa, m_gm.is_private(gpa));
  }

 private:
  void register_stats();
  NpfResult fault_in(std::uint64_t gpa, bool is_private);
  NpfResult rmp_fault(std::uint64_t gpa, std::uint64_t exitinfo1);
  NpfResult mismatch(std::uint64_t gpa, bool access_private, std::uint64_t exitinfo1);
  // The kernel's part of a conversion: attributes, NPT unmap + flush, RMP
  // return of guest_memfd pages, discard of the stale backing. The NPT is
  // unmapped over the range widened to `zap_align` boundaries.
  // False (and `error`) when an RMP instruction fails on the way.
  bool convert_range(std::uint64_t gpa, std::uint64_t pages, bool to_private,
                     ConversionCost& cost, std::string& error,
                     std::uint64_t zap_align = 0x1000);
  // Assigns the backing of a private GPA to the guest; returns the RMP level
  // (`error` set when the RMPUPDATE fails).
  PageSize assign_private(std::uint64_t gpa, ConversionCost& cost, std::string& error);
  bool uniform_2m(std::uint64_t gpa) const;
  void zap(std::uint64_t gpa, std::uint64_t len);
  void flush(ConversionCost& cost);

  memory::PhysStore& m_mem;
  rmp::RmpTable& m_rmp;
  HypervisorParams m_p;
  std::function<bool(std::uint64_t)> m_prevalidated;
  mmu::TranslationDomain& m_tlbs;
  std::function<std::uint64_t(std::uint64_t)> m_clflush;
  std::uint64_t m_next_npt_spa = kNptSpaBase;
  paging::PageTableEditor m_npt;
  std::uint64_t m_ncr3;
  GuestMemory m_gm;
  psc::GhcbPscHandler m_psc;
  HypervisorCounters m_c;
  std::string m_error;  // why the last userspace conversion failed, if it did
  stats::Group m_stats{"hypervisor"};
};

}  // namespace rmpsim::hypervisor
