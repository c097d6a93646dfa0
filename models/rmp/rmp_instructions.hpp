#pragma once
// The SNP instructions that read or change the RMP (functional core):
// RMPUPDATE and PSMASH (host), PVALIDATE, RMPADJUST and RMPQUERY (guest),
// with the return codes of snp-semantics §2.1 and the semantics of §2.2.
// Guest instructions may instead raise a #NPF (RMP bit, SIZEM bit 35 for a
// 4K request inside a 2M entry) or #VC 0x404; the result says which.
#include <cstdint>

#include "models/common/types.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::rmp {

// EAX return codes, §2.1.
enum Rc : std::uint32_t {
  kSuccess = 0,
  kFailInput = 1,
  kFailPermission = 2,
  kFailInUse = 3,
  kFailOverlap = 4,
  kFailSizeMismatch = 6,
  kPsmashNotEligible = 7,  // the entry is not a 2M entry (already 4K)
};

// The new state RMPUPDATE writes (the 16-byte operand of §2.2).
struct RmpState {
  std::uint64_t gpa = 0;
  bool assigned = false;
  PageSize size = PageSize::k4K;  // 4K or 2M
  bool immutable = false;
  std::uint16_t asid = 0;
};

// Host instructions; `caller_asid` is the ASID the CPU runs with (0 = host).
std::uint32_t rmpupdate(RmpTable& rmp, std::uint64_t spa, const RmpState& s,
                        std::uint16_t caller_asid = 0);
std::uint32_t psmash(RmpTable& rmp, std::uint64_t spa, std::uint16_t caller_asid = 0);

struct GuestInsnResult {
  std::uint32_t rc = kSuccess;
  bool cf = false;              // PVALIDATE: the RMP was not updated
  bool npf = false;             // the instruction raised a #NPF instead
  std::uint64_t npf_bits = 0;   // EXITINFO1 bits (x86::rmp_npf_bits): 31 (RMP), 35 (SIZEM)
  bool not_validated = false;   // RMPADJUST on a page not validated: #VC 0x404
  bool faulted() const { return npf || not_validated; }
};

// `spa`/`gpa`: the translation of the instruction's GVA (for 2M, of the
// 2M-aligned GVA). `asid`/`vmpl`: the guest's.
GuestInsnResult pvalidate(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          bool validate, std::uint16_t asid, std::uint8_t vmpl);
GuestInsnResult rmpadjust(RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa, PageSize size,
                          std::uint8_t target_vmpl, std::uint8_t perms, bool vmsa,
                          std::uint16_t asid, std::uint8_t vmpl);

struct QueryResult {
  std::uint32_t rc = kSuccess;
  std::uint8_t perms = 0;
  bool vmsa = false;
  PageSize size = PageSize::k4K;
};
// Assumption: FAIL_PERMISSION when the target VMPL is more privileged than
// the caller's (MS docs list codes 0 and 2 only; the condition is not public).
QueryResult rmpquery(const RmpTable& rmp, std::uint64_t spa, std::uint64_t gpa,
                     std::uint16_t asid, std::uint8_t target_vmpl, std::uint8_t vmpl);

}  // namespace rmpsim::rmp
