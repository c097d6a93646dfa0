#pragma once
// The guest kernel's memory management, as far as the translation path sees
// it (functional core): it owns the guest page tables (real radix tables in
// guest-physical memory), installs and removes mappings for MAP / UNMAP
// trace lines, demand-maps first touches of traces that carry only accesses
// (TRACE-FORMAT.md "Traces that carry only accesses"), and shoots down TLB
// entries on every vCPU when it removes or changes a mapping.
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/common/flat_map.hpp"
#include "models/common/stats.hpp"

#include "models/memory/phys_store.hpp"
#include "models/walker/page_table.hpp"
#include "models/mmu/translation_domain.hpp"
#include "traces/event.hpp"

namespace rmpsim::guest {

// guest.accept: which guest memory was validated before the trace began.
//   Eager: all of it (every page validated at launch, snp-semantics §4.7);
//   None:  only the kernel's own page tables — for traces that carry their
//          own PVALIDATE lines.
//   Lazy:  Linux's unaccepted memory: a 2 MiB unit is accepted (PSC to
//          private + PVALIDATE) when the guest OS first hands out a frame
//          from it — never on a fault (§4.7). Page tables count as accepted.
enum class Accept : std::uint8_t { Eager, None, Lazy };

// Built by guest_os_params_from() (guest_params.hpp); the defaults live in the schema.
struct GuestOsParams {
  std::uint16_t asid;
  Accept accept;
  unsigned levels;
  bool auto_map;
  // [start, end) GVA ranges that demand mapping maps shared (C-bit clear).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> shared_ranges;
  PageSize demand_page_size;
  std::uint64_t page_fault_cycles;  // handling one demand fault
  std::uint64_t invlpg_cycles;      // one local INVLPG
  std::uint64_t shootdown_cycles;   // remote TLB shootdown (IPI round trip)
  unsigned vcpus;
};

// GPA regions the model allocates from (documented in docs/models.md):
// explicit MAP lines should use other guest-physical addresses.
inline constexpr std::uint64_t kDemandGpaBase = 0x1'0000'0000;     // 4 GiB
inline constexpr std::uint64_t kPageTableGpaBase = 0xf0'0000'0000; // 960 GiB

// The most leaves one MAP line may install, and the most 2 MiB units it may
// hand to lazy acceptance (guest.accept = lazy): a MAP's work and memory
// follow what it creates, so a line naming more is refused rather than run
// for hours (issue 14, item 10; docs/trace-format.md "MAP"). 2^20 leaves:
// 4 GiB of 4K pages, 2 TiB of 2M, 1 PiB of 1G pages (a few seconds).
inline constexpr std::uint64_t kMaxMapLeaves = 1ull << 20;
inline constexpr std::uint64_t kMaxMapAcceptUnits = 1ull << 20;

struct GuestOsCounters {
  std::uint64_t maps = 0;            // pages mapped by MAP lines
  std::uint64_t unmaps = 0;          // pages unmapped by UNMAP lines
  std::uint64_t demand_maps = 0;     // first-touch faults resolved by mapping a fresh frame
  std::uint64_t page_faults = 0;     // guest #PF delivered to the guest OS
  std::uint64_t shootdowns = 0;      // remote TLB shootdowns (IPIs to other vCPUs)
  std::uint64_t invlpgs = 0;         // local page invalidations
};

// What a guest-side action cost and whether the guest survived it.
struct GuestResult {
  std::uint64_t cycles = 0;
  bool terminated = false;
  std::string reason;  // why the guest was terminated
  // guest.accept = lazy: 2M units (GPA) that must be accepted before the
  // access goes on; the vCPU does the PSC and the PVALIDATEs.
  std::vector<std::uint64_t> accept_units;
};

class GuestOs {
 public:
  // `tlbs`: every vCPU's TLBs and walk caches, which a page-table change
  // flushes (the kernel's TLB shootdown).
  GuestOs(memory::PhysStore& guest_mem, const GuestOsParams& p, mmu::TranslationDomain& tlbs);

  std::uint64_t gcr3() const { return m_gcr3; }
  std::uint16_t asid() const { return m_p.asid; }
  const GuestOsCounters& counters() const { return m_c; }
  // "guest_os": the GuestOsCounters.
  stats::Group& stats() { return m_stats; }

  // MAP / UNMAP trace lines. Mapping inconsistent with existing mappings
  // (a 4K page inside a mapped 2M page), or more than kMaxMapLeaves pages, is
  // refused with a message for the trace line; remapping present pages
  // flushes them. UNMAP visits only what is mapped in its range, however
  // large the range. Both stop early (with what they did so far flushed)
  // once stop_requested().
  GuestResult map(unsigned vcpu, const trace::Event& ev, std::string& error);
  GuestResult unmap(unsigned vcpu, const trace::Event& ev);

  // Interruption (SIGINT/SIGTERM, docs/reliability.md "Interrupted runs"):
  // once *flag is non-zero, long operations (MAP, UNMAP, CONVERT) stop at
  // the next page, so one signal ends a run within a second.
  void stop_when(const volatile std::sig_atomic_t* flag) { m_stop = flag; }
  bool stop_requested() const { return m_stop && *m_stop; }

  // The leaf that maps `gva` (functional: the kernel knows the physical
  // address of its own mappings, no walk is timed).
  std::optional<paging::Mapping> lookup(std::uint64_t gva) const { return m_pt.lookup(m_gcr3, gva); }
  // The guest page tables (the invariant checker inspects them).
  paging::PageTableEditor& page_tables() { return m_pt; }

  // Sets (private) or clears (shared) the C-bit of every guest leaf in
  // [gva, gva + len) and flushes the range on every vCPU, as
  // set_memory_encrypted/decrypted do. `error` names a range that is not
  // mapped or splits a large page.
  GuestResult set_encrypted(unsigned vcpu, std::uint64_t gva, std::uint64_t len, bool is_private,
                            std::string& error);

  // A guest #PF raised by the walker.
  GuestResult handle_page_fault(unsigned vcpu, std::uint64_t gva, std::uint64_t error_code);

  // Whether demand mapping maps this GVA shared.
  bool in_shared_range(std::uint64_t gva) const;

  // Whether the guest validated this page before the trace began
  // (guest.accept): the hypervisor assigns such pages already validated.
  bool prevalidated(std::uint64_t gpa) const {
    return m_p.accept == Accept::Eager || (gpa >= kPageTableGpaBase && gpa < m_next_pt_gpa);
  }

 private:
  void register_stats();
  std::uint64_t flush_cost(unsigned vcpu, std::uint64_t gva, std::uint64_t len,
                           std::uint64_t pages);
  std::uint64_t alloc_demand_frame(PageSize s);

  memory::PhysStore& m_mem;
  GuestOsParams m_p;
  mmu::TranslationDomain& m_tlbs;
  std::uint64_t m_next_pt_gpa = kPageTableGpaBase;
  std::uint64_t m_next_demand_gpa = kDemandGpaBase;
  paging::PageTableEditor m_pt;
  std::uint64_t m_gcr3;
  GuestOsCounters m_c;
  FlatMap m_accepted{64};  // 2M units accepted so far (guest.accept = lazy)
  stats::Group m_stats{"guest_os"};
  const volatile std::sig_atomic_t* m_stop = nullptr;

  // Records the units of [gpa, gpa + len) not accepted yet into r.
  void need_accept(std::uint64_t gpa, std::uint64_t len, GuestResult& r);
};

}  // namespace rmpsim::guest
