#pragma once
#include "sim/commands.hpp"
#include "sim/config.hpp"

namespace rmpsim {
// Defaults, then --config FILE, then each --set in order.
Config resolve_config(const ConfigArgs& args);
}  // namespace rmpsim
