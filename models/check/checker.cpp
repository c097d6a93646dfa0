#include "models/check/checker.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace rmpsim::check {

namespace {
constexpr std::uint64_t k4K = 0x1000, k2M = 0x200000;

const char* size_name(PageSize s) {
  return s == PageSize::k1G ? "1G" : s == PageSize::k2M ? "2M" : "4K";
}

std::string entry_text(const rmp::RmpEntry& e) {
  return fmt::format("{{assigned {}, {}, immutable {}, validated {}, vmsa {}, asid {}, gpa {:#x}, "
                     "perms {:x}/{:x}/{:x}/{:x}}}",
                     int(e.assigned), e.large ? "2M" : "4K", int(e.immutable), int(e.validated),
                     int(e.vmsa), e.asid, e.gpa, e.perms[0], e.perms[1], e.perms[2], e.perms[3]);
}

const char* fault_name(walker::FaultKind k) {
  switch (k) {
    case walker::FaultKind::GuestPageFault: return "a guest #PF";
    case walker::FaultKind::NestedPageFault: return "a #NPF";
    case walker::FaultKind::VcNotValidated: return "#VC 0x404";
    default: return "no fault";
  }
}
}  // namespace

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
  m_hv.npt().on_change([this](std::uint64_t gpa, std::uint64_t len) {
    add(dirty_here().gpa, gpa, len);
  });
  m_os.page_tables().on_change([this](std::uint64_t gva, std::uint64_t len) {
    add(dirty_here().gva, gva, len);
  });
  for (unsigned i = 0; i < m_cpus.size(); ++i) {
    m_fill_hooks.push_back(std::make_unique<FillHook>(*this, i));
    m_cpus[i].mmu->set_fill_observer(m_fill_hooks.back().get());
  }
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

// ---------------------------------------------------------------- RMP

void Checker::rmp_written(std::uint64_t pfn, const rmp::RmpEntry& before) {
  if (m_pending_index.find(pfn) == FlatMap::kNone) {
    m_pending_index.put(pfn, static_cast<std::uint32_t>(m_pending.size()));
    m_pending.push_back(Pending{pfn, before});
  }
  // What the change can affect: translations to this page (or its 2M
  // region) and the GFNs the entry was or is bound to.
  Dirty& d = dirty_here();
  const rmp::RmpEntry after = m_rmp.raw(pfn);
  const bool big = before.large || after.large;
  add(d.spa, big ? (pfn << 12) & ~(k2M - 1) : pfn << 12, big ? k2M : k4K);
  for (const rmp::RmpEntry* e : {&before, &after})
    if (e->assigned) add(d.gpa, e->gpa, e->large ? k2M : k4K);
}

void Checker::rmp_instruction_done(rmp::RmpOp op, std::uint64_t /*spa*/) {
  if (m_pending.empty()) return;  // the instruction changed nothing
  m_after = rmp::rmp_op_name(op);
  check_pending_rmp(rmp::rmp_op_name(op), &op);
}

void Checker::check_pending_rmp(const char* op_name, const rmp::RmpOp* op) {
  std::set<std::uint64_t> regions;
  for (const Pending& p : m_pending) {
    const rmp::RmpEntry after = m_rmp.raw(p.pfn);
    ++m_c.checks;
    ++m_c.rmp_entries;
    const std::string v = rmp::RmpTable::entry_violation(p.pfn, after);
    if (!v.empty())
      fail("RMP entry well-formedness (snp-semantics §1.3)",
           fmt::format("{} after {}; entry {}", v, op_name, entry_text(after)));
    check_entry_transition(op, p.pfn, p.before, after);
    if (op && *op == rmp::RmpOp::Psmash && p.before.large) check_psmash(p.pfn, p.before);
    regions.insert(p.pfn >> 9);
  }
  for (std::uint64_t r : regions) check_region(r);
  m_pending.clear();
  m_pending_index = FlatMap(64);
}

void Checker::check_entry_transition(const rmp::RmpOp* op, std::uint64_t pfn,
                                     const rmp::RmpEntry& before, const rmp::RmpEntry& after) {
  if (!op || before == after) return;
  ++m_c.checks;
  const char* name = rmp::rmp_op_name(*op);
  auto bad = [&](const char* invariant, const char* what) {
    fail(invariant, fmt::format("{} of PFN {:#x} {}: before {}, after {}", name, pfn, what,
                                entry_text(before), entry_text(after)));
  };
  if (before.immutable)
    bad("immutable RMP entries do not change (snp-semantics §1.3, §2.2 FAIL_PERMISSION)",
        "changed an immutable entry");
  if ((*op == rmp::RmpOp::Rmpupdate || *op == rmp::RmpOp::Psmash) && m_rmp.in_use(pfn))
    bad("in-use RMP entries do not change (snp-semantics §2.1 FAIL_INUSE, §1.6 VMSA)",
        "changed an entry that is in use");
  switch (*op) {
    case rmp::RmpOp::Rmpupdate: {
      const bool reassigned = before.assigned != after.assigned || before.asid != after.asid ||
                              before.gpa != after.gpa || before.large != after.large ||
                              before.immutable != after.immutable;
      const std::array<std::uint8_t, 4> fresh{rmp::kPermAll, 0, 0, 0};
      if (reassigned && after.assigned && (after.validated || after.vmsa || after.perms != fresh))
        bad("RMPUPDATE reassignment resets Validated, VMSA and VMPL permissions "
            "(snp-semantics §2.2, §6 row 18)",
            "reassigned the page but kept state");
      break;
    }
    case rmp::RmpOp::Pvalidate: {
      rmp::RmpEntry expect = before;
      expect.validated = after.validated;
      if (!(expect == after))
        bad("PVALIDATE changes only the Validated bit (snp-semantics §2.2)",
            "changed more than Validated");
      break;
    }
    case rmp::RmpOp::Rmpadjust: {
      rmp::RmpEntry expect = before;
      for (int v = 1; v < 4; ++v) expect.perms[v] = after.perms[v];
      expect.vmsa = after.vmsa;
      if (!(expect == after))
        bad("RMPADJUST changes only VMPL1-3 permissions and the VMSA flag (snp-semantics §2.2)",
            "changed other fields");
      break;
    }
    case rmp::RmpOp::Psmash:
      break;  // check_psmash() looks at all 512 entries at once
  }
}

void Checker::check_psmash(std::uint64_t head_pfn, const rmp::RmpEntry& hb) {
  for (std::uint64_t i = 0; i < 512; ++i) {
    const rmp::RmpEntry e = m_rmp.raw(head_pfn + i);
    ++m_c.checks;
    const bool ok = !e.large && e.assigned == hb.assigned && e.asid == hb.asid &&
                    e.immutable == hb.immutable && e.validated == hb.validated &&
                    (!hb.assigned || e.gpa == hb.gpa + (i << 12));
    if (!ok)
      fail("PSMASH keeps owner, consecutive GPAs and Validated (snp-semantics §2.2, §6 row 19)",
           fmt::format("PFN {:#x} (entry {} of the 2M entry at PFN {:#x}) is {}; the 2M entry was "
                       "{}",
                       head_pfn + i, i, head_pfn, entry_text(e), entry_text(hb)));
  }
}

void Checker::check_region(std::uint64_t region) {
  ++m_c.rmp_regions;
  ++m_c.checks;
  const std::uint64_t head_pfn = region << 9;
  const rmp::RmpEntry head = m_rmp.raw(head_pfn);
  std::uint64_t assigned = 0;
  for (std::uint64_t i = 1; i < 512; ++i) {
    const rmp::RmpEntry e = m_rmp.raw(head_pfn + i);
    if (!e.assigned) continue;
    ++assigned;
    // A 2M entry governs the whole region (§1.1); RMPUPDATE refuses a 2M
    // entry over assigned 4K entries with FAIL_OVERLAP (§1.5, §6 row 17).
    if (head.large)
      fail("2M-region rule: no assigned 4K entry under a 2M entry (snp-semantics §1.1, §1.5)",
           fmt::format("the 2M RMP entry at PFN {:#x} {} overlaps the assigned 4K entry of PFN "
                       "{:#x} {}",
                       head_pfn, entry_text(head), head_pfn + i, entry_text(e)));
  }
  if (head.large && head.assigned && (head.gpa & (k2M - 1)))
    fail("2M-region rule: a 2M entry binds a 2M-aligned GPA (snp-semantics §2.2)",
         fmt::format("the 2M RMP entry at PFN {:#x} binds GPA {:#x}", head_pfn, head.gpa));
  const std::uint64_t expect = head.large ? (head.assigned ? 512 : 0) : assigned + head.assigned;
  const std::uint64_t counted = m_rmp.assigned_in_region(head_pfn << 12);
  if (counted != expect)
    fail("2M-region assigned count, used by the host 2M-mapping rule and FAIL_OVERLAP "
         "(snp-semantics §1.5)",
         fmt::format("the region at SPA {:#x} has {} assigned 4K pages but the RMP counts {}",
                     head_pfn << 12, expect, counted));
}

// ---------------------------------------------------------------- NPT, attributes, RMP

void Checker::check_gfn(std::uint64_t gfn) {
  ++m_c.gfns;
  ++m_c.checks;
  const std::uint64_t gpa = gfn << 12;
  const hypervisor::GuestMemory& gm = m_hv.memory();
  const bool priv = gm.is_private(gpa);
  const char* side = priv ? "private" : "shared";
  std::uint64_t other = 0;
  if (gm.find_backing(gpa, !priv, other))
    fail("a converted GFN keeps no backing on the side it left (snp-semantics §4.2)",
         fmt::format("GPA {:#x} is {} but still has a {} page at SPA {:#x}", gpa, side,
                     priv ? "shared" : "guest_memfd", other));
  const auto m = m_hv.npt().lookup(m_hv.ncr3(), gpa);
  if (!m) return;
  const std::uint64_t spa = m->pa | (gpa & (page_bytes(m->size) - 1));
  std::uint64_t backing = 0;
  if (!gm.find_backing(gpa, priv, backing) || backing != spa)
    fail("the NPT maps a GFN to its backing on its attribute's side (snp-semantics §4.6 step 3)",
         fmt::format("{} GPA {:#x} is mapped to SPA {:#x} by a {} NPT leaf, its {} backing is {}",
                     side, gpa, spa, size_name(m->size), side,
                     gm.find_backing(gpa, priv, backing) ? fmt::format("{:#x}", backing)
                                                         : std::string("none")));
  const rmp::Governing g = m_rmp.governing(spa);
  if (priv) {
    const rmp::RmpEntry& e = g.entry;
    if (!e.assigned || e.immutable || e.asid != m_asid || g.page_gpa != gpa)
      fail("a private GFN is mapped only to a page RMPUPDATEd to the guest for that GPA "
           "(snp-semantics §2.3, §4.6 step 3)",
           fmt::format("GPA {:#x} -> SPA {:#x}, whose governing RMP entry is {} (binds GPA {:#x})",
                       gpa, spa, entry_text(e), g.page_gpa));
    if (g.size < m->size)
      fail("private NPT level <= RMP level (snp-semantics §1.5, §8 point 3: KVM caps it)",
           fmt::format("GPA {:#x} is mapped by a {} NPT leaf over a {} RMP entry", gpa,
                       size_name(m->size), size_name(g.size)));
  } else if (g.entry.assigned) {
    fail("a shared GFN's page is hypervisor-owned (snp-semantics §1.4 shared access, §4.6)",
         fmt::format("shared GPA {:#x} is mapped to SPA {:#x}, whose RMP entry is assigned {}",
                     gpa, spa, entry_text(g.entry)));
  }
}

void Checker::conversion_done(const std::vector<trace::PscEntry>& entries, bool to_private,
                              bool validated) {
  m_after = to_private ? "a conversion to private" : "a conversion to shared";
  consistent(m_after);
  const hypervisor::GuestMemory& gm = m_hv.memory();
  for (const trace::PscEntry& e : entries) {
    for (std::uint64_t gpa = e.gpa & ~(k4K - 1); gpa < e.gpa + page_bytes(e.size); gpa += k4K) {
      // Another vCPU may have converted the page back since: then the
      // global rules above still hold, this conversion's outcome is gone.
      if (gm.is_private(gpa) != to_private) continue;
      check_gfn(gpa >> 12);
      std::uint64_t spa = 0;
      if (!to_private) {
        if (gm.find_backing(gpa, false, spa) && m_rmp.governing(spa).entry.assigned)
          fail("a page converted to shared is hypervisor-owned (snp-semantics §4.2)",
               fmt::format("GPA {:#x}, shared page SPA {:#x} is assigned", gpa, spa));
        continue;
      }
      if (!validated) continue;  // a PSC alone: assigned on the next fault (§4.2)
      ++m_c.checks;
      const rmp::Governing g = gm.find_backing(gpa, true, spa) ? m_rmp.governing(spa)
                                                                : rmp::Governing{};
      const rmp::RmpEntry& r = g.entry;
      if (!r.assigned || r.asid != m_asid || g.page_gpa != gpa || !r.validated)
        fail("after a conversion to private the page is assigned to the guest and validated "
             "(snp-semantics §3.3, §4.7: PSC then PVALIDATE)",
             fmt::format("GPA {:#x}: {}", gpa,
                         spa ? fmt::format("SPA {:#x}, RMP entry {} (binds GPA {:#x})", spa,
                                           entry_text(r), g.page_gpa)
                             : std::string("no guest_memfd page")));
    }
  }
}

// ---------------------------------------------------------------- TLBs and walk caches

void Checker::check_translation(unsigned cpu, const char* where, std::uint16_t asid,
                                std::uint64_t gva, std::uint64_t spa_page, std::uint64_t gpa_page,
                                PageSize size, bool writable, bool executable, bool dirty,
                                bool cbit) {
  ++m_c.checks;
  ++m_c.tlb_probes;
  const CheckedCpu& c = m_cpus[cpu];
  walker::WalkRequest req;
  req.gva = gva;
  req.asid = asid;
  req.vmpl = c.context->vmpl;
  req.gcr3 = c.context->gcr3;
  req.ncr3 = c.context->ncr3;
  walker::ProbeResult p;
  c.mmu->walker().probe(req, p);
  const std::string entry =
      fmt::format("the {} entry of vCPU {} for GVA {:#x} ({}, GPA {:#x}, SPA {:#x}, C={}, {}{})",
                  where, cpu, gva, size_name(size), gpa_page, spa_page, int(cbit),
                  writable ? "W" : "R", executable ? "X" : "");
  if (!p.ok) {
    const bool stale_private = cbit && p.rmp;
    fail(stale_private ? "no stale private translation: a cached private translation of a page "
                         "the RMP no longer lets through (snp-semantics §1.4, §1.8, §2.3)"
                       : "TLB coherence: a cached translation the tables no longer give "
                         "(snp-semantics §2.3)",
         fmt::format("{}: a fresh walk raises {}{} at {:#x}{}", entry, fault_name(p.fault),
                     p.rmp ? " (RMP)" : "", p.fault_addr, p.gpt ? " (guest page-table page)" : ""));
  }
  const std::uint64_t mask = ~(page_bytes(size) - 1);
  std::string why;
  if ((p.tr.spa & mask) != spa_page || (p.tr.gpa & mask) != gpa_page)
    why = fmt::format("a fresh walk gives GPA {:#x}, SPA {:#x}", p.tr.gpa & mask, p.tr.spa & mask);
  else if (p.tr.size < size)
    why = fmt::format("a fresh walk gives a {} page only", size_name(p.tr.size));
  else if (writable && !p.tr.writable)
    why = "it allows writes the tables or the RMP no longer allow";
  else if (executable && !p.tr.executable)
    why = "it allows fetches the tables or the RMP no longer allow";
  else if (cbit != p.tr.cbit)
    why = fmt::format("a fresh walk gives C={}", int(p.tr.cbit));
  else if (dirty && !p.tr.dirty)
    why = "it is dirty but the guest PTE's D bit is clear";
  if (!why.empty())
    fail("TLB coherence: a cached translation agrees with a fresh walk (snp-semantics §2.3)",
         entry + ": " + why);
}

void Checker::check_ntlb(unsigned cpu, std::uint16_t /*asid*/, std::uint64_t gpa,
                         const walker::NestedProbe& e) {
  ++m_c.checks;
  ++m_c.tlb_probes;
  const CheckedCpu& c = m_cpus[cpu];
  walker::NestedProbe n;
  const std::string entry =
      fmt::format("the nested TLB entry of vCPU {} for GPA {:#x} ({}, SPA {:#x}, {}{})", cpu, gpa,
                  size_name(e.size), e.spa_page, e.writable ? "W" : "R", e.executable ? "X" : "");
  if (!c.mmu->walker().probe_nested(c.context->ncr3, gpa, n))
    fail("nested TLB coherence (snp-semantics §2.3: NPT zaps flush)",
         entry + ": the NPT no longer maps the GPA");
  const std::uint64_t spa = (n.spa_page | (gpa & (page_bytes(n.size) - 1))) &
                            ~(page_bytes(e.size) - 1);
  if (spa != e.spa_page || n.size < e.size || (e.writable && !n.writable) ||
      (e.executable && !n.executable))
    fail("nested TLB coherence (snp-semantics §2.3: NPT zaps flush)",
         fmt::format("{}: the NPT now gives SPA {:#x} ({}, {}{})", entry, spa, size_name(n.size),
                     n.writable ? "W" : "R", n.executable ? "X" : ""));
}

void Checker::check_pwc(unsigned cpu, std::uint16_t /*asid*/, unsigned level, std::uint64_t gva,
                        std::uint64_t table_gpa, bool w, bool x) {
  ++m_c.checks;
  ++m_c.tlb_probes;
  const CheckedCpu& c = m_cpus[cpu];
  std::uint64_t t = 0;
  bool pw = false, px = false;
  const bool found = c.mmu->walker().probe_guest_table(c.context->gcr3, gva, level, t, pw, px);
  if (!found || t != table_gpa || (w && !pw) || (x && !px))
    fail("page-walk cache coherence (snp-semantics §2.3: guest mapping changes flush)",
         fmt::format("the PWC entry of vCPU {} for GVA {:#x} at level {} points to the table at "
                     "GPA {:#x}; the guest tables {}",
                     cpu, gva, level, table_gpa,
                     found ? fmt::format("point to {:#x}", t) : std::string("have no table there")));
}

void Checker::tlb_filled(unsigned cpu, const walker::WalkRequest& req,
                         const walker::Translation& t) {
  // A fill is checked at once: it is the output of a walk that used the
  // PWC and nested TLB, so a stale walk-cache entry shows up here first.
  const std::uint64_t mask = ~(page_bytes(t.size) - 1);
  const char* saved = m_after;
  m_after = "a TLB fill";
  check_translation(cpu, "fill", req.asid, req.gva & mask, t.spa & mask, t.gpa & mask, t.size,
                    t.writable, t.executable, t.dirty, t.cbit);
  m_after = saved;
}

void Checker::check_cpu_caches(unsigned cpu, const Dirty* d) {
  const mmu::Mmu& m = *m_cpus[cpu].mmu;
  // The affected entries are found by a scan of the structures' slots (a
  // few thousand per vCPU, no walks) and only those are probed: a TLB is
  // indexed by GVA, but RMP and NPT changes name SPAs and GPAs.
  auto tlb = [&](const mmu::Tlb& tlb, const char* name) {
    tlb.for_each([&](std::uint16_t asid, std::uint64_t gva, const mmu::TlbEntry& e) {
      const std::uint64_t len = page_bytes(e.size);
      if (d && !hits(d->gva, gva, len) && !hits(d->gpa, e.gpa_page, len) &&
          !hits(d->spa, e.spa_page, len))
        return;
      check_translation(cpu, name, asid, gva, e.spa_page, e.gpa_page, e.size, e.writable,
                        e.executable, e.dirty, e.cbit);
    });
  };
  tlb(m.l1i(), "L1I");
  tlb(m.l1d(), "L1D");
  tlb(m.l2(), "L2");
  m.walker().for_each_ntlb([&](std::uint16_t asid, std::uint64_t gpa, const walker::NestedProbe& e) {
    if (d && !hits(d->gpa, gpa, page_bytes(e.size))) return;
    check_ntlb(cpu, asid, gpa, e);
  });
  m.walker().for_each_pwc([&](std::uint16_t asid, unsigned level, std::uint64_t gva,
                              std::uint64_t table_gpa, bool w, bool x) {
    if (d && !hits(d->gva, gva, 1ull << (12 + 9 * (level - 1)))) return;
    check_pwc(cpu, asid, level, gva, table_gpa, w, x);
  });
}

// ---------------------------------------------------------------- consistency points

void Checker::consistent(const char* after) {
  m_after = after;
  // RMP writes outside an instruction (the hypervisor's boot-time
  // validation of pre-accepted pages) get the per-entry and region rules.
  if (!m_pending.empty()) check_pending_rmp("a direct RMP write", nullptr);
  const int cpu = current_cpu();
  for (Dirty* d : {&m_dirty[0], &m_dirty[std::size_t(cpu + 1)]}) {
    if (d->empty()) continue;
    ++m_c.points;
    for (const Range& r : d->gpa)
      for (std::uint64_t g = r.lo >> 12; g < (r.hi + k4K - 1) >> 12; ++g) check_gfn(g);
    // Every vCPU's caches: a change by this vCPU must not leave stale
    // entries anywhere (its operation ended with a flush on all of them).
    for (unsigned i = 0; i < m_cpus.size(); ++i) check_cpu_caches(i, d);
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
