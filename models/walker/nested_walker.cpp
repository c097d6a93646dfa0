#include "models/walker/nested_walker.hpp"

#include <algorithm>

namespace rmpsim::walker {

using namespace paging;

NestedWalker::NestedWalker(memory::PhysStore& guest_mem, memory::PhysStore& host_mem,
                           const WalkerParams& p)
    : m_gmem(guest_mem), m_hmem(host_mem), m_p(p) {
  for (unsigned l = 2; l <= p.guest_levels; ++l) m_pwc[l].configure(p.pwc_entries, p.pwc_ways);
  m_ntlb.configure(p.ntlb_entries, p.ntlb_ways);
  m_npwc.configure(p.npwc_entries, p.npwc_ways);
  m_npwc_low = std::max(2u, p.npwc_lowest_level);
}

void NestedWalker::add_ref(WalkRef*& cur, std::uint64_t spa, RefKind kind, unsigned level) {
  *cur++ = WalkRef{spa, kind, static_cast<std::uint8_t>(level)};
}

__attribute__((always_inline)) inline bool NestedWalker::rmp_check(
    const WalkRequest& req, std::uint64_t spa, std::uint64_t gpa, PageSize nested,
    bool is_private, bool gpt, AccessKind kind, WalkOutcome& out, WalkRef*& cur,
    std::uint8_t* perms) const {
  ++out.rmp_checks;
  add_ref(cur, rmp::RmpTable::entry_address(spa >> 12), RefKind::Rmp, 0);
  rmp::GuestAccess a;
  a.spa = spa;
  a.gpa = gpa;
  a.asid = req.asid;
  a.vmpl = req.vmpl;
  a.kind = kind;
  a.is_private = is_private;
  a.nested_size = nested;
  a.gpt = gpt;
  const rmp::CheckOutcome c = rmp::check_guest_access(*m_rmp, a, m_rmp_opt);
  if (c.result == rmp::CheckResult::Ok) {
    if (perms) *perms = c.perms;
    return true;
  }
  out.fault.addr = gpa;
  out.fault.spa = spa;
  out.fault.gpt = gpt;
  if (c.result == rmp::CheckResult::NotValidated) {
    out.fault.kind = x86::FaultKind::VcNotValidated;
    out.fault.error_code = x86::kExitPageNotValidated;
    return false;
  }
  // An RMP #NPF: the nested entry was present, so bit 0 is set (§1.6).
  const bool write = kind == AccessKind::Write, fetch = kind == AccessKind::Fetch;
  out.fault.kind = x86::FaultKind::NestedPageFault;
  out.fault.error_code = x86::npf_exitinfo1(/*present=*/true, write, fetch, gpt, is_private,
                                            c.npf_bits);
  return false;
}

namespace {
// A #NPF with its EXITINFO1 (snp-semantics §1.6).
// Out of line: faults are rare, and the walk loop stays small.
__attribute__((cold, noinline)) bool nested_fault(x86::Fault& f, std::uint64_t gpa, bool present,
                                                  bool write, bool fetch, bool gpt, bool cbit) {
  f.kind = x86::FaultKind::NestedPageFault;
  f.addr = gpa;
  f.error_code = x86::npf_exitinfo1(present, write, fetch, gpt, cbit);
  return false;
}
}  // namespace

// Nested page tables are hypervisor memory: the walker's reads of them are
// not RMP-checked, but its A/D write-backs are hypervisor writes, checked
// like any (docs/snp-semantics.md §1.4, §8 point 1): one RMP entry read, and
// the page must be hypervisor-owned (4K granularity: the walker writes by
// physical address, through no host mapping). KVM never assigns an NPT
// page (`run --check` asserts it); what the hardware raises if it were is
// UNKNOWN (§8 point 1) — assumption: an RMP #NPF on the access being
// translated, which the hypervisor model cannot resolve.
bool NestedWalker::npt_write_back(std::uint64_t slot, std::uint64_t value, std::uint64_t gpa,
                                  bool gpt, bool cbit, WalkOutcome& out, WalkRef*& cur) {
  if (m_rmp) {
    ++out.rmp_checks;
    add_ref(cur, rmp::RmpTable::entry_address(slot >> 12), RefKind::Rmp, 0);
    if (rmp::host_write_faults(*m_rmp, slot, PageSize::k4K)) {
      out.fault.kind = x86::FaultKind::NestedPageFault;
      out.fault.addr = gpa;
      out.fault.spa = slot & ~0xfffull;
      out.fault.gpt = gpt;
      out.fault.error_code = x86::npf_exitinfo1(/*present=*/true, /*write=*/true,
                                                /*fetch=*/false, gpt, cbit, x86::pf::kRmp);
      return false;
    }
  }
  m_hmem.write64(slot, value);
  ++out.ad_updates;
  return true;
}

__attribute__((always_inline)) inline bool NestedWalker::nested_translate(
    const WalkRequest& req, std::uint64_t gpa, bool write, bool gpt, bool cbit, WalkOutcome& out,
    WalkRef*& cur, NestedResult& res) {
  const bool fetch = !gpt && req.kind == AccessKind::Fetch;
  if (m_ntlb.enabled()) {
    if (const NtlbEntry* e = m_ntlb.lookup(req.asid, gpa)) {
      ++out.ntlb_hits;
      if ((write && !e->writable) || (fetch && !e->executable))
        return nested_fault(out.fault, gpa, true, write, fetch, gpt, cbit);
      res = NestedResult{e->spa_page | (gpa & (page_bytes(e->size) - 1)), e->size, e->writable,
                         e->executable};
      return true;
    }
    ++out.ntlb_misses;
  }

  std::uint64_t table = req.ncr3;
  unsigned start = m_p.nested_levels;
  // W must be set in every entry on the path and NX in none: the AND and
  // the OR of the entries say both.
  std::uint64_t all = ~0ull, any = 0;
  if (m_npwc.enabled()) {
    // Start from the deepest nested level the nested PWC knows for this GPA
    // (only upper-level entries are cached, so the nested leaf is always
    // read: the nested TLB holds leaves).
    const NpwcEntry* hit = nullptr;
    for (unsigned l = m_npwc_low; l <= m_p.nested_levels; ++l)
      if ((hit = m_npwc.lookup_level(req.asid, l, gpa))) {
        table = hit->table_spa;
        start = l - 1;
        if (!hit->writable) all = ~kWritable;
        if (!hit->executable) any = kNoExec;
        break;
      }
    ++(hit ? out.npwc_hits : out.npwc_misses);
  }
  for (unsigned l = start; l >= 1; --l) {
    const std::uint64_t slot = table + 8ull * index_at(gpa, l);
    add_ref(cur, slot, RefKind::NestedPte, l);
    const std::uint64_t e = m_hmem.read64(slot);
    if (!(e & kPresent)) return nested_fault(out.fault, gpa, false, write, fetch, gpt, cbit);
    all &= e;
    any |= e;
    // The walker sets Accessed on every entry it uses and Dirty on the leaf
    // of a write.
    if (!is_leaf(e, l)) {
      if (!(e & kAccessed) && !npt_write_back(slot, e | kAccessed, gpa, gpt, cbit, out, cur))
        return false;
      table = entry_addr(e);
      // Cached with its A bit set (written back above). Not cached yet: the
      // probe above missed every level below the one the walk started at.
      if (l >= m_npwc_low && m_npwc.enabled())
        m_npwc.insert(req.asid, l, gpa,
                      NpwcEntry{table, (all & kWritable) != 0, !(any & kNoExec)},
                      /*absent=*/true);
      continue;
    }
    const bool w = all & kWritable, x = !(any & kNoExec);
    if ((write && !w) || (fetch && !x))
      return nested_fault(out.fault, gpa, true, write, fetch, gpt, cbit);
    const std::uint64_t upd = e | kAccessed | (write ? kDirty : 0);
    if (upd != e && !npt_write_back(slot, upd, gpa, gpt, cbit, out, cur)) return false;
    const PageSize size = size_at_level(l);
    const std::uint64_t page = entry_addr(e) & ~(page_bytes(size) - 1);
    res = NestedResult{page | (gpa & (page_bytes(size) - 1)), size, w, x};
    // Not cached: the probe above missed every size that has entries.
    if (m_ntlb.enabled())
      m_ntlb.insert(req.asid, l, gpa, NtlbEntry{page, size, w, x}, /*absent=*/true);
    return true;
  }
  // Unreachable: level 1 entries are always leaves.
  return nested_fault(out.fault, gpa, false, write, fetch, gpt, cbit);
}

void NestedWalker::walk(const WalkRequest& req, WalkOutcome& out) {
  // References are appended through a local cursor, which stays in a
  // register (stores through out.refs could alias out.nrefs), and counted
  // on the way out.
  WalkRef* cur = out.refs.data();
  struct Count {
    WalkOutcome& out;
    WalkRef*& cur;
    ~Count() { out.nrefs = static_cast<unsigned>(cur - out.refs.data()); }
  } count{out, cur};
  out.fault = x86::Fault{};
  out.pwc_hits = out.ntlb_hits = out.ntlb_misses = out.ad_updates = out.rmp_checks = 0;
  out.npwc_hits = out.npwc_misses = 0;
  out.guest_refs = 0;
  const bool write = req.kind == AccessKind::Write;
  const bool fetch = req.kind == AccessKind::Fetch;
  auto guest_pf = [&](bool present) {
    out.fault.kind = x86::FaultKind::GuestPageFault;
    out.fault.addr = req.gva;
    out.fault.error_code = x86::pf_error_code(present, write, fetch);
  };

  // Start from the deepest guest level the PWC knows for this GVA.
  std::uint64_t table_gpa = req.gcr3;
  unsigned level = m_p.guest_levels;
  bool w = true, x = true;
  for (unsigned l = 2; l <= m_p.guest_levels; ++l) {
    if (!m_pwc[l].enabled()) continue;
    if (const PwcEntry* e = m_pwc[l].lookup_level(req.asid, l, req.gva)) {
      ++out.pwc_hits;
      table_gpa = e->table_gpa;
      level = l - 1;
      w = e->writable;
      x = e->executable;
      break;
    }
  }

  for (;; --level) {
    const std::uint64_t gpte_gpa = table_gpa + 8ull * index_at(req.gva, level);
    // Guest page-table reads are always private accesses (C=1),
    // snp-semantics §1.4.
    NestedResult nr{};
    if (!nested_translate(req, gpte_gpa, /*write=*/false, /*gpt=*/true, /*cbit=*/true, out, cur,
                          nr))
      return;
    // Assumption: the gPT read is checked as a read; A/D write-backs to the
    // same page are not checked again.
    if (m_rmp && !rmp_check(req, nr.spa, gpte_gpa, nr.size, /*is_private=*/true, /*gpt=*/true,
                            AccessKind::Read, out, cur))
      return;
    add_ref(cur, nr.spa, RefKind::GuestPte, level);
    ++out.guest_refs;
    const std::uint64_t e = m_gmem.read64(gpte_gpa);
    if (!(e & kPresent)) return guest_pf(false);
    w = w && (e & kWritable);
    x = x && !(e & kNoExec);
    const bool leaf = is_leaf(e, level);
    if (leaf && ((write && !w) || (fetch && !x))) return guest_pf(true);
    const std::uint64_t upd = e | kAccessed | (leaf && write ? kDirty : 0);
    if (upd != e) {
      // The A/D write-back is a write to the guest page-table page through
      // its nested mapping, which must allow it.
      if (!nr.writable) {
        out.fault.kind = x86::FaultKind::NestedPageFault;
        out.fault.addr = gpte_gpa;
        out.fault.error_code =
            x86::npf_exitinfo1(/*present=*/true, /*write=*/true, /*fetch=*/false,
                               /*guest_page_table=*/true, /*encrypted=*/true);
        return;
      }
      m_gmem.write64(gpte_gpa, upd);
      ++out.ad_updates;
    }
    if (leaf) {
      const PageSize gsize = size_at_level(level);
      const std::uint64_t gpa = leaf_address(e, level, req.gva);
      const bool cbit = e & kCbit;
      // Instruction fetches are always private, whatever the PTE's C-bit
      // (docs/snp-semantics.md §1.4 [TL17]): a fetch from a page the guest
      // made shared is checked (and reported, bit 34) as a private access.
      const bool is_private = cbit || fetch;
      NestedResult fr{};
      if (!nested_translate(req, gpa, write, /*gpt=*/false, is_private, out, cur, fr)) return;
      std::uint8_t perms = rmp::kPermAll;
      if (m_rmp && req.check_final_rmp &&
          !rmp_check(req, fr.spa, gpa, fr.size, is_private, /*gpt=*/false, req.kind, out, cur,
                     &perms))
        return;
      Translation& t = out.tr;
      t.gpa = gpa;
      t.spa = fr.spa;
      t.guest_size = gsize;
      t.nested_size = fr.size;
      t.size = std::min(gsize, fr.size);
      t.writable = w && fr.writable;
      t.executable = x && fr.executable;
      if (m_rmp && cbit) {
        // The TLB entry caches the RMP result: it may serve only what this
        // VMPL's RMP permissions allow, so a later write or fetch it does
        // not cover re-walks and takes the RMP check (§1.4 step 4).
        t.writable = t.writable && (perms & rmp::kPermW);
        t.executable = t.executable && (perms & rmp::kPermXu);
      } else if (m_rmp) {
        // A C=0 translation caches a shared-access check, a fetch's check
        // is private (§1.4): it must re-walk. A fetch's own translation
        // holds for fetches only (the data accesses through it are shared).
        t.executable = fetch && t.executable && (perms & rmp::kPermXu);
        t.fetch_only = fetch;
      }
      t.dirty = (upd & kDirty) != 0;
      t.cbit = cbit;
      return;
    }
    // Not cached: the PWC probe at the start missed every level below the
    // one it started from.
    if (m_pwc[level].enabled())
      m_pwc[level].insert(req.asid, level, req.gva, PwcEntry{entry_addr(e), w, x},
                          /*absent=*/true);
    table_gpa = entry_addr(e);
  }
}

void NestedWalker::probe(const WalkRequest& req, ProbeResult& out) const {
  out = ProbeResult{};
  auto fail = [&](x86::FaultKind k, std::uint64_t addr, bool rmp, bool gpt) {
    out.fault = k;
    out.fault_addr = addr;
    out.rmp = rmp;
    out.gpt = gpt;
  };
  // The RMP check of one page (§1.4): the walk's own rmp_check(), which
  // changes nothing but the scratch outcome it reports into.
  WalkOutcome scratch;
  auto rmp_ok = [&](std::uint64_t spa, std::uint64_t gpa, PageSize nested, bool is_private,
                    bool gpt, std::uint8_t* perms) {
    if (!m_rmp) return true;
    WalkRef* cur = scratch.refs.data();
    if (rmp_check(req, spa, gpa, nested, is_private, gpt, AccessKind::Read, scratch, cur, perms))
      return true;
    fail(scratch.fault.kind, gpa, true, gpt);
    return false;
  };

  std::uint64_t table_gpa = req.gcr3;
  bool w = true, x = true;
  for (unsigned level = m_p.guest_levels; level >= 1; --level) {
    const std::uint64_t gpte_gpa = table_gpa + 8ull * index_at(req.gva, level);
    NestedProbe np;
    // Guest page-table reads are private accesses (§1.4).
    if (!probe_nested(req.ncr3, gpte_gpa, np))
      return fail(x86::FaultKind::NestedPageFault, gpte_gpa, false, true);
    const std::uint64_t gpte_spa = np.spa_page | (gpte_gpa & (page_bytes(np.size) - 1));
    if (!rmp_ok(gpte_spa, gpte_gpa, np.size, /*is_private=*/true, /*gpt=*/true, nullptr)) return;
    const std::uint64_t e = m_gmem.read64(gpte_gpa);
    if (!(e & kPresent)) return fail(x86::FaultKind::GuestPageFault, req.gva, false, false);
    w = w && (e & kWritable);
    x = x && !(e & kNoExec);
    if (!is_leaf(e, level)) {
      table_gpa = entry_addr(e);
      continue;
    }
    const PageSize gsize = size_at_level(level);
    const std::uint64_t gpa = leaf_address(e, level, req.gva);
    const bool cbit = e & kCbit;
    NestedProbe fp;
    if (!probe_nested(req.ncr3, gpa, fp))
      return fail(x86::FaultKind::NestedPageFault, gpa, false, false);
    const std::uint64_t spa = fp.spa_page | (gpa & (page_bytes(fp.size) - 1));
    std::uint8_t perms = rmp::kPermAll;
    if (!rmp_ok(spa, gpa, fp.size, cbit, /*gpt=*/false, &perms)) return;
    Translation& t = out.tr;
    t.gpa = gpa;
    t.spa = spa;
    t.guest_size = gsize;
    t.nested_size = fp.size;
    t.size = std::min(gsize, fp.size);
    t.writable = w && fp.writable;
    t.executable = x && fp.executable;
    if (m_rmp && cbit) {  // as walk(): the VMPL's RMP permissions bound the entry
      t.writable = t.writable && (perms & rmp::kPermW);
      t.executable = t.executable && (perms & rmp::kPermXu);
    } else if (m_rmp) {
      t.executable = false;  // as walk(): a fetch is private, a C=0 entry cannot serve it
    }
    t.dirty = (e & kDirty) != 0;
    t.cbit = cbit;
    out.ok = true;
    return;
  }
}

}  // namespace rmpsim::walker
