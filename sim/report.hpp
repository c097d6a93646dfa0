#pragma once
// The human summary `rmpsim run` prints on stdout.
#include <string>

#include "sim/stats.hpp"

namespace rmpsim {

// `summary` is the OUTPUTS.md summary object; `stats` the full tree.
std::string format_report(const std::string& trace, const Json& summary, const Json& stats,
                          double freq_ghz, const std::string& out_dir);

}  // namespace rmpsim
