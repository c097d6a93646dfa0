#pragma once
// An SNP instruction on a guest page reached by its guest-physical address:
// the kernel's direct map (lazy acceptance) or the SVSM's own mapping of a
// page it is asked to validate. The access reaches the NPT like any private
// access: a page not backed yet (the SVSM's: not mapped by the NPT; either:
// not assigned to the guest) takes a not-present #NPF and is faulted in, a
// #NPF the instruction raised (a 4K
// request inside a 2M entry, §6 row 10) is resolved, and the instruction is
// retried (docs/snp-semantics.md §4.1).
#include <cstdint>

#include <fmt/format.h>

#include "models/guest/guest_kernel.hpp"
#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::guest {

// Livelock guard (models/guest/README.md, "Livelock guards"): fault-ins and
// PSMASHes of one instruction; a resolution takes at most two rounds.
inline constexpr unsigned kMaxPhysicalRounds = 64;

// Runs `exec(spa)` (which returns the instruction's result and charges its
// time) until it does not fault; false (the guest terminated, or it died in
// an exit) otherwise. `what` names the instruction in the livelock message.
// `via_npt`: the page must be mapped by the NPT (the SVSM), not only backed
// (the acceptance, which runs right after the PSC that backed it).
template <class Exec>
bool on_physical_page(CpuPort& cpu, GuestState& state, const rmp::RmpTable& rmp,
                      std::uint64_t gpa, const char* what, rmp::GuestInsnResult& r, Exec exec,
                      bool via_npt = false) {
  for (unsigned round = 0;; ++round) {
    if (round == kMaxPhysicalRounds) {
      state.terminate(fmt::format("{} GPA {:#x} made no progress after {} rounds: the guest "
                                  "livelocks (livelock guard kMaxPhysicalRounds)",
                                  what, gpa, kMaxPhysicalRounds));
      return false;
    }
    std::uint64_t spa = 0;
    const bool reached = via_npt ? cpu.npt_mapped(gpa, spa) : cpu.npt_backing(gpa, spa);
    if (!reached || !rmp.governing(spa).entry.assigned) {
      if (!cpu.npf_exit(gpa, x86::npf_private_read(/*present=*/false))) return false;
      continue;
    }
    r = exec(spa);
    if (!r.npf) return true;
    if (!cpu.npf_exit(gpa, x86::npf_private_read(/*present=*/true, r.npf_bits))) return false;
  }
}

}  // namespace rmpsim::guest
