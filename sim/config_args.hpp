#pragma once
#include "models/common/config.hpp"
#include "sim/commands.hpp"

namespace rmpsim {
// Defaults, then --config FILE, then each --set in order.
Config resolve_config(const ConfigArgs& args);
}  // namespace rmpsim
