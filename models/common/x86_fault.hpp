#pragma once
// x86 fault definitions, the one home for them (issue #13 item 3): what a
// translation reports when it cannot complete — a guest #PF with its error
// code, a #NPF with its EXITINFO1, or #VC 0x404 — and the builders of those
// codes. Below the walker, the RMP block, the hypervisor and the guest, so
// that each of them builds and reads the codes through the same names.
#include <cstdint>

namespace rmpsim::x86 {

// VcNotValidated: #VC with exit code 0x404 inside the guest (snp-semantics
// §1.4 step 3): a private access to a page assigned to the guest but not
// validated.
enum class FaultKind : std::uint8_t { None, GuestPageFault, NestedPageFault, VcNotValidated };

// SVM exit code PAGE_NOT_VALIDATED, delivered as #VC only (§1.6 [OVMM]).
inline constexpr std::uint64_t kExitPageNotValidated = 0x404;

// Bits of the #PF error code (guest) and of the #NPF EXITINFO1 (§1.6).
// Bits 0-4 mean the same in both (AMD APM vol. 2, "Page-Fault Error Code";
// §1.6 [OVMM]); bits 31-36 are EXITINFO1's. Bits 3 (reserved bit set), 6
// (shadow stack), 37 and 63 of §1.6 are never produced by the model.
namespace pf {
inline constexpr std::uint64_t kPresent = 1ull << 0;   // protection fault, not "not present" [OVMM]
inline constexpr std::uint64_t kWrite = 1ull << 1;     // the access was a write [OVMM]
inline constexpr std::uint64_t kUser = 1ull << 2;      // user-mode access [OVMM]
inline constexpr std::uint64_t kFetch = 1ull << 4;     // instruction fetch [OVMM]
inline constexpr std::uint64_t kRmp = 1ull << 31;      // RMP check failed [L-pferr, OVMM]; also
                                                       // the host #PF's RMP bit [L-trappf]
inline constexpr std::uint64_t kFinalGpa = 1ull << 32;        // on the final GPA [OVMM, L-pferr]
inline constexpr std::uint64_t kGuestPageTable = 1ull << 33;  // on a guest page-table access [OVMM]
inline constexpr std::uint64_t kEncrypted = 1ull << 34;     // effective C-bit 1 [L-pferr]
inline constexpr std::uint64_t kSizeMismatch = 1ull << 35;  // PVALIDATE/RMPADJUST size [L-pferr]
inline constexpr std::uint64_t kVmpl = 1ull << 36;          // VMPL permission violation [L-pferr]
}  // namespace pf

// Why an RMP check refused (the bits it adds to EXITINFO1, §1.6): the
// entry (owner, GPA, size, §1.4/§1.5) — bit 31; a PVALIDATE/RMPADJUST 4K
// request inside a 2M entry — 31 and 35 (SIZEM, §2.2); the VMPL's
// permissions — 31 and 36.
enum class RmpViolation : std::uint8_t { Entry, SizeMismatch, Vmpl };

constexpr std::uint64_t rmp_npf_bits(RmpViolation v) {
  return pf::kRmp | (v == RmpViolation::SizeMismatch ? pf::kSizeMismatch : 0) |
         (v == RmpViolation::Vmpl ? pf::kVmpl : 0);
}

// The #PF error code of a guest page fault. The U bit is always set: trace
// accesses are user-mode accesses.
constexpr std::uint64_t pf_error_code(bool present, bool write, bool fetch) {
  return (present ? pf::kPresent : 0) | (write ? pf::kWrite : 0) | pf::kUser |
         (fetch ? pf::kFetch : 0);
}

// The EXITINFO1 of a #NPF (§1.6): bits 0-4 as in #PF, where the nested
// walk was (bit 33 on a guest page-table access, else 32 on the final GPA),
// the effective C-bit (34) and the RMP check's bits (`rmp`, from
// rmp_npf_bits(), or 0). The U bit is always set: accesses through the
// nested table are checked as user accesses (AMD APM; general knowledge).
constexpr std::uint64_t npf_exitinfo1(bool present, bool write, bool fetch, bool guest_page_table,
                                      bool encrypted, std::uint64_t rmp = 0) {
  return pf_error_code(present, write, fetch) |
         (guest_page_table ? pf::kGuestPageTable : pf::kFinalGpa) |
         (encrypted ? pf::kEncrypted : 0) | rmp;
}

// A #NPF on a private read of a final GPA: how the model reports the
// guest's instructions on their own private page (PVALIDATE, RMPADJUST and
// the direct-map access that precedes a PVALIDATE).
constexpr std::uint64_t npf_private_read(bool present, std::uint64_t rmp = 0) {
  return npf_exitinfo1(present, /*write=*/false, /*fetch=*/false, /*guest_page_table=*/false,
                       /*encrypted=*/true, rmp);
}

struct Fault {
  FaultKind kind = FaultKind::None;
  std::uint64_t addr = 0;        // GVA for a guest #PF, GPA for a #NPF and a #VC
  std::uint64_t error_code = 0;  // #PF error code or #NPF EXITINFO1 (0x404 for #VC)
  std::uint64_t spa = 0;         // RMP faults: the page whose RMP entry refused
  bool gpt = false;              // RMP faults: on a guest page-table access
};

}  // namespace rmpsim::x86
