#include "models/hypervisor/hypervisor.hpp"

#include <fmt/format.h>

#include "models/rmp/rmp_instructions.hpp"
#include "models/walker/nested_walker.hpp"

namespace rmpsim::hypervisor {

namespace pg = paging;
namespace pf = walker::pf;

namespace {
// PSMASH is retried while another CPU holds the entry (KVM loops, §6 row
// 14); in this model nothing releases an entry during a retry loop, so the
// loop is bounded and the failure reported.
constexpr unsigned kPsmashRetries = 64;
}  // namespace

Hypervisor::Hypervisor(memory::PhysStore& host_mem, rmp::RmpTable& rmp, const HypervisorParams& p,
                       std::function<bool(std::uint64_t)> prevalidated,
                       std::function<void(std::uint16_t)> flush)
    : m_mem(host_mem),
      m_rmp(rmp),
      m_p(p),
      m_prevalidated(std::move(prevalidated)),
      m_flush(std::move(flush)),
      m_npt(host_mem, p.npt_levels,
            [this] {
              const std::uint64_t spa = m_next_npt_spa;
              m_next_npt_spa += 0x1000;
              m_mem.zero_frame(spa >> 12);
              return spa;
            },
            pg::kWritable | pg::kUser),
      m_ncr3(m_npt.new_root()) {}

std::uint64_t Hypervisor::back(std::uint64_t gpa) {
  const unsigned shift = 12 + 9 * unsigned(m_p.backing_page_size);
  const std::uint64_t folio = gpa >> shift;
  std::uint32_t spa_folio = m_backing.find(folio);
  if (spa_folio == FlatMap::kNone) {
    const std::uint64_t size = 1ull << shift;
    m_next_backing_spa = (m_next_backing_spa + size - 1) & ~(size - 1);
    spa_folio = static_cast<std::uint32_t>(m_next_backing_spa >> shift);
    m_next_backing_spa += size;
    m_backing.put(folio, spa_folio);
    m_c.backing_frames += size >> 12;
  }
  return (std::uint64_t(spa_folio) << shift) | (gpa & ((1ull << shift) - 1));
}

bool Hypervisor::backing_of(std::uint64_t gpa, std::uint64_t& spa) const {
  const unsigned shift = 12 + 9 * unsigned(m_p.backing_page_size);
  const std::uint32_t f = m_backing.find(gpa >> shift);
  if (f == FlatMap::kNone) return false;
  spa = (std::uint64_t(f) << shift) | (gpa & ((1ull << shift) - 1));
  return true;
}

PageSize Hypervisor::assign_private(std::uint64_t gpa, std::uint64_t& cycles) {
  const std::uint64_t spa = back(gpa);
  const rmp::Governing g = m_rmp.governing(spa);
  if (g.entry.assigned) return g.size;  // already prepared
  rmp::RmpState s;
  s.assigned = true;
  s.asid = m_p.guest_asid;
  // sev_gmem_prepare (§4.2): a 2M entry only for a folio of at least 2M
  // whose 512 entries are all unassigned; otherwise 4K.
  const bool big = m_p.backing_page_size != PageSize::k4K && m_rmp.assigned_in_region(spa) == 0;
  s.size = big ? PageSize::k2M : PageSize::k4K;
  const std::uint64_t base_gpa = gpa & ~(page_bytes(s.size) - 1);
  const std::uint64_t base_spa = spa & ~(page_bytes(s.size) - 1);
  s.gpa = base_gpa;
  const std::uint32_t rc = rmp::rmpupdate(m_rmp, base_spa, s);
  ++m_c.rmpupdate;
  cycles += m_p.rmpupdate_cycles;
  if (rc != rmp::kSuccess) return PageSize::k4K;  // left unassigned: the retry faults again
  // Pages the guest validated before the trace began (guest.accept) are
  // modelled as validated already: their PVALIDATE happened at boot.
  if (m_prevalidated(base_gpa)) {
    const std::uint64_t pfn = base_spa >> 12;
    rmp::RmpEntry e = m_rmp.raw(pfn);
    e.validated = true;
    m_rmp.set_raw(pfn, e);
  }
  return s.size;
}

NpfResult Hypervisor::fault_in(std::uint64_t gpa, bool is_private) {
  NpfResult r;
  ++m_c.npf_not_present;
  PageSize size = m_p.backing_page_size;
  if (is_private) {
    // The NPT level of a private GFN is capped at its RMP level (§4.2).
    const PageSize rmp_level = assign_private(gpa, r.cycles);
    if (rmp_level < size) size = rmp_level;
  }
  const std::uint64_t base = gpa & ~(page_bytes(size) - 1);
  m_npt.map(m_ncr3, base, back(base), size, pg::kWritable | pg::kUser);
  ++m_c.npt_maps;
  r.cycles += m_p.npt_map_cycles;
  r.resolved = true;
  return r;
}

void Hypervisor::zap_2m(std::uint64_t gpa) {
  const std::uint64_t base = gpa & ~0x1fffffull;
  for (std::uint64_t a = base; a < base + 0x200000;) {
    auto m = m_npt.unmap(m_ncr3, a);
    a = m ? (a & ~(page_bytes(m->size) - 1)) + page_bytes(m->size) : a + 0x1000;
  }
  ++m_c.npt_zaps;
  m_flush(m_p.guest_asid);
}

NpfResult Hypervisor::rmp_fault(std::uint64_t gpa, std::uint64_t exitinfo1) {
  ++m_c.npf_rmp;
  NpfResult r;
  std::uint64_t spa = 0;
  const bool is_private = exitinfo1 & pf::kEncrypted;
  if (!backing_of(gpa, spa)) {
    r.reason = fmt::format("RMP #NPF at GPA {:#x} with no backing page", gpa);
    return r;
  }
  const rmp::Governing g = m_rmp.governing(spa);
  const bool owned = g.entry.assigned && !g.entry.immutable && g.entry.asid == m_p.guest_asid &&
                     g.page_gpa == (gpa & ~0xfffull);
  if (is_private && owned && !(exitinfo1 & pf::kVmpl)) {
    // The page is the guest's: a size mismatch (§4.1 step 4).
    if (g.size == PageSize::k4K) {
      ++m_c.npf_rmp_spurious;  // another vCPU already smashed it (§6 row 12)
      r.resolved = true;
      return r;
    }
    const std::uint64_t head = spa & ~0x1fffffull;
    std::uint32_t rc = rmp::kFailInUse;
    for (unsigned i = 0; i < kPsmashRetries && rc == rmp::kFailInUse; ++i) {
      rc = rmp::psmash(m_rmp, head);
      ++m_c.psmash;
      r.cycles += m_p.psmash_cycles;
      if (rc == rmp::kFailInUse) ++m_c.psmash_inuse_retries;
    }
    if (rc != rmp::kSuccess && rc != rmp::kPsmashNotEligible) {
      r.reason = fmt::format("PSMASH of SPA {:#x} failed with {} after {} tries", head, rc,
                             kPsmashRetries);
      return r;
    }
    ++m_c.npf_rmp_size;
    zap_2m(gpa);
    r.resolved = true;
    return r;
  }
  ++m_c.npf_rmp_mismatch;
  if (exitinfo1 & pf::kVmpl) {
    r.reason = fmt::format("RMP #NPF at GPA {:#x}: VMPL permission violation (EXITINFO1 {:#x})",
                           gpa, exitinfo1);
  } else {
    r.reason = fmt::format(
        "RMP #NPF at GPA {:#x} (EXITINFO1 {:#x}): {} access to a {} page needs a conversion, and "
        "this build has no hypervisor conversion policy yet",
        gpa, exitinfo1, is_private ? "private" : "shared",
        g.entry.assigned ? "guest-private" : "shared (hypervisor-owned)");
  }
  return r;
}

NpfResult Hypervisor::handle_npf(unsigned /*vcpu*/, std::uint64_t gpa, std::uint64_t exitinfo1) {
  ++m_c.vmexits;
  ++m_c.npf_total;
  NpfResult r;
  if (!(exitinfo1 & pf::kPresent)) {
    r = fault_in(gpa, exitinfo1 & pf::kEncrypted);
  } else if (exitinfo1 & pf::kRmp) {
    r = rmp_fault(gpa, exitinfo1);
  } else {
    // Every NPT leaf this hypervisor installs is readable, writable and
    // executable, so a plain protection #NPF means the model lost track.
    r.reason = fmt::format("unexpected #NPF on a present NPT entry at GPA {:#x} (EXITINFO1 {:#x})",
                           gpa, exitinfo1);
  }
  r.cycles += m_p.exit_cycles;
  return r;
}

}  // namespace rmpsim::hypervisor
