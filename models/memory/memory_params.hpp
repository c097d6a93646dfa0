#pragma once
// The memory block's configuration keys (memory.*) and its parameters.
#include "models/common/config.hpp"
#include "models/memory/cache_hierarchy.hpp"

namespace rmpsim::memory {

void memory_schema(SchemaBuilder& b);
// `cores`: the vCPUs, each with its own L1s and L2.
CacheParams cache_params_from(const Config& c, const Clock& clock, unsigned cores);

}  // namespace rmpsim::memory
