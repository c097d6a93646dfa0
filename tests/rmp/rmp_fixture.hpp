#pragma once
// Helpers to build RMP situations with the instructions themselves, the
// way a hypervisor would (RMPUPDATE to assign, PVALIDATE to validate).
#include <catch2/catch.hpp>

#include "models/rmp/rmp_instructions.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::test {

inline constexpr std::uint16_t kGuest = 5;  // the guest's ASID in these tests

// Assigns the 4K page at spa to the guest at gpa (RMPUPDATE), optionally
// validating it (PVALIDATE at VMPL0).
inline void assign(rmp::RmpTable& t, std::uint64_t spa, std::uint64_t gpa, bool validated,
                   PageSize size = PageSize::k4K) {
  rmp::RmpState s;
  s.assigned = true;
  s.asid = kGuest;
  s.gpa = gpa;
  s.size = size;
  REQUIRE(rmp::rmpupdate(t, spa, s) == rmp::kSuccess);
  if (validated) {
    auto r = rmp::pvalidate(t, spa, gpa, size, true, kGuest, 0);
    REQUIRE(r.rc == rmp::kSuccess);
    REQUIRE(!r.cf);
    REQUIRE(!r.faulted());
  }
}

}  // namespace rmpsim::test
