#pragma once
// The whole configuration schema: every block's fragment, in documentation
// order. It lives above the blocks (library rmpsim_models), the one place
// that knows them all; a block reads its keys from the Config it is given.
#include "models/common/config.hpp"
#include "models/common/schema_builder.hpp"

namespace rmpsim {

const Schema& config_schema();

// A configuration holding every default (tests, tools, the CLI's base).
inline Config default_config() { return Config(config_schema()); }

}  // namespace rmpsim
