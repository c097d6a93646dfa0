#pragma once
// The semantic rules every event obeys, whatever form it came from: readers
// of all forms reject what breaks them (so the simulator can rely on them),
// and writers refuse to write what no reader would read back.
// docs/trace-format.md, "Validation", lists them.
#include <string>

#include "traces/event.hpp"

namespace rmpsim::trace {

// "" when `ev` is well-formed, else what was expected, phrased for an
// InputError ("expected <len> to be a non-zero multiple of 2m (0x200000), got 0x1000").
// Fields an op does not use are not looked at.
std::string check_event(const Event& ev);

// Address limits (docs/trace-format.md, "Address limits"), so that no
// address aliases a lower one inside the models:
// - a guest virtual address is canonical for the widest x86-64 paging
//   (LA57, 57 bits: bits 63..56 all equal); with 4-level paging the vCPU
//   further requires 48 bits (walker.guest_levels);
// - a guest-physical address is below 2^51: bit 51 of a guest PTE is the
//   C-bit (Zen 3 and Zen 4), so a guest cannot map or name a higher one;
// - a host system-physical address (HMEM) is below 2^51 too: the models'
//   physical address space is as wide as the guest-physical one;
// - no access or range wraps past 2^64.
inline constexpr std::uint64_t kGpaLimit = 1ull << 51;
inline constexpr std::uint64_t kSpaLimit = 1ull << 51;
inline bool canonical_va(std::uint64_t va) {
  const std::int64_t top = static_cast<std::int64_t>(va) >> 56;
  return top == 0 || top == -1;
}

// The hot-path subset for accesses (R/W/X/M/HOST/HMEM): all check_event()
// asks of them.
inline bool access_ok(const Event& ev) {
  if (ev.size == 0) return false;
  const std::uint64_t last = ev.addr + (ev.size - 1);
  if (last < ev.addr) return false;
  if (is_host_mem_access(ev.op)) return last < kSpaLimit;
  return is_host_access(ev.op) ? last < kGpaLimit : canonical_va(ev.addr) && canonical_va(last);
}

// The operand an access names: "<gva>", "<gpa>" (HOST) or "<spa>" (HMEM).
inline const char* address_name(Op op) {
  return is_host_mem_access(op) ? "<spa>" : is_host_access(op) ? "<gpa>" : "<gva>";
}

}  // namespace rmpsim::trace
