// The translation rules of the invariant checker: NPT vs memory attributes vs
// RMP (§1.4, §2.3, §4.2, §4.6), finished conversions (§3.3, §4.7), and TLB,
// nested TLB and PWC coherence against a fresh walk (§1.4, §1.8, §2.3).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "models/check/check_util.hpp"
#include "models/check/checker.hpp"

namespace rmpsim::check {

using namespace detail;

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
      fail(
          "a private GFN is mapped only to a page RMPUPDATEd to the guest for that GPA "
          "(snp-semantics §2.3, §4.6 step 3)",
          fmt::format("GPA {:#x} -> SPA {:#x}, whose governing RMP entry is {} (binds GPA {:#x})",
                      gpa, spa, entry_text(e), g.page_gpa));
    if (g.size < m->size)
      fail("private NPT level <= RMP level (snp-semantics §1.5, §8 point 3: KVM caps it)",
           fmt::format("GPA {:#x} is mapped by a {} NPT leaf over a {} RMP entry", gpa,
                       size_name(m->size), size_name(g.size)));
  } else if (g.entry.assigned) {
    fail("a shared GFN's page is hypervisor-owned (snp-semantics §1.4 shared access, §4.6)",
         fmt::format("shared GPA {:#x} is mapped to SPA {:#x}, whose RMP entry is assigned {}", gpa,
                     spa, entry_text(g.entry)));
  }
}

void Checker::conversion_done(const std::vector<guest::PscPage>& entries, bool to_private,
                              bool validated) {
  m_after = to_private ? "a conversion to private" : "a conversion to shared";
  consistent(m_after);
  const hypervisor::GuestMemory& gm = m_hv.memory();
  for (const guest::PscPage& e : entries) {
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
      const rmp::Governing g =
          gm.find_backing(gpa, true, spa) ? m_rmp.governing(spa) : rmp::Governing{};
      const rmp::RmpEntry& r = g.entry;
      if (!r.assigned || r.asid != m_asid || g.page_gpa != gpa || !r.validated)
        fail(
            "after a conversion to private the page is assigned to the guest and validated "
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
  const std::uint64_t spa =
      (n.spa_page | (gpa & (page_bytes(n.size) - 1))) & ~(page_bytes(e.size) - 1);
  if (spa != e.spa_page || n.size < e.size || (e.writable && !n.writable) ||
      (e.executable && !n.executable))
    fail("nested TLB coherence (snp-semantics §2.3: NPT zaps flush)",
         fmt::format("{}: the NPT now gives SPA {:#x} ({}, {}{})", entry, spa, size_name(n.size),
                     n.writable ? "W" : "R", n.executable ? "X" : ""));
}

// One page-walk cache entry of either dimension against the tables: the
// guest PWC (GVA -> guest table GPA) or the nested PWC (GPA -> nested table
// SPA), with the W/X it accumulated.
void Checker::check_pwc(unsigned cpu, bool nested, unsigned level, std::uint64_t addr,
                        std::uint64_t table, bool w, bool x) {
  ++m_c.checks;
  ++m_c.tlb_probes;
  const CheckedCpu& c = m_cpus[cpu];
  const walker::NestedWalker& walker = c.mmu->walker();
  std::uint64_t t = 0;
  bool pw = false, px = false;
  const bool found = nested ? walker.probe_nested_table(c.context->ncr3, addr, level, t, pw, px)
                            : walker.probe_guest_table(c.context->gcr3, addr, level, t, pw, px);
  if (found && t == table && (!w || pw) && (!x || px)) return;
  if (nested)
    fail(
        "nested page-walk cache coherence (snp-semantics §2.3: NPT zaps flush)",
        fmt::format("the nested PWC entry of vCPU {} for GPA {:#x} at level {} points to the "
                    "table at SPA {:#x}; the NPT {}",
                    cpu, addr, level, table,
                    found ? fmt::format("points to {:#x}", t) : std::string("has no table there")));
  else
    fail(
        "page-walk cache coherence (snp-semantics §2.3: guest mapping changes flush)",
        fmt::format("the PWC entry of vCPU {} for GVA {:#x} at level {} points to the table at "
                    "GPA {:#x}; the guest tables {}",
                    cpu, addr, level, table,
                    found ? fmt::format("point to {:#x}", t) : std::string("have no table there")));
}

void Checker::tlb_filled(unsigned cpu, const walker::WalkRequest& req,
                         const walker::Translation& t) {
  // A fill is checked at once: it is the output of a walk that used the
  // PWC and nested TLB, so a stale walk-cache entry shows up here first.
  const std::uint64_t mask = ~(page_bytes(t.size) - 1);
  m_filled_gva.add(t.size, req.gva & mask);
  m_filled_gpa.add(t.size, t.gpa & mask);
  m_filled_spa.add(t.size, t.spa & mask);
  const char* saved = m_after;
  m_after = "a TLB fill";
  check_translation(cpu, "fill", req.asid, req.gva & mask, t.spa & mask, t.gpa & mask, t.size,
                    t.writable, t.executable, t.dirty, t.cbit);
  m_after = saved;
}

void Checker::FilledPages::add(PageSize s, std::uint64_t base) {
  const std::uint64_t key = (base >> 12) | (std::uint64_t(s) << 60);
  if (pages.find(key) != FlatMap::kNone) return;
  pages.put(key, 1);
  ++per_size[unsigned(s)];
}

bool Checker::FilledPages::any(const std::vector<Range>& ranges) const {
  for (const Range& r : ranges)
    for (unsigned s = 0; s < 3; ++s) {
      if (!per_size[s]) continue;
      const std::uint64_t bytes = page_bytes(PageSize(s));
      for (std::uint64_t b = r.lo & ~(bytes - 1); b < r.hi; b += bytes)
        if (pages.find((b >> 12) | (std::uint64_t(s) << 60)) != FlatMap::kNone) return true;
    }
  return false;
}

bool Checker::may_be_cached(const Dirty& d) const {
  return m_filled_gva.any(d.gva) || m_filled_gpa.any(d.gpa) || m_filled_spa.any(d.spa);
}

void Checker::check_cpu_caches(unsigned cpu, const Dirty* d, bool scan_tlbs) {
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
  if (scan_tlbs) {
    tlb(m.l1i(), "L1I");
    tlb(m.l1d(), "L1D");
    tlb(m.l2(), "L2");
  }
  m.walker().for_each_ntlb(
      [&](std::uint16_t asid, std::uint64_t gpa, const walker::NestedProbe& e) {
        if (d && !hits(d->gpa, gpa, page_bytes(e.size))) return;
        check_ntlb(cpu, asid, gpa, e);
      });
  m.walker().for_each_pwc([&](std::uint16_t, unsigned level, std::uint64_t gva,
                              std::uint64_t table_gpa, bool w, bool x) {
    if (d && !hits(d->gva, gva, level_bytes(level))) return;
    check_pwc(cpu, /*nested=*/false, level, gva, table_gpa, w, x);
  });
  m.walker().for_each_npwc([&](std::uint16_t, unsigned level, std::uint64_t gpa,
                               std::uint64_t table_spa, bool w, bool x) {
    if (d && !hits(d->gpa, gpa, level_bytes(level))) return;
    check_pwc(cpu, /*nested=*/true, level, gpa, table_spa, w, x);
  });
}

}  // namespace rmpsim::check
