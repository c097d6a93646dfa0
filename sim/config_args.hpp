#pragma once
#include "models/common/config.hpp"
#include "sim/commands.hpp"

namespace rmpsim {
// Defaults, then --config FILE, then each --set in order.
Config resolve_config(const ConfigArgs& args);
// The same without checking the relations between keys (a caller that
// applies more settings checks them itself).
Config resolve_config_unchecked(const ConfigArgs& args);
// What to name in the error when `cfg` (resolved from `args`) breaks a
// relation between keys: the last --set of either key, else the file.
std::string relation_origin(const Config& cfg, const ConfigArgs& args);
}  // namespace rmpsim
