#pragma once
// One simulation from a resolved configuration to its output directory: the
// body of `rmpsim run`, shared with sweep points (cmd_sweep.cpp).
#include <string>
#include <vector>

#include "models/common/config.hpp"
#include "sim/commands.hpp"
#include "sim/output.hpp"

namespace rmpsim {

// Simulates `trace` under `cfg` and writes stats.json, stats.txt,
// config.json and then `extra_files` into `out_dir`, all renamed into place
// only after the run finished. Honours args.quiet/expect/events/vcd.
// Returns the exit status; bad input throws InputError.
int simulate(const Config& cfg, const std::string& trace, const RunArgs& args,
             const std::string& out_dir, const std::vector<OutputFile>& extra_files);

// `rmpsim run --sweep FILE --point K --out DIR` (docs/sweeps.md).
int run_sweep_point(const RunArgs& args);

}  // namespace rmpsim
