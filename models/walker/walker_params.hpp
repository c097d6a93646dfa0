#pragma once
// The walker block's configuration keys (walker.*) and its parameters.
#include "models/common/config.hpp"
#include "models/walker/nested_walker.hpp"

namespace rmpsim::walker {

void walker_schema(SchemaBuilder& b);
WalkerParams walker_params_from(const Config& c, const Clock& clock);

}  // namespace rmpsim::walker
