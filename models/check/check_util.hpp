#pragma once
// Helpers shared by the checker's source files (not part of its interface).
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "models/rmp/rmp_table.hpp"
#include "models/walker/nested_walker.hpp"

namespace rmpsim::check::detail {

constexpr std::uint64_t k4K = 0x1000, k2M = 0x200000;

inline const char* size_name(PageSize s) {
  return s == PageSize::k1G ? "1G" : s == PageSize::k2M ? "2M" : "4K";
}

inline std::string entry_text(const rmp::RmpEntry& e) {
  return fmt::format(
      "{{assigned {}, {}, immutable {}, validated {}, vmsa {}, asid {}, gpa {:#x}, "
      "perms {:x}/{:x}/{:x}/{:x}}}",
      int(e.assigned), e.large ? "2M" : "4K", int(e.immutable), int(e.validated), int(e.vmsa),
      e.asid, e.gpa, e.perms[0], e.perms[1], e.perms[2], e.perms[3]);
}

inline const char* fault_name(x86::FaultKind k) {
  switch (k) {
    case x86::FaultKind::GuestPageFault:
      return "a guest #PF";
    case x86::FaultKind::NestedPageFault:
      return "a #NPF";
    case x86::FaultKind::VcNotValidated:
      return "#VC 0x404";
    default:
      return "no fault";
  }
}

}  // namespace rmpsim::check::detail
