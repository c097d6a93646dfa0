#pragma once
// The SVSM side of the SVSM core protocol's PVALIDATE call (functional core,
// no SystemC), as COCONUT-SVSM carries it out (kernel/src/protocols/core.rs,
// core_pvalidate and core_pvalidate_one; docs/snp-semantics.md §3.4):
//   - the calling-area request: an 8-byte header (entries, next) and up to
//     510 8-byte entries in a Linux calling area; entries [next, entries)
//     are processed in order, `next` advances past each one done, and the
//     first failing entry ends the call with its error code;
//   - per entry: a rescind first revokes the guest VMPL's permissions
//     (RMPADJUST), then PVALIDATEs, then flushes every translation of the
//     page (INVLPGB + TLBSYNC); a validate PVALIDATEs, zeroes the page and
//     grants the guest VMPL read, write and execute (RMPADJUST), without
//     which the guest could not use the page (§1.4 rule 4);
//   - result codes: SVSM_ERR_INVALID_PARAMETER for a malformed entry or
//     header, 0x8000_1000 + the instruction's code for a PVALIDATE or
//     RMPADJUST that fails (FAIL_SIZEMISMATCH: 0x8000_1006), COCONUT's
//     0x8000_1010 for a PVALIDATE that changed nothing (CF = 1) unless the
//     entry asks to ignore it.
// It runs on the calling vCPU, at VMPL 0, through the guest kernel's
// CpuPort; the guest kernel (guest_kernel_svsm.cpp) switches there and back.
#include <cstdint>
#include <vector>

#include "models/common/page_size.hpp"
#include "models/guest/guest_kernel.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::guest::svsm {

// Result codes in RAX (SVSM specification, AMD pub. 58019; the values of
// Linux's arch/x86/include/asm/sev.h and COCONUT's protocols/errors.rs).
inline constexpr std::uint64_t kSuccess = 0;
inline constexpr std::uint64_t kErrInvalidParameter = 0x8000'0005;
inline constexpr std::uint64_t kErrProtocolBase = 0x8000'1000;  // + instruction code
inline constexpr std::uint64_t kErrPvalidateSizeMismatch = kErrProtocolBase + 6;
// COCONUT reports CF = 1 as its own code 0x10 (sev/utils.rs, FAIL_UNCHANGED).
inline constexpr std::uint64_t kErrPvalidateUnchanged = kErrProtocolBase + 0x10;

// Not an SVSM code: the guest died during the call (in an exit the SVSM's
// instruction took); the caller stops.
inline constexpr std::uint64_t kGuestDied = ~0ull;

// Entries a Linux calling area holds: (4096 - 8 (CA header) - 8 (call
// header)) / 8 (SVSM_PVALIDATE_MAX_COUNT).
inline constexpr unsigned kMaxEntries = 510;

// One entry: bits 1:0 page size (0 4K, 1 2M), bit 2 action (1 validate,
// 0 rescind), bit 3 ignore CF, bits 63:12 the GFN (Linux struct
// svsm_pvalidate_entry).
inline std::uint64_t make_entry(std::uint64_t gpa, PageSize size, bool validate,
                                bool ignore_cf = false) {
  return (gpa & ~0xfffull) | (ignore_cf ? 8u : 0u) | (validate ? 4u : 0u) |
         (size == PageSize::k2M ? 1u : 0u);
}
inline std::uint64_t entry_gpa(std::uint64_t e) { return e & ~0xfffull; }
inline bool entry_is_2m(std::uint64_t e) { return (e & 3) == 1; }
inline bool entry_validates(std::uint64_t e) { return e & 4; }

// A PVALIDATE request in the calling area; num_entries = entries.size().
struct PvalidateCall {
  std::vector<std::uint64_t> entries;
  std::uint16_t next = 0;
};

class Svsm {
 public:
  // `guest_vmpl`: the VMPL whose permissions the SVSM grants and revokes.
  Svsm(CpuPort& cpu, rmp::RmpTable& rmp, GuestState& state, const GuestKernelParams& p,
       GuestKernelCounters& c)
      : m_cpu(cpu), m_rmp(rmp), m_state(state), m_p(p), m_c(c) {}

  // SVSM_CORE_PVALIDATE (protocol 0, call 1): returns RAX. The guest's
  // header is hostile input: a count of 0, above kMaxEntries or not above
  // `next` is refused.
  std::uint64_t core_pvalidate(PvalidateCall& call);

 private:
  std::uint64_t pvalidate_one(std::uint64_t entry);
  // RMPADJUST of the guest VMPL's permissions on the page, its return code
  // in `rc`; false if the guest died (a page not validated: COCONUT-SVSM
  // cannot handle #VC 0x404).
  bool adjust(std::uint64_t gpa, PageSize size, std::uint8_t perms, std::uint32_t& rc);

  CpuPort& m_cpu;
  rmp::RmpTable& m_rmp;
  GuestState& m_state;
  const GuestKernelParams& m_p;
  GuestKernelCounters& m_c;
};

}  // namespace rmpsim::guest::svsm
