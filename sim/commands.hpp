#pragma once
// The CLI's subcommands (OUTPUTS.md "Commands"). Each returns the process
// exit status; InputError escapes to main(), which prints it and exits 2.
#include <cstdint>
#include <string>
#include <vector>

namespace rmpsim {

struct ConfigArgs {
  std::string config_file;          // --config
  std::vector<std::string> sets;    // --set KEY=VALUE, in order
};

struct RunArgs {
  std::string trace;
  ConfigArgs config;
  std::string out_dir = "rmpsim-out";
  bool quiet = false;
  std::string expect;  // --expect FILE: compare the summary, exit 3 on a difference
  std::string events;  // --events FILE: JSON lines of faults, exits, PSC, conversions
  std::string vcd;     // --vcd FILE: waveform of vCPU states
  std::string sweep;   // --sweep FILE: run one point of a sweep (docs/sweeps.md)
  std::int64_t point = -1;  // --point K
  bool check = false;  // --check: invariant mode (docs/reliability.md), exit 5 on a violation
  std::string check_inject;  // hidden --check-inject KIND: test-only fault injection
};

struct SweepArgs {
  std::string sweep;     // expand: the sweep file
  std::string dir;       // merge: the sweep's output directory
  std::string format = "table";  // expand: table | json | count
  std::string csv, json;         // merge: output files (default DIR/results.{csv,json})
};

struct CompareArgs {
  std::string trace;
  ConfigArgs config;
  std::string policies = "exit-to-userspace,auto-convert,terminate";
  // --variant LABEL:ITEM[,ITEM...] (ITEM: KEY=VALUE or config=FILE):
  // columns beside the base ones, each run under every policy of --policies
  // unless it sets hypervisor.policy (README.md, "Comparing configurations").
  std::vector<std::string> variants;
  std::string out_dir;  // --out DIR: each column's stats in DIR/LABEL/
  std::string format = "table";  // table | csv | json
};

int cmd_run(const RunArgs& args);
int cmd_sweep_expand(const SweepArgs& args);
int cmd_sweep_merge(const SweepArgs& args);
int cmd_compare(const CompareArgs& args);
int cmd_config_dump(const ConfigArgs& args);
int cmd_config_doc();

}  // namespace rmpsim
