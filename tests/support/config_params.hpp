#pragma once
// Tests build model parameters the way the platform does, through each
// block's params_from(config, clock): from the schema's defaults with the
// keys a test cares about set, so a test never relies on a default of its
// own.
#include <initializer_list>
#include <string>
#include <utility>

#include "models/config_schema.hpp"
#include "models/common/config.hpp"

namespace rmpsim::test {

// The default core clock (cpu.freq_ghz).
inline const Clock kClock{2.7};

// The defaults, with `sets` applied in order ({"walker.pwc.entries", 0}, ...).
inline Config config_with(std::initializer_list<std::pair<std::string, Json>> sets) {
  Config c = default_config();
  for (const auto& [key, value] : sets) c.set(key, value, "test", 0);
  return c;
}

}  // namespace rmpsim::test
