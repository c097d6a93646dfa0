// rmpsim command line (OUTPUTS.md). SystemC starts user code through
// sc_elab_and_sim() -> sc_main(); our own main() only quiets the banner first.
#include <cstdio>
#include <cstdlib>
#include <exception>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <systemc>

#include "models/check/invariant_violation.hpp"
#include "sim/commands.hpp"
#include "sim/interrupt.hpp"
#include "sim/trace_commands.hpp"
#include "sim/version.hpp"
#include "traces/input_error.hpp"

namespace {

void add_config_options(CLI::App* cmd, rmpsim::ConfigArgs& c) {
  cmd->add_option("--config", c.config_file, "JSON configuration file");
  cmd->add_option("--set", c.sets, "override one key, KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->take_all()
      ->expected(1);
}

// run and compare: --warmup N is --set sim.warmup_accesses=N, applied after
// the --set options (CLI11 runs option callbacks after parsing).
void add_warmup_option(CLI::App* cmd, rmpsim::ConfigArgs& c) {
  cmd->add_option_function<std::string>(
         "--warmup",
         [&c](const std::string& n) { c.sets.push_back("sim.warmup_accesses=" + n); },
         "warm-up: the first N access lines run, then every stat starts again from zero "
         "(= --set sim.warmup_accesses=N)")
      ->type_name("N");
}

// Unsigned counts: CLI11 would read "-1" as 2^64-1 (issue 14, item 12:
// `--accesses -1` tried to write 2^64 records).
const CLI::Validator kNonNegative(
    [](std::string& s) {
      return s.find('-') == std::string::npos
                 ? std::string()
                 : "expected a non-negative whole number, got '" + s + "'";
    },
    "UINT");

void add_gen_options(CLI::App* cmd, rmpsim::GenArgs& g) {
  cmd->add_option("--pattern", g.pattern, "hot (TLB-hit dominated), random (walk dominated), stream, chase (MLC-style dependent "
                  "pointer chase over 64-byte lines, after one read of every page; --accesses "
                  "counts the chase loads)")
      ->capture_default_str();
  cmd->add_option("--accesses", g.accesses, "number of accesses")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--vcpus", g.vcpus, "vCPUs, interleaved round-robin")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--footprint", g.footprint, "bytes of guest virtual memory touched")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--write-fraction", g.write_fraction, "share of writes among accesses")
      ->capture_default_str();
  cmd->add_option("--seed", g.seed, "PRNG seed (same seed, same trace)")
      ->capture_default_str()
      ->check(kNonNegative);
  cmd->add_option("--hot-pages", g.hot_pages, "pages each vCPU reuses (pattern hot)")
      ->capture_default_str()
      ->check(kNonNegative);
}

// AddressSanitizer builds only. SystemC runs each vCPU thread on a stack of
// its own (QuickThreads) and Debian's libsystemc does not tell ASan about
// those switches, so when an error is thrown inside a vCPU thread ASan warns
// "ignoring requested __asan_handle_no_return" and does not clear the
// redzones of the frames the exception unwinds, here and when it is rethrown
// on the main stack. The stack below this frame is free again; clearing its
// shadow keeps the error path (fmt writing through un-instrumented libfmt
// into that stack) from reporting those stale redzones as overflows.
void forget_unwound_stack() {
#if defined(__SANITIZE_ADDRESS__)
  char here;
  constexpr std::size_t kBelow = 1 << 20;  // far deeper than any simulation call chain
  __asan_unpoison_memory_region(&here - kBelow, kBelow);
#endif
}

}  // namespace

int sc_main(int argc, char** argv) {
  rmpsim::remove_temporaries_on_fatal_signals();
  CLI::App app{"rmpsim: cycle-level simulator of AMD SEV-SNP memory protection", "rmpsim"};
  app.set_version_flag("--version", std::string("rmpsim ") + rmpsim::kVersion);
  app.require_subcommand(1);

  rmpsim::RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "simulate a trace and write stats");
  run_cmd->add_option("trace", run.trace,
                      "trace file (.rmpt, .rmpb, optionally .zst; - = stdin; a ChampSim trace; a "
                      ".vcpus manifest, one trace per vCPU), or a scenario directory (its "
                      "scenario.json names trace and config); not with --sweep");
  add_config_options(run_cmd, run.config);
  add_warmup_option(run_cmd, run.config);
  run_cmd->add_option("--out", run.out_dir, "output directory")->capture_default_str();
  run_cmd->add_flag("--quiet,-q", run.quiet, "no report and no progress line");
  run_cmd->add_option("--events", run.events,
                      "write faults, exits, PSC requests and conversions as JSON lines");
  run_cmd->add_option("--vcd", run.vcd,
                      "write a VCD of each vCPU's state (running/exit/userspace) and MMU");
  run_cmd->add_option("--expect", run.expect,
                      "expected summary (JSON); exit 3 with a diff when the run differs");
  run_cmd->add_flag("--check", run.check,
                    "invariant mode: check the RMP/NPT/TLB invariants after every state change; "
                    "exit 5 on a violation");
  // Test-only: a fault for --check to find (tests/sim); not in --help.
  run_cmd->add_option("--check-inject", run.check_inject)->group("");
  run_cmd->add_option("--sweep", run.sweep, "run one point of this sweep file into DIR/K/");
  run_cmd->add_option("--point", run.point, "the point K of --sweep to run (0-based)")
      ->check(kNonNegative);

  rmpsim::CompareArgs cmp;
  auto* cmp_cmd = app.add_subcommand("compare", "run a trace under several policies, side by side");
  cmp_cmd->add_option("trace", cmp.trace, "trace file (any form run reads; - = stdin)")->required();
  add_config_options(cmp_cmd, cmp.config);
  add_warmup_option(cmp_cmd, cmp.config);
  cmp_cmd->add_option("--policies", cmp.policies, "comma list of hypervisor policies")
      ->capture_default_str();
  cmp_cmd->add_option("--variant", cmp.variants,
                      "more columns: LABEL:KEY=VALUE[,KEY=VALUE...], an item config=FILE "
                      "layers a file; under each policy unless it sets hypervisor.policy "
                      "(repeatable)")
      ->take_all()
      ->expected(1);
  cmp_cmd->add_option("--out", cmp.out_dir,
                      "also keep each column's stats.json, stats.txt, config.json in DIR/LABEL/");
  auto* fmt_group = cmp_cmd->add_option_group("format");
  bool csv = false, json = false;
  fmt_group->add_flag("--csv", csv, "CSV output");
  fmt_group->add_flag("--json", json, "JSON output (every summary)");
  fmt_group->require_option(0, 1);

  auto* trace_cmd = app.add_subcommand("trace", "inspect, convert and generate traces");
  trace_cmd->require_subcommand(1);
  rmpsim::TraceArgs targs;
  auto* stat_cmd = trace_cmd->add_subcommand("stat", "counts per op and vCPU, pages, ranges");
  stat_cmd->add_option("trace", targs.in, "trace file")->required();
  stat_cmd->add_option("--from", targs.from, "input form: lackey or champsim (else chosen by name or content)");
  auto* conv_cmd = trace_cmd->add_subcommand("convert", "convert between trace forms");
  conv_cmd->add_option("in", targs.in, "input trace")->required();
  conv_cmd->add_option("out", targs.out, "output trace (.rmpt, .rmpb, optionally .zst)")
      ->required();
  conv_cmd->add_option("--from", targs.from, "input form: lackey or champsim (else chosen by name or content)");
  auto* gen_cmd = trace_cmd->add_subcommand("gen", "generate a synthetic trace");
  gen_cmd->add_option("out", targs.out, "output trace (.rmpt, .rmpb, optionally .zst)")
      ->required();
  add_gen_options(gen_cmd, targs.gen);

  rmpsim::SweepArgs sweep;
  auto* sweep_cmd = app.add_subcommand("sweep", "design-space sweeps (docs/sweeps.md)");
  sweep_cmd->require_subcommand(1);
  auto* expand_cmd = sweep_cmd->add_subcommand("expand", "list the points of a sweep file");
  expand_cmd->add_option("sweep", sweep.sweep, "sweep file (JSON)")->required();
  bool expand_count = false, expand_json = false;
  auto* expand_fmt = expand_cmd->add_option_group("format");
  expand_fmt->add_flag("--count", expand_count, "print only the number of points");
  expand_fmt->add_flag("--json", expand_json, "print the points as JSON");
  expand_fmt->require_option(0, 1);
  auto* merge_cmd = sweep_cmd->add_subcommand(
      "merge", "gather every point's summary into DIR/results.csv and DIR/results.json");
  merge_cmd->add_option("dir", sweep.dir, "the sweep's output directory (--out of its points)")
      ->required();
  merge_cmd->add_option("--csv", sweep.csv, "CSV output file (default DIR/results.csv)");
  merge_cmd->add_option("--json", sweep.json, "JSON output file (default DIR/results.json)");

  auto* config_cmd = app.add_subcommand("config", "show the configuration");
  config_cmd->require_subcommand(1);
  rmpsim::ConfigArgs cargs;
  auto* dump_cmd = config_cmd->add_subcommand("dump", "print the resolved configuration");
  add_config_options(dump_cmd, cargs);
  auto* doc_cmd = config_cmd->add_subcommand("doc", "print the configuration reference (Markdown)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Bad options are bad input: exit status 2 (OUTPUTS.md).
    app.exit(e);
    return 2;
  }

  try {
    if (*run_cmd) return rmpsim::cmd_run(run);
    if (*cmp_cmd) {
      cmp.format = csv ? "csv" : json ? "json" : "table";
      return rmpsim::cmd_compare(cmp);
    }
    if (*expand_cmd) {
      sweep.format = expand_count ? "count" : expand_json ? "json" : "table";
      return rmpsim::cmd_sweep_expand(sweep);
    }
    if (*merge_cmd) return rmpsim::cmd_sweep_merge(sweep);
    if (*stat_cmd) return rmpsim::cmd_trace_stat(targs);
    if (*conv_cmd) return rmpsim::cmd_trace_convert(targs);
    if (*gen_cmd) return rmpsim::cmd_trace_gen(targs);
    if (*dump_cmd) return rmpsim::cmd_config_dump(cargs);
    if (*doc_cmd) return rmpsim::cmd_config_doc();
  } catch (const rmpsim::check::InvariantViolation& e) {
    // run --check found the models inconsistent: nothing was written.
    forget_unwound_stack();
    std::fflush(stdout);
    fmt::print(stderr, "rmpsim: {}\n", e.what());
    return 5;
  } catch (const rmpsim::InputError& e) {
    forget_unwound_stack();
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    forget_unwound_stack();
    std::fflush(stdout);
    fmt::print(stderr, "rmpsim: internal error: {}\n", e.what());
    return 1;
  }
  return 1;
}

// libsystemc.so has a main() too; the executable's own one takes precedence.
// SystemC prints its banner before sc_main() runs unless this variable is set,
// and a tool's output should be its report. An explicit setting wins.
int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", /*overwrite=*/0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
