#include "models/rmp/rmp_check.hpp"

#include "models/walker/nested_walker.hpp"

namespace rmpsim::rmp {

// check_guest_access() (inline, in the header) cannot see the walker's
// names for the EXITINFO1 bits it sets.
static_assert(walker::pf::kRmp == kRmpBit && walker::pf::kVmpl == kVmplBit);

bool host_write_faults(const RmpTable& rmp, std::uint64_t spa, PageSize host_mapping) {
  if (rmp.governing(spa).entry.assigned) return true;
  return host_mapping != PageSize::k4K && rmp.assigned_in_region(spa) != 0;
}

}  // namespace rmpsim::rmp
