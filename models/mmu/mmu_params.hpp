#pragma once
// The MMU block's configuration keys (mmu.*) and its parameters.
#include "models/common/config.hpp"
#include "models/mmu/mmu.hpp"
#include "models/mmu/mmu_module.hpp"

namespace rmpsim::mmu {

void mmu_schema(SchemaBuilder& b);
// The TLBs and the walker (walker::walker_params_from).
MmuParams mmu_params_from(const Config& c, const Clock& clock);
MmuTiming mmu_timing_from(const Config& c, const Clock& clock);

}  // namespace rmpsim::mmu
