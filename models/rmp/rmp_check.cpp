#include "models/rmp/rmp_check.hpp"

namespace rmpsim::rmp {

bool host_write_faults(const RmpTable& rmp, std::uint64_t spa, PageSize host_mapping) {
  if (rmp.governing(spa).entry.assigned) return true;
  return host_mapping != PageSize::k4K && rmp.assigned_in_region(spa) != 0;
}

}  // namespace rmpsim::rmp
