#pragma once
// The RMP check of one access (functional core), snp-semantics §1.4, §1.5
// and §1.7. Guest checks run after the nested walk has produced the SPA;
// their outcome is what the walker reports: OK, a #NPF with the RMP bit (and
// the VMPL bit), or — for a private access to a page the guest never
// validated — #VC 0x404 inside the guest.
#include <cstdint>

#include "models/common/types.hpp"
#include "models/common/x86_fault.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::rmp {

enum class CheckResult : std::uint8_t { Ok, Npf, NotValidated };

struct CheckOutcome {
  CheckResult result = CheckResult::Ok;
  std::uint64_t npf_bits = 0;  // EXITINFO1 bits the check adds (x86::rmp_npf_bits)
  std::uint8_t perms = kPermAll;  // Ok private access: the VMPL's RMP permissions
};

// Behaviours the spec leaves UNKNOWN, as named options (docs/config.md).
// Built by check_options_from() (rmp_params.hpp); the defaults live in the schema.
struct CheckOptions {
  // rmp.npt_larger_than_rmp: an NPT 2M leaf over 4K RMP entries. KVM never
  // creates it (§1.5, §8 point 3); default: treat it as an RMP #NPF.
  bool npt_larger_than_rmp_faults;
  // rmp.gpt_not_validated: a guest page-table read of an assigned but not
  // validated page; default the not-validated outcome (#VC), §1.4.
  bool gpt_not_validated_is_npf;
};

struct GuestAccess {
  std::uint64_t spa = 0;
  std::uint64_t gpa = 0;
  std::uint16_t asid = 0;
  std::uint8_t vmpl = 0;
  AccessKind kind = AccessKind::Read;
  bool is_private = true;           // effective C-bit
  PageSize nested_size = PageSize::k4K;
  bool gpt = false;                 // a guest page-table access
};

// Always inline: a walk makes one check per guest page-table page and one
// for the data page on every TLB miss. With a second caller (the --check
// probe) GCC stopped inlining it, +6% instructions on a random 1 M trace.
__attribute__((always_inline)) inline CheckOutcome check_guest_access(const RmpTable& rmp, const GuestAccess& a,
                                       const CheckOptions& opt) {
  CheckOutcome out;
  PageSize size;
  std::uint64_t page_gpa;
  const RmpTable::Stored& e = rmp.governing_stored(a.spa, size, page_gpa);
  auto npf = [&](x86::RmpViolation why = x86::RmpViolation::Entry) {
    out.result = CheckResult::Npf;
    out.npf_bits = x86::rmp_npf_bits(why);
    return out;
  };
  if (!a.is_private) {
    // Shared access: only a hypervisor-owned page will do (§1.4).
    return e.assigned() ? npf() : out;
  }
  // Private access, in the order of §1.4.
  if (!e.assigned() || e.immutable() || e.asid != a.asid) return npf();
  if (page_gpa != (a.gpa & ~0xfffull)) return npf();
  // §1.5: an NPT mapping smaller than the 2M RMP entry faults (the
  // hypervisor must PSMASH); the reverse is UNKNOWN (option).
  if (size == PageSize::k2M && a.nested_size == PageSize::k4K) return npf();
  if (size == PageSize::k4K && a.nested_size != PageSize::k4K && opt.npt_larger_than_rmp_faults)
    return npf();
  if (!e.validated()) {
    if (a.gpt && opt.gpt_not_validated_is_npf) return npf();
    out.result = CheckResult::NotValidated;
    return out;
  }
  // Trace accesses are user-mode, so a fetch needs execute-user.
  const std::uint8_t need =
      a.kind == AccessKind::Write ? kPermW : a.kind == AccessKind::Fetch ? kPermXu : kPermR;
  const std::uint8_t perms = e.perms[a.vmpl & 3];
  if (!(perms & need)) return npf(x86::RmpViolation::Vmpl);
  out.perms = perms;
  return out;
}

// Host (hypervisor) accesses, §1.7: reads never fault; a write faults when
// the page is assigned, or — through a host mapping of 2M or more — when any
// page of its 2 MiB region is assigned (§1.5, 1G mappings checked as 2M).
bool host_write_faults(const RmpTable& rmp, std::uint64_t spa, PageSize host_mapping);

}  // namespace rmpsim::rmp
