// COCONUT-SVSM's SVSM_CORE_PVALIDATE handler (svsm.hpp): the order of the
// steps, the result codes and the TLB flush follow
// kernel/src/protocols/core.rs (core_pvalidate, core_pvalidate_one); the
// times are the rmp.* instruction latencies and the guest.svsm_* assumptions.
#include "models/guest/svsm.hpp"

#include <fmt/format.h>

#include "models/guest/physical_page.hpp"
#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::guest::svsm {

std::uint64_t Svsm::core_pvalidate(PvalidateCall& call) {
  // COCONUT refuses a header whose count is 0, exceeds what fits in the
  // page after the header, or is not above `next`.
  const std::size_t n = call.entries.size();
  if (n == 0 || n > kMaxEntries || n <= call.next) return kErrInvalidParameter;
  for (std::size_t i = call.next; i < n; ++i) {
    ++m_c.svsm_entries;
    const std::uint64_t rc = pvalidate_one(call.entries[i]);
    if (m_state.terminated) return kGuestDied;
    if (rc != kSuccess) return rc;
    ++call.next;
  }
  return kSuccess;
}

bool Svsm::adjust(std::uint64_t gpa, PageSize size, std::uint8_t perms, std::uint32_t& rc) {
  rmp::GuestInsnResult r;
  if (!on_physical_page(m_cpu, m_state, m_rmp, gpa, "the SVSM's RMPADJUST of", r,
                        [&](std::uint64_t spa) {
                          ++m_c.rmpadjust;
                          ++m_c.svsm_rmpadjust;
                          m_cpu.elapse(m_p.rmpadjust_cycles);
                          return rmp::rmpadjust(m_rmp, spa, gpa, size, m_p.vmpl, perms,
                                                /*vmsa=*/false, m_cpu.asid(), /*vmpl=*/0);
                        },
                        /*via_npt=*/true))
    return false;
  if (r.not_validated) {
    m_state.terminate(fmt::format("#VC 0x404 (page not validated) from the SVSM's RMPADJUST of "
                                  "GPA {:#x}: COCONUT-SVSM cannot handle it",
                                  gpa));
    return false;
  }
  rc = r.rc;
  return true;
}

std::uint64_t Svsm::pvalidate_one(std::uint64_t entry) {
  // Bits 1:0 other than 4K (0) or 2M (1), and an address not aligned to
  // the page size, are invalid parameters.
  if ((entry & 3) > 1) return kErrInvalidParameter;
  const PageSize size = entry_is_2m(entry) ? PageSize::k2M : PageSize::k4K;
  const std::uint64_t gpa = entry_gpa(entry);
  if (gpa & (page_bytes(size) - 1)) return kErrInvalidParameter;
  const bool validate = entry_validates(entry);
  const bool ignore_cf = entry & 8;
  std::uint32_t rc = rmp::kSuccess;
  // A rescind takes the guest's access away before the page stops being
  // validated.
  if (!validate) {
    if (!adjust(gpa, size, 0, rc)) return kGuestDied;
    if (rc != rmp::kSuccess) return kErrProtocolBase + rc;
  }
  rmp::GuestInsnResult r;
  if (!on_physical_page(m_cpu, m_state, m_rmp, gpa, "the SVSM's PVALIDATE of", r,
                        [&](std::uint64_t spa) {
                          ++m_c.pvalidate;
                          m_cpu.elapse(m_p.pvalidate_cycles);
                          return rmp::pvalidate(m_rmp, spa, gpa, size, validate, m_cpu.asid(),
                                                /*vmpl=*/0);
                        },
                        /*via_npt=*/true))
    return kGuestDied;
  if (r.rc != rmp::kSuccess) return kErrProtocolBase + r.rc;
  if (r.cf) {
    ++m_c.pvalidate_cf;
    if (!ignore_cf) return kErrPvalidateUnchanged;
  }
  if (validate) {
    // COCONUT zeroes a page it validated before any other VMPL may read it
    // (a hypervisor could have remapped SVSM memory there), then grants the
    // guest VMPL read, write and execute.
    m_cpu.elapse(m_p.svsm_zero_4k_cycles * (page_bytes(size) >> 12));
    if (!adjust(gpa, size, rmp::kPermAll, rc)) return kGuestDied;
    if (rc != rmp::kSuccess) return kErrProtocolBase + rc;
  } else {
    // INVLPGB + TLBSYNC: no vCPU may keep a translation of the rescinded
    // page. Its cost is UNKNOWN (§5); assumption, as for the guest's own
    // broadcast (guest_kernel.cpp): one INVLPG.
    ++m_c.svsm_flushes;
    m_cpu.invalidate_gpa(gpa, page_bytes(size));
    m_cpu.elapse(m_p.invlpg_cycles);
  }
  return kSuccess;
}

}  // namespace rmpsim::guest::svsm
