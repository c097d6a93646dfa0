#pragma once
// The human summary `rmpsim run` prints on stdout.
#include <string>

#include "sim/stats.hpp"

namespace rmpsim {

// `summary` is the OUTPUTS.md summary object; `stats` the full tree.
std::string format_report(const std::string& trace, const Json& summary, const Json& stats,
                          double freq_ghz, const std::string& out_dir);

// One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line
// break, quotes doubled. `compare --csv` and `sweep merge` use it.
std::string csv_cell(const std::string& text);

}  // namespace rmpsim
