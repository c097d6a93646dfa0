#pragma once
// The memory block's configuration keys (memory.*) and its parameters.
#include "models/common/config.hpp"
#include "models/memory/mem_timing.hpp"

namespace rmpsim::memory {

void memory_schema(SchemaBuilder& b);
MemTimingParams mem_timing_params_from(const Config& c, const Clock& clock);

}  // namespace rmpsim::memory
