#pragma once
// The invariant checker of `rmpsim run --check` (docs/reliability.md,
// "Invariant mode"). It watches every state change of the models — RMP
// entry writes and whole SNP instructions, nested and guest page-table
// changes, TLB fills — and at the points where the models claim a
// consistent state checks the rules of snp-semantics against them:
//
//   RMP      §1.3 well-formedness of every changed entry; the 2M-region rule
//            (§1.1, §1.5: a 2M entry's 511 sub-entries are unassigned, its
//            GPA 2M aligned, the region's assigned count right); the
//            instruction transition rules of §2.1/§2.2 (immutable and in-use
//            entries unchanged, reassignment resets Validated/VMSA/VMPL
//            permissions, PSMASH keeps owner/GPAs/Validated, PVALIDATE and
//            RMPADJUST change only their fields).
//   NPT/RMP  a nested mapping of a private GFN points at the GFN's own
//            guest_memfd page, assigned to the guest for that GPA at a level
//            >= the NPT level; a shared GFN maps its shared page, which the
//            RMP leaves hypervisor-owned (§1.4, §1.5, §2.3, §4.2, §4.6); the
//            side a GFN left has no backing any more (§4.2).
//   TLB      every live L1I/L1D/L2 entry of every vCPU, nested TLB entry and
//            PWC entry agrees with a fresh, side-effect-free walk of the
//            tables and the RMP (§1.4, §1.8, §2.3): same page, no more
//            permission, same C-bit, and a walk that still passes the RMP.
//   Conversions  when the guest finishes converting a range: private
//            GFNs assigned to the guest (and validated after CONVERT or
//            acceptance), shared GFNs hypervisor-owned (§3.3, §4.2, §4.7).
//
// What a change can affect is checked at the next consistency point; all of
// it is checked again at the end of the run (final_check()). A violation
// throws InvariantViolation: the run stops, nothing is written, exit 5.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/check/invariant_violation.hpp"
#include "models/common/flat_map.hpp"
#include "models/common/snp_ext.hpp"
#include "models/common/stats.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/vcpu.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/mmu/mmu.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::check {

// One vCPU as the checker sees it (a functional view, so that tests can
// check bare MMUs without SystemC).
struct CheckedCpu {
  mmu::Mmu* mmu = nullptr;
  const SnpAttrs* context = nullptr;           // live: ASID, VMPL, gCR3, nCR3
  std::function<std::uint64_t()> cycles;       // the vCPU's local time
  const sc_core::sc_object* module = nullptr;  // its SystemC module, if any
};

struct CheckCounters {
  std::uint64_t checks = 0;       // invariant evaluations of every kind
  std::uint64_t rmp_entries = 0;  // RMP entries checked (§1.3 and transitions)
  std::uint64_t rmp_regions = 0;  // 2M regions checked
  std::uint64_t gfns = 0;         // GFNs checked against NPT, attributes and RMP
  std::uint64_t tlb_probes = 0;   // cached translations compared with a fresh walk
  std::uint64_t points = 0;       // consistency points that had changes to check
};

class Checker final : public rmp::RmpObserver, public guest::CheckPoints {
 public:
  Checker(rmp::RmpTable& rmp, hypervisor::Hypervisor& hv, guest::GuestOs& os,
          std::vector<CheckedCpu> cpus);
  ~Checker() override;
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // RmpObserver
  void rmp_written(std::uint64_t pfn, const rmp::RmpEntry& before) override;
  void rmp_instruction_done(rmp::RmpOp op, std::uint64_t spa) override;
  // CheckPoints
  void consistent(const char* after) override;
  void conversion_done(const std::vector<guest::PscPage>& entries, bool to_private,
                       bool validated) override;
  // A walk filled vCPU `cpu`'s TLBs with `t` (Mmu::FillObserver, per vCPU).
  void tlb_filled(unsigned cpu, const walker::WalkRequest& req, const walker::Translation& t);

  // Everything, over the whole state: the RMP table, every NPT leaf, every
  // cached translation of every vCPU.
  void final_check();

  const CheckCounters& counters() const { return m_c; }
  // "check": the CheckCounters (attached only under --check, so that a
  // normal run's stats are unchanged).
  stats::Group& stats() { return m_stats; }

 private:
  struct Range {
    std::uint64_t lo, hi;  // [lo, hi)
  };
  // What changed since the last check, by the vCPU that changed it: a
  // change is checked at the next consistency point of that vCPU, after the
  // flush that closes its operation (another vCPU may run in between, e.g.
  // while a PVALIDATE rescind's latency elapses before its INVLPGB).
  struct Dirty {
    std::vector<Range> spa, gpa, gva;
    bool empty() const { return spa.empty() && gpa.empty() && gva.empty(); }
  };
  struct Pending {
    std::uint64_t pfn;
    rmp::RmpEntry before;
  };
  class FillHook;

  [[noreturn]] void fail(const std::string& invariant, const std::string& detail);
  static void add(std::vector<Range>& v, std::uint64_t lo, std::uint64_t len);
  static bool hits(const std::vector<Range>& v, std::uint64_t lo, std::uint64_t len);

  void check_pending_rmp(const char* op_name, const rmp::RmpOp* op);
  void check_entry_transition(const rmp::RmpOp* op, std::uint64_t pfn, const rmp::RmpEntry& before,
                              const rmp::RmpEntry& after);
  void check_psmash(std::uint64_t head_pfn, const rmp::RmpEntry& head_before);
  void check_region(std::uint64_t region);
  void check_gfn(std::uint64_t gfn);
  // `where`: "L1I", "L1D", "L2" or "fill".
  void check_translation(unsigned cpu, const char* where, std::uint16_t asid, std::uint64_t gva,
                         std::uint64_t spa_page, std::uint64_t gpa_page, PageSize size,
                         bool writable, bool executable, bool dirty, bool cbit);
  void check_ntlb(unsigned cpu, std::uint16_t asid, std::uint64_t gpa,
                  const walker::NestedProbe& e);
  // A guest PWC entry (addr: GVA, table: GPA) or, when `nested`, a nested
  // PWC entry (addr: GPA, table: SPA).
  void check_pwc(unsigned cpu, bool nested, unsigned level, std::uint64_t addr,
                 std::uint64_t table, bool w, bool x);
  // Every cached translation of `cpu` that `d` may affect (all of them when
  // d is null); the TLBs only when `scan_tlbs`.
  void check_cpu_caches(unsigned cpu, const Dirty* d, bool scan_tlbs = true);
  bool may_be_cached(const Dirty& d) const;
  Dirty& dirty_here();
  // Pages (per page size) any TLB was ever filled with, by GVA, GPA and SPA:
  // a superset of what the TLBs can hold, since every TLB entry comes from a
  // walk fill (an L1 refill copies an L2 entry). A change none of whose
  // pages is in it cannot have made a TLB entry stale, and the TLB scan is
  // skipped (the walk caches are small and always scanned).
  struct FilledPages {
    FlatMap pages{4096};
    std::array<std::uint64_t, 3> per_size{};
    void add(PageSize s, std::uint64_t base);
    bool any(const std::vector<Range>& ranges) const;
  };
  FilledPages m_filled_gva, m_filled_gpa, m_filled_spa;
  int current_cpu() const;
  std::string who(int cpu) const;

  rmp::RmpTable& m_rmp;
  hypervisor::Hypervisor& m_hv;
  guest::GuestOs& m_os;
  std::vector<CheckedCpu> m_cpus;
  std::vector<std::unique_ptr<FillHook>> m_fill_hooks;
  std::uint16_t m_asid;

  std::vector<Pending> m_pending;  // RMP writes since the last check, first write per PFN
  FlatMap m_pending_index{64};     // PFN -> index in m_pending
  std::vector<Dirty> m_dirty;      // [0]: no vCPU running (tests); [i + 1]: vCPU i
  const char* m_after = "";        // the consistency point being checked
  CheckCounters m_c;
  stats::Group m_stats{"check"};
};

}  // namespace rmpsim::check
