// rmpsim compare: one trace under several hypervisor policies (and --set
// variants), side by side.
// SystemC allows one elaboration per process, so every policy runs in a
// child process (`rmpsim run`), and this process only reads their stats.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/commands.hpp"
#include "sim/config_args.hpp"
#include "sim/output.hpp"
#include "sim/summary_csv.hpp"
#include "traces/input_error.hpp"

extern char** environ;

namespace rmpsim {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Runs a child `rmpsim run` and returns its exit status.
int run_child(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start a child rmpsim process");
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) throw std::runtime_error("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

struct Row {
  const char* label;
  std::function<std::string(const Json& summary, const Json& stats, double ghz)> value;
};

std::uint64_t u(const Json& j, const char* k) { return j.at(k).get<std::uint64_t>(); }

}  // namespace

int cmd_compare(const CompareArgs& args) {
  const std::vector<std::string> policy_list = split_list(args.policies);
  if (policy_list.empty())
    throw InputError("--policies " + args.policies, 0,
                     "expected a comma list of exit-to-userspace, auto-convert, terminate");
  // Columns: every policy, times every --variant (LABEL:KEY=VALUE,...).
  struct Column {
    std::string label;
    std::vector<std::string> sets;
  };
  std::vector<Column> columns;
  std::vector<std::pair<std::string, std::vector<std::string>>> variants;
  for (const auto& v : args.variants) {
    const auto colon = v.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
      throw InputError("--variant " + v, 0, "expected LABEL:KEY=VALUE[,KEY=VALUE...]");
    variants.emplace_back(v.substr(0, colon), split_list(v.substr(colon + 1)));
  }
  if (variants.empty()) variants.emplace_back("", std::vector<std::string>{});
  for (const auto& [vlabel, vsets] : variants)
    for (const auto& p : policy_list) {
      Column c;
      c.label = vlabel.empty() ? p : policy_list.size() == 1 ? vlabel : vlabel + "/" + p;
      c.sets = vsets;
      c.sets.push_back("hypervisor.policy=" + p);
      columns.push_back(c);
    }
  // Validate every configuration here, so a bad key is reported once.
  for (const auto& col : columns) {
    ConfigArgs c = args.config;
    c.sets.insert(c.sets.end(), col.sets.begin(), col.sets.end());
    (void)resolve_config(c);
  }
  std::vector<std::string> policies;
  for (const auto& col : columns) policies.push_back(col.label);
  const double ghz = resolve_config(args.config).get_float("cpu.freq_ghz");
  // A fresh private directory (mkdtemp: unpredictable name, mode 0700), not
  // a name built from the pid that a planted symlink could redirect (issue
  // 14, item 8); removed whatever happens below.
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "rmpsim-compare-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error(fmt::format("compare: cannot create a temporary directory in {}: {}",
                                         std::filesystem::temp_directory_path().string(),
                                         std::strerror(errno)));
  const std::string tmp = tmpl;
  struct RemoveAtExit {
    std::string dir;
    ~RemoveAtExit() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_tmp{tmp};
  std::vector<Json> results;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string dir = tmp + "/" + std::to_string(i);
    std::vector<std::string> argv = {"rmpsim", "run", args.trace, "--quiet", "--out", dir};
    if (!args.config.config_file.empty())
      argv.insert(argv.end(), {"--config", args.config.config_file});
    for (const auto& s : args.config.sets) argv.insert(argv.end(), {"--set", s});
    for (const auto& s : columns[i].sets) argv.insert(argv.end(), {"--set", s});
    const int status = run_child(argv);
    if (status != 0) return status;  // the child printed its error
    std::ifstream in(dir + "/stats.json");
    results.push_back(Json::parse(in));
  }

  const std::vector<Row> rows = {
      {"cycles", [](const Json& s, const Json&, double) { return std::to_string(u(s, "cycles")); }},
      {"accesses", [](const Json& s, const Json&, double) { return std::to_string(u(s, "accesses")); }},
      {"vmexits", [](const Json& s, const Json&, double) { return std::to_string(u(s, "vmexits")); }},
      {"userspace_exits",
       [](const Json& s, const Json&, double) { return std::to_string(u(s, "userspace_exits")); }},
      {"rmpupdate", [](const Json& s, const Json&, double) { return std::to_string(u(s, "rmpupdate")); }},
      {"psmash", [](const Json& s, const Json&, double) { return std::to_string(u(s, "psmash")); }},
      {"pvalidate", [](const Json& s, const Json&, double) { return std::to_string(u(s, "pvalidate")); }},
      {"conversions",
       [](const Json& s, const Json&, double) { return std::to_string(u(s, "conversions")); }},
      {"conversion p50 (cycles)",
       [](const Json& s, const Json&, double) {
         return std::to_string(u(s.at("conversion_latency_cycles"), "p50"));
       }},
      {"conversion p99 (cycles)",
       [](const Json& s, const Json&, double) {
         return std::to_string(u(s.at("conversion_latency_cycles"), "p99"));
       }},
      {"conversion p50 (us)",
       [](const Json& s, const Json&, double ghz) {
         return fmt::format("{:.2f}", double(u(s.at("conversion_latency_cycles"), "p50")) / ghz / 1e3);
       }},
      {"guest_terminated",
       [](const Json& s, const Json&, double) {
         return std::string(s.at("guest_terminated").get<bool>() ? "yes" : "no");
       }},
  };
  if (args.format == "json") {
    Json out = Json::object();
    for (std::size_t i = 0; i < policies.size(); ++i) out[policies[i]] = results[i]["summary"];
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  if (args.format == "csv") {
    // For analysis tools (docs/analysis.md): one row per column of the table,
    // every summary key a typed column, as `sweep merge` writes them.
    std::vector<Json> flats;
    std::vector<std::string> keys;
    for (const auto& res : results) {
      flats.push_back(flat_summary(res["summary"]));
      for (auto it = flats.back().begin(); it != flats.back().end(); ++it)
        if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
    std::string csv = "column";
    for (const auto& key : keys) csv += "," + csv_field(key);
    for (std::size_t i = 0; i < flats.size(); ++i) {
      csv += "\n" + csv_field(policies[i]);
      for (const auto& key : keys) csv += "," + csv_field(flats[i].value(key, Json()));
    }
    fmt::print("{}\n", csv);
    return 0;
  }
  fmt::print("rmpsim compare of {}\n", args.trace);
  std::string header = fmt::format("  {:<26}", "");
  for (const auto& p : policies) header += fmt::format(" {:>20}", p);
  fmt::print("{}\n", header);
  for (const auto& r : rows) {
    std::string line = fmt::format("  {:<26}", r.label);
    for (const auto& res : results) line += fmt::format(" {:>20}", r.value(res["summary"], res["stats"], ghz));
    fmt::print("{}\n", line);
  }
  for (std::size_t i = 0; i < policies.size(); ++i)
    if (results[i]["summary"]["guest_terminated"].get<bool>())
      fmt::print("  {}: {}\n", policies[i],
                 results[i]["summary"]["termination_reason"].get<std::string>());
  return 0;
}

}  // namespace rmpsim
