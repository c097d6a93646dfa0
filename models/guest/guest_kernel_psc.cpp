// The guest kernel's Page State Change side: PSC trace lines, and CONVERT —
// a whole conversion done the way Linux does it (__set_memory_enc_pgtable;
// the PVALIDATE/PSC order is snp-semantics §3.3):
//   to shared:  PVALIDATE rescind, PSC (shared), then PTE C-bit clear + flush
//               (enc_status_change_prepare runs before the PTEs change);
//   to private: PTE C-bit set + flush, then PSC (private), PVALIDATE validate
//               (enc_status_change_finish runs after);
// 2M entries where the range is 2M aligned, at most guest.psc_max_entries
// entries per GHCB request, or one 4K page per MSR-protocol request; and
// lazy acceptance of 2 MiB units (§4.7).
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "models/guest/guest_kernel.hpp"
#include "models/guest/physical_page.hpp"
#include "models/hypervisor/psc.hpp"
#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::guest {

namespace psc = hypervisor::psc;

namespace {
// Livelock guard (models/guest/README.md, "Livelock guards"): a request the
// hypervisor answers without finishing is re-issued, Linux loops while
// cur_entry <= end_entry (snp-semantics §3.2); a hypervisor that never
// finishes would hang it. KVM finishes a request in at most one exit per
// run of entries, 64 entries at most in a Linux request: 64 rounds are
// ample. (The fault-ins and PSMASHes of one acceptance PVALIDATE have their
// own guard, kMaxPhysicalRounds in physical_page.hpp.)
constexpr unsigned kMaxPscRounds = 64;

// What the running sum `now` of a CPU's exit costs grew by since `before`.
ConversionCost cost_since(const ConversionCost& now, const ConversionCost& before) {
  ConversionCost d;
  d.exit = now.exit - before.exit;
  d.userspace = now.userspace - before.userspace;
  d.rmpupdate = now.rmpupdate - before.rmpupdate;
  d.psmash = now.psmash - before.psmash;
  d.flush = now.flush - before.flush;
  d.npt = now.npt - before.npt;
  d.pvalidate = now.pvalidate - before.pvalidate;
  d.guest = now.guest - before.guest;
  d.svsm = now.svsm - before.svsm;
  return d;
}
}  // namespace

bool GuestKernel::psc_request(const std::vector<PscPage>& entries, trace::PscOp op,
                              trace::PscProto proto, ConversionCost& cost) {
  const auto op_code = static_cast<unsigned>(op);
  if (proto == trace::PscProto::Msr) {
    for (const auto& e : entries) {
      // The MSR protocol names one 4K page per request (§3.1).
      for (std::uint64_t p = 0; p < page_bytes(e.size); p += 0x1000) {
        if (m_os.stop_requested()) return false;  // interrupted: the run ends
        ++m_c.psc_requests;
        const std::uint64_t resp =
            m_cpu.psc_msr(psc::msr_request((e.gpa + p) >> 12, op_code), cost);
        if (!psc::linux_accepts_msr_response(resp)) {
          m_state.terminate(fmt::format(
              "PSC (MSR protocol) for GPA {:#x} answered {:#x}: Linux terminates (reason set 1, "
              "code 1)",
              e.gpa + p, resp));
          return false;
        }
      }
    }
    return true;
  }
  // GHCB protocol: the descriptor lives in the GHCB shared buffer.
  std::array<std::uint8_t, psc::kSharedBufferBytes> scratch{};
  for (std::size_t first = 0; first < entries.size(); first += m_p.psc_max_entries) {
    if (m_os.stop_requested()) return false;  // interrupted: the run ends
    const std::size_t n = std::min<std::size_t>(m_p.psc_max_entries, entries.size() - first);
    psc::PscBuffer buf;
    buf.header.cur_entry = 0;
    buf.header.end_entry = static_cast<std::uint16_t>(n - 1);
    for (std::size_t i = 0; i < n; ++i) {
      psc::PscEntry pe;
      pe.gfn = entries[first + i].gpa >> 12;
      pe.op = static_cast<std::uint8_t>(op_code);
      pe.huge = entries[first + i].size == PageSize::k2M;
      buf.entries.push_back(pe);
    }
    const std::size_t len = psc::encode(buf, scratch.data(), scratch.size());
    for (unsigned round = 0;; ++round) {
      if (round == kMaxPscRounds) {
        m_state.terminate(fmt::format("a GHCB PSC request made no progress after {} VMGEXITs: "
                                      "the guest livelocks (livelock guard kMaxPscRounds)",
                                      kMaxPscRounds));
        return false;
      }
      ++m_c.psc_requests;
      const psc::PscHeader before = psc::decode(scratch.data(), len).buffer.header;
      const hypervisor::GhcbPscResult r = m_cpu.psc_ghcb(scratch.data(), len, n, cost);
      const psc::PscHeader after = psc::decode(scratch.data(), len).buffer.header;
      if (!psc::linux_accepts(before, after, r.sw_exitinfo2, r.sw_exitinfo1)) {
        m_state.terminate(fmt::format(
            "PSC (GHCB) answered SW_EXITINFO1 {:#x}, SW_EXITINFO2 {:#x}: Linux terminates "
            "(reason set 1, code 1)",
            r.sw_exitinfo1, r.sw_exitinfo2));
        return false;
      }
      if (!psc::linux_needs_another_vmgexit(after)) break;
    }
  }
  return true;
}

void GuestKernel::psc(const std::vector<PscPage>& entries, trace::PscOp op,
                      trace::PscProto proto) {
  ConversionRecord rec;
  rec.trigger = proto == trace::PscProto::Msr ? Trigger::PscMsr : Trigger::PscGhcb;
  rec.to_private = op == trace::PscOp::Private;
  for (const auto& e : entries) rec.pages += page_bytes(e.size) >> 12;
  rec.start = m_cpu.now();
  const bool ok = psc_request(entries, op, proto, rec.cost);
  m_c.psc_pages += rec.pages;
  m_cpu.elapse_in_exit(rec.cost.total());
  // PSMASH/UNSMASH requests convert nothing (KVM completes them as no-ops).
  if (ok && (op == trace::PscOp::Private || op == trace::PscOp::Shared)) {
    rec.end = m_cpu.now();
    m_conversions.add(m_vcpu, rec);
    m_cpu.conversion_done(entries, op == trace::PscOp::Private, false);
  }
}

// The PVALIDATEs of a conversion, 2M where the GPA range allows it.
bool GuestKernel::pvalidate_range(std::uint64_t gva, std::uint64_t len, bool validate,
                                  const std::vector<PscPage>& entries) {
  if (delegates_pvalidate()) return svsm_pval_batches(entries, validate);
  std::uint64_t off = 0;
  for (const auto& e : entries) {
    if (m_os.stop_requested()) return false;  // interrupted: the run ends
    const std::uint64_t bytes = page_bytes(e.size);
    if (!run_pvalidate(gva + off, e.size, validate)) return false;
    off += bytes;
  }
  return off == len;
}

void GuestKernel::convert(std::uint64_t gva, std::uint64_t len, bool to_private) {
  ++m_c.converts;
  const trace::PscProto proto = protocol();
  // The GPAs of the range, 2M pieces where both GVA and GPA are 2M aligned
  // and 2M remain (Linux's direct-map rule, §3.3).
  std::vector<PscPage> entries;
  for (std::uint64_t off = 0; off < len;) {
    // Bounded work and memory for any line (issue 14, item 10): a range
    // must be mapped whole, and its PSC entries (2M at most, §3.1) are
    // what the conversion costs, so a line needing more is refused before
    // anything changes.
    if (entries.size() == kMaxConvertEntries)
      throw BadLine(fmt::format("CONVERT of {:#x} bytes needs more than {} PSC entries (expected "
                                "a smaller range; split it into several CONVERT lines)",
                                len, kMaxConvertEntries));
    auto m = m_os.lookup(gva + off);
    if (!m) {
      throw BadLine(fmt::format("CONVERT of GVA {:#x}, which is not mapped (expected a mapped "
                                "range)",
                                gva + off));
    }
    const std::uint64_t gpa = m->pa + ((gva + off) & (page_bytes(m->size) - 1));
    const bool big = m_p.psc_2m && proto == trace::PscProto::Ghcb &&
                     ((gva + off) & 0x1fffff) == 0 && (gpa & 0x1fffff) == 0 &&
                     len - off >= 0x200000 && m->size != PageSize::k4K;
    entries.push_back(PscPage{gpa, big ? PageSize::k2M : PageSize::k4K});
    off += big ? 0x200000 : 0x1000;
  }
  ConversionRecord rec;
  rec.trigger = proto == trace::PscProto::Msr ? Trigger::PscMsr : Trigger::PscGhcb;
  rec.to_private = to_private;
  rec.pages = len >> 12;
  rec.start = m_cpu.now();
  const std::uint64_t cycles_before = rec.start;
  const ConversionCost npf_before = m_cpu.npf_costs();
  const std::uint64_t svsm_before = m_c.svsm_cycles;
  auto pte_step = [&]() {
    std::string error;
    GuestResult r = m_os.set_encrypted(m_vcpu, gva, len, to_private, error);
    if (!error.empty()) throw BadLine("CONVERT: " + error);
    rec.cost.guest += r.cycles;
    m_cpu.elapse(r.cycles);
  };
  auto psc_step = [&](trace::PscOp op) {
    ConversionCost c;
    const bool done = psc_request(entries, op, proto, c);
    rec.cost += c;
    m_cpu.elapse_in_exit(c.total());
    return done;
  };
  bool ok = true;
  if (!to_private) {
    ok = pvalidate_range(gva, len, false, entries) && psc_step(trace::PscOp::Shared);
    if (ok) pte_step();
  } else {
    pte_step();
    ok = psc_step(trace::PscOp::Private) && pvalidate_range(gva, len, true, entries);
  }
  m_c.psc_pages += rec.pages;
  if (!ok) return;
  // The #NPF exits taken on the way (the PVALIDATEs' operands faulting the
  // converted pages in) are exit, NPT, RMPUPDATE... work (docs/stats.md),
  // not PVALIDATE; the rest of the elapsed time is the PVALIDATE steps'
  // (instructions, operand walks, #VC handling).
  rec.cost += cost_since(m_cpu.npf_costs(), npf_before);
  rec.cost.svsm += m_c.svsm_cycles - svsm_before;  // the SVSM calls (§3.4)
  rec.cost.pvalidate += (m_cpu.now() - cycles_before) - rec.cost.total();
  rec.end = m_cpu.now();
  m_conversions.add(m_vcpu, rec);
  m_cpu.conversion_done(entries, to_private, /*validated=*/to_private);
}

bool GuestKernel::pvalidate_physical(std::uint64_t gpa, PageSize size) {
  rmp::GuestInsnResult r;
  if (!on_physical_page(m_cpu, m_state, m_rmp, gpa, "accepting", r, [&](std::uint64_t spa) {
        const rmp::GuestInsnResult res =
            rmp::pvalidate(m_rmp, spa, gpa, size, true, m_cpu.asid(), m_cpu.vmpl());
        ++m_c.pvalidate;
        m_cpu.elapse(m_p.pvalidate_cycles);
        return res;
      }))
    return false;
  if (r.rc == rmp::kFailSizeMismatch && size == PageSize::k2M) {
    ++m_c.pvalidate_fallbacks;  // 512 x 4K (§3.3)
    for (std::uint64_t p = 0; p < 512; ++p)
      if (!pvalidate_physical(gpa + (p << 12), PageSize::k4K)) return false;
    return true;
  }
  if (r.rc != rmp::kSuccess || r.cf) {
    m_state.terminate(fmt::format(
        "PVALIDATE while accepting GPA {:#x} returned {}{}: Linux terminates (reason set 1, "
        "code 2)",
        gpa, r.rc, r.cf ? " with CF=1" : ""));
    return false;
  }
  return true;
}

void GuestKernel::accept(const std::vector<std::uint64_t>& units) {
  for (std::uint64_t unit : units)
    if (!m_state.terminated && !m_os.stop_requested()) accept_unit(unit);
}

void GuestKernel::accept_unit(std::uint64_t gpa) {
  // Linux serialises acceptance of a unit: no other vCPU may use it before
  // it is accepted. Its time is charged without yielding to the kernel.
  struct Atomic {
    CpuPort& cpu;
    explicit Atomic(CpuPort& c) : cpu(c) { cpu.set_atomic(true); }
    ~Atomic() { cpu.set_atomic(false); }
  } atomic(m_cpu);
  ++m_c.units_accepted;
  ConversionRecord rec;
  rec.trigger = Trigger::LazyAccept;
  rec.to_private = true;
  rec.pages = 512;
  rec.start = m_cpu.now();
  const trace::PscProto proto = protocol();
  // 2M entries where allowed; the MSR protocol takes 4K pages only.
  std::vector<PscPage> entries;
  if (m_p.psc_2m && proto != trace::PscProto::Msr) {
    entries.push_back(PscPage{gpa, PageSize::k2M});
  } else {
    for (std::uint64_t p = 0; p < 512; ++p)
      entries.push_back(PscPage{gpa + (p << 12), PageSize::k4K});
  }
  ConversionCost c;
  const bool ok = psc_request(entries, trace::PscOp::Private, proto, c);
  rec.cost += c;
  m_cpu.elapse_in_exit(c.total());
  // The acceptance's PSC counts its 512 pages, as a PSC line's does
  // (docs/stats.md, psc_pages).
  m_c.psc_pages += rec.pages;
  if (!ok) return;
  const std::uint64_t before = m_cpu.now();
  const ConversionCost npf_before = m_cpu.npf_costs();
  const std::uint64_t svsm_before = m_c.svsm_cycles;
  if (delegates_pvalidate()) {
    // Through the SVSM, the acceptance's own PSC entries (§3.4).
    if (!svsm_pval_batches(entries, true)) return;
  } else {
    if (!pvalidate_physical(gpa, m_p.psc_2m ? PageSize::k2M : PageSize::k4K)) return;
    if (!m_p.psc_2m)
      for (std::uint64_t p = 1; p < 512; ++p)
        if (!pvalidate_physical(gpa + (p << 12), PageSize::k4K)) return;
  }
  // The #NPF exits the PVALIDATEs took belong to exit, npt, ... (docs/stats.md).
  const ConversionCost npf = cost_since(m_cpu.npf_costs(), npf_before);
  rec.cost += npf;
  const std::uint64_t svsm = m_c.svsm_cycles - svsm_before;
  rec.cost.svsm += svsm;
  rec.cost.pvalidate += (m_cpu.now() - before) - npf.total() - svsm;
  rec.end = m_cpu.now();
  m_conversions.add(m_vcpu, rec);
  m_cpu.conversion_done(entries, true, /*validated=*/true);
}

}  // namespace rmpsim::guest
