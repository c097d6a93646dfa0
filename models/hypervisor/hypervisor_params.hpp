#pragma once
// The hypervisor block's configuration keys (hypervisor.*, and userspace.*
// for the userspace model it exits to) and its parameters.
#include "models/common/config.hpp"
#include "models/hypervisor/hypervisor.hpp"

namespace rmpsim::hypervisor {

void hypervisor_schema(SchemaBuilder& b);
HypervisorParams hypervisor_params_from(const Config& c, const Clock& clock);

}  // namespace rmpsim::hypervisor
