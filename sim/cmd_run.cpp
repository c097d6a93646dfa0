// rmpsim run: simulate a trace, write DIR/{stats.json,stats.txt,config.json}
// and print a short summary.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "sim/commands.hpp"
#include "sim/config_args.hpp"
#include "sim/output.hpp"
#include "sim/platform.hpp"
#include "sim/simulate.hpp"
#include "sim/expect.hpp"
#include "sim/interrupt.hpp"
#include "sim/report.hpp"
#include "sim/version.hpp"
#include "traces/input_error.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim {

namespace {

std::string stats_json(const Config& cfg, const std::string& trace, const Json& summary,
                       const Json& tree) {
  Json root = Json::object();
  root["rmpsim"] = {{"version", kVersion}, {"trace", trace}, {"config_hash", cfg.hash()}};
  root["summary"] = summary;
  root["stats"] = tree;
  return root.dump(2) + "\n";
}

std::string stats_text(const Json& summary, const stats::Group& stats) {
  std::string out = "---------- Begin Simulation Statistics ----------\n";
  out += stats_text_lines(stats);
  // Host figures last: the only lines allowed to differ between identical runs.
  out += fmt::format("{:<56} {:>20} # {}\n", "host_seconds",
                     fmt::format("{:.6f}", summary["host_seconds"].get<double>()),
                     "host wall-clock seconds spent simulating");
  out += fmt::format("{:<56} {:>20} # {}\n", "host_access_rate",
                     fmt::format("{:.0f}", summary["accesses_per_host_second"].get<double>()),
                     "simulated accesses per host second");
  out += "---------- End Simulation Statistics   ----------\n";
  return out;
}

// A scenario directory (docs/scenarios.md): its scenario.json names the trace
// and the config, both relative to the directory. Returns the trace path and
// fills `config` with the scenario's config file.
std::string scenario_trace(const std::string& dir, ConfigArgs& config) {
  namespace fs = std::filesystem;
  const std::string meta_name = (fs::path(dir) / "scenario.json").string();
  if (!fs::is_regular_file(meta_name))
    throw InputError(dir, 0,
                     "expected a trace file or a scenario directory (with a scenario.json), got a "
                     "directory without scenario.json");
  const Json meta = parse_json_document(read_text_file(meta_name, "scenario file"), meta_name,
                                        "a JSON object with \"trace\" and \"config\"");
  for (const char* key : {"trace", "config"})
    if (!meta.is_object() || !meta.contains(key) || !meta[key].is_string())
      throw InputError(meta_name, 0,
                       std::string("expected \"") + key + "\": a path relative to " + dir);
  if (!config.config_file.empty())
    throw InputError("rmpsim run", 0,
                     "--config with a scenario directory: the scenario names its config (" +
                         meta_name + "); change keys with --set");
  const auto in_dir = [&](const char* key) {
    return (fs::path(dir) / meta[key].get<std::string>()).lexically_normal().string();
  };
  config.config_file = in_dir("config");
  return in_dir("trace");
}

}  // namespace

int cmd_run(const RunArgs& args) {
  if (!args.sweep.empty()) return run_sweep_point(args);
  if (args.trace.empty()) throw InputError("rmpsim run", 0, "a trace file (or --sweep) is required");
  if (args.trace != "-" && std::filesystem::is_directory(args.trace)) {
    ConfigArgs config = args.config;
    const std::string trace = scenario_trace(args.trace, config);
    return simulate(resolve_config(config), trace, args, args.out_dir, {});
  }
  return simulate(resolve_config(args.config), args.trace, args, args.out_dir, {});
}

int simulate(const Config& cfg, const std::string& trace, const RunArgs& args,
             const std::string& out_dir, const std::vector<OutputFile>& extra_files) {
  auto reader = trace::open_reader(trace);
  // No output may replace an input or another output (issue 14, item 5).
  const auto partial = [](const std::string& p) {
    return p.empty() || p == "-" ? std::string() : p + ".partial";
  };
  std::vector<NamedPath> outputs = {{"events file", args.events},
                                    {"VCD file", args.vcd},
                                    {"events file", partial(args.events)},
                                    {"VCD file", partial(args.vcd)}};
  for (const char* name : {"stats.json", "stats.txt", "config.json", "stats.partial.json",
                           "stats.partial.txt"})
    outputs.push_back({std::string("output ") + name, out_dir + "/" + name});
  for (const auto& [name, contents] : extra_files)
    outputs.push_back({"output " + name, out_dir + "/" + name});
  check_outputs_distinct({{"trace", trace},
                          {"configuration file", args.config.config_file},
                          {"expected-summary file", args.expect}},
                         outputs);
  const OutputDir out(out_dir);  // fails before simulating if unusable or busy

  std::unique_ptr<EventLog> log;
  if (!args.events.empty() || !args.vcd.empty())
    log = std::make_unique<EventLog>(args.events, args.vcd,
                                     static_cast<unsigned>(cfg.get_int("cpu.count")),
                                     cfg.get_float("cpu.freq_ghz"));
  Platform platform(cfg, *reader, log.get(), args.check);
  if (!args.check_inject.empty()) platform.inject_fault(args.check_inject);
  const auto t0 = std::chrono::steady_clock::now();
  // A heartbeat on stderr for runs longer than a few seconds.
  auto last = t0;
  if (!args.quiet)
    platform.on_progress([&] {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(2)) return;
      last = now;
      const double secs = std::chrono::duration<double>(now - t0).count();
      const std::uint64_t done = platform.accesses();
      std::string pct;
      if (platform.trace_bytes_total())
        pct = fmt::format(", {:.1f}% of the trace",
                          100.0 * double(platform.trace_bytes_read()) /
                              double(platform.trace_bytes_total()));
      fmt::print(stderr, "rmpsim: {} accesses{}, {:.2f} M accesses/s, {:.0f} s\n", done, pct,
                 double(done) / secs / 1e6, secs);
    });
  const InterruptGuard interrupts;
  platform.stop_when(InterruptGuard::flag());
  platform.run();
  const auto t1 = std::chrono::steady_clock::now();
  const double host_s = std::chrono::duration<double>(t1 - t0).count();
  // The rate covers the measured region, as the accesses it counts do.
  const double region_s =
      std::chrono::duration<double>(t1 - platform.region_host_start().value_or(t0)).count();

  Json summary = platform.summary(host_s, region_s);
  const Json tree = stats_json_tree(platform.stats());
  if (platform.interrupted()) {
    // Stats of what was simulated, under names that say so: never a
    // stats.json (or a sweep's point.json), which mean "the whole trace".
    summary["interrupted_by"] = InterruptGuard::signal_name();
    summary["trace_events_read"] = platform.trace_events_read();
    if (log) log->finish(".partial");
    out.write_all({{"stats.partial.json", stats_json(cfg, trace, summary, tree)},
                   {"stats.partial.txt", stats_text(summary, platform.stats())},
                   {"config.json", cfg.dump()}});
    std::vector<std::string> stale = {"stats.json", "stats.txt"};
    for (const auto& [name, contents] : extra_files) stale.push_back(name);
    out.remove(stale);
    std::fflush(stdout);
    fmt::print(stderr,
               "rmpsim: interrupted by {} after {} accesses ({} trace events); partial stats "
               "in {}/stats.partial.json\n",
               InterruptGuard::signal_name(), platform.accesses(),
               platform.trace_events_read(), out.path());
    return 128 + InterruptGuard::signal_number();
  }
  if (log) log->finish();
  std::vector<OutputFile> files = {{"stats.json", stats_json(cfg, trace, summary, tree)},
                                   {"stats.txt", stats_text(summary, platform.stats())},
                                   {"config.json", cfg.dump()}};
  // Extra files go last: a sweep's point.json, renamed into place after the
  // stats, marks the point finished.
  files.insert(files.end(), extra_files.begin(), extra_files.end());
  out.write_all(files);
  out.remove({"stats.partial.json", "stats.partial.txt"});  // from an earlier interrupted run
  if (!args.quiet)
    fmt::print("{}", format_report(trace, summary, tree, platform.freq_ghz(), out.path()));
  if (!args.expect.empty()) {
    const std::string diff = compare_with_expected(summary, args.expect);
    if (!diff.empty()) {
      std::fflush(stdout);
      fmt::print(stderr, "{}", diff);
      return 3;
    }
  }
  return 0;
}

}  // namespace rmpsim
