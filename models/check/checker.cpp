#include "models/check/checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "models/check/check_util.hpp"

namespace rmpsim::check {

using namespace detail;

// One per vCPU: tells the checker which vCPU's TLBs a walk filled.
class Checker::FillHook final : public mmu::FillObserver {
 public:
  FillHook(Checker& c, unsigned cpu) : m_c(c), m_cpu(cpu) {}
  void tlb_filled(const walker::WalkRequest& req, const walker::Translation& t) override {
    m_c.tlb_filled(m_cpu, req, t);
  }

 private:
  Checker& m_c;
  unsigned m_cpu;
};

Checker::Checker(rmp::RmpTable& rmp, hypervisor::Hypervisor& hv, guest::GuestOs& os,
                 std::vector<CheckedCpu> cpus)
    : m_rmp(rmp),
      m_hv(hv),
      m_os(os),
      m_cpus(std::move(cpus)),
      m_asid(hv.params().guest_asid),
      m_dirty(m_cpus.size() + 1) {
  m_rmp.set_observer(this);
  m_hv.npt().on_change(
      [this](std::uint64_t gpa, std::uint64_t len) { add(dirty_here().gpa, gpa, len); });
  m_os.page_tables().on_change(
      [this](std::uint64_t gva, std::uint64_t len) { add(dirty_here().gva, gva, len); });
  for (unsigned i = 0; i < m_cpus.size(); ++i) {
    m_fill_hooks.push_back(std::make_unique<FillHook>(*this, i));
    m_cpus[i].mmu->set_fill_observer(m_fill_hooks.back().get());
  }
  m_stats.add_counters({
      {"checks", &m_c.checks, "invariant evaluations (run --check)"},
      {"rmp_entries", &m_c.rmp_entries, "RMP entries checked (§1.3 and instruction rules)"},
      {"rmp_regions", &m_c.rmp_regions, "2M RMP regions checked"},
      {"gfns", &m_c.gfns, "GFNs checked against the NPT, memory attributes and the RMP"},
      {"tlb_probes", &m_c.tlb_probes,
       "cached translations (TLB, nested TLB, PWC) compared with a fresh walk"},
      {"points", &m_c.points, "consistency points that had changes to check"},
  });
}

Checker::~Checker() {
  m_rmp.set_observer(nullptr);
  m_hv.npt().on_change({});
  m_os.page_tables().on_change({});
  for (auto& c : m_cpus) c.mmu->set_fill_observer(nullptr);
}

// ---------------------------------------------------------------- plumbing

int Checker::current_cpu() const {
  const sc_core::sc_process_handle h = sc_core::sc_get_current_process_handle();
  if (!h.valid()) return -1;
  const sc_core::sc_object* parent = h.get_parent_object();
  for (unsigned i = 0; i < m_cpus.size(); ++i)
    if (m_cpus[i].module && m_cpus[i].module == parent) return int(i);
  return -1;
}

Checker::Dirty& Checker::dirty_here() { return m_dirty[std::size_t(current_cpu() + 1)]; }

std::string Checker::who(int cpu) const {
  return cpu >= 0 ? fmt::format("vCPU {}", cpu) : std::string("no vCPU running");
}

void Checker::fail(const std::string& invariant, const std::string& detail) {
  const int cpu = current_cpu();
  std::uint64_t cycle = 0;
  if (cpu >= 0) {
    cycle = m_cpus[std::size_t(cpu)].cycles();
  } else {
    for (const auto& c : m_cpus) cycle = std::max(cycle, c.cycles ? c.cycles() : 0);
  }
  throw InvariantViolation(
      cycle, fmt::format("invariant violated at cycle {}: {}: {} ({}, checked after {})", cycle,
                         invariant, detail, who(cpu), m_after));
}

void Checker::add(std::vector<Range>& v, std::uint64_t lo, std::uint64_t len) {
  const std::uint64_t hi = lo + len;
  // Changes come in runs (PSMASH's 512 entries, a zapped range): extend the
  // last range when this one touches it.
  if (!v.empty() && lo <= v.back().hi && hi >= v.back().lo) {
    v.back().lo = std::min(v.back().lo, lo);
    v.back().hi = std::max(v.back().hi, hi);
    return;
  }
  v.push_back(Range{lo, hi});
}

bool Checker::hits(const std::vector<Range>& v, std::uint64_t lo, std::uint64_t len) {
  for (const Range& r : v)
    if (lo < r.hi && r.lo < lo + len) return true;
  return false;
}

// ---------------------------------------------------------------- consistency points

void Checker::consistent(const char* after) {
  m_after = after;
  // RMP writes outside an instruction (none in the model: the hypervisor
  // changes the RMP through the instructions; tests that write entries
  // directly) get the per-entry and region rules.
  if (!m_pending.empty()) check_pending_rmp("a direct RMP write", nullptr);
  const int cpu = current_cpu();
  for (Dirty* d : {&m_dirty[0], &m_dirty[std::size_t(cpu + 1)]}) {
    if (d->empty()) continue;
    ++m_c.points;
    for (const Range& r : d->gpa)
      for (std::uint64_t g = r.lo >> 12; g < (r.hi + k4K - 1) >> 12; ++g) check_gfn(g);
    // Every vCPU's caches: a change by this vCPU must not leave stale
    // entries anywhere (its operation ended with a flush on all of them).
    const bool scan_tlbs = may_be_cached(*d);
    for (unsigned i = 0; i < m_cpus.size(); ++i) check_cpu_caches(i, d, scan_tlbs);
    *d = Dirty{};
    if (cpu < 0) break;  // [0] was both
  }
}

void Checker::final_check() {
  m_after = "the end of the run";
  if (!m_pending.empty()) check_pending_rmp("a direct RMP write", nullptr);
  std::set<std::uint64_t> regions;
  m_rmp.for_each_stored([&](std::uint64_t pfn, const rmp::RmpEntry& e) {
    ++m_c.checks;
    ++m_c.rmp_entries;
    const std::string v = rmp::RmpTable::entry_violation(pfn, e);
    if (!v.empty())
      fail("RMP entry well-formedness (snp-semantics §1.3)",
           fmt::format("{}; entry {}", v, entry_text(e)));
    regions.insert(pfn >> 9);
  });
  for (std::uint64_t r : regions) check_region(r);
  m_hv.npt().for_each_leaf(m_hv.ncr3(), [&](std::uint64_t gpa, const paging::Mapping& m) {
    for (std::uint64_t off = 0; off < page_bytes(m.size); off += k4K) check_gfn((gpa + off) >> 12);
  });
  for (unsigned i = 0; i < m_cpus.size(); ++i) check_cpu_caches(i, nullptr);
  m_dirty.assign(m_dirty.size(), Dirty{});
}

}  // namespace rmpsim::check
