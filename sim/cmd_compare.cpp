// rmpsim compare: one trace under several hypervisor policies (and
// --variant columns), side by side; README.md "Comparing configurations".
// SystemC allows one elaboration per process, so every policy runs in a
// child process (`rmpsim run`), and this process only reads their stats.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
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
#include "sim/report.hpp"
#include "sim/summary_csv.hpp"
#include "traces/input_error.hpp"

extern char** environ;

namespace rmpsim {

namespace {

// Splits a --variant's settings at the commas between items, not at those
// inside a JSON value: `guest.shared_ranges=[[1,2]],cpu.count=2` is two items
// (issue 16, item 4).
std::vector<std::string> split_items(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' && (i == 0 || s[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == '[' || c == '{')) ++depth;
    if (!in_string && (c == ']' || c == '}')) --depth;
    if (c == ',' && depth <= 0 && !in_string) {
      if (!item.empty()) out.push_back(item);
      item.clear();
      continue;
    }
    item += c;
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Runs a child `rmpsim run` and returns its exit status; `stdin_file`, when
// given, is its standard input.
int run_child(const std::vector<std::string>& args, const std::string& stdin_file) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdin_file.empty())
    posix_spawn_file_actions_addopen(&actions, 0, stdin_file.c_str(), O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start a child rmpsim process");
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) throw std::runtime_error("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

struct Row {
  const char* label;
  std::function<std::string(const Json& summary, const Json& stats, double ghz)> value;
};

std::uint64_t u(const Json& j, const char* k) { return j.at(k).get<std::uint64_t>(); }

// One --variant: LABEL:ITEM[,ITEM...], ITEM = KEY=VALUE or config=FILE.
struct Variant {
  std::string spec;  // as given, for error messages
  std::string label;
  std::string config_file;
  std::vector<std::string> sets;
  bool pins_policy = false;  // sets hypervisor.policy itself: not crossed with --policies
};

Variant parse_variant(const std::string& v) {
  const auto colon = v.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
    throw InputError("--variant " + v, 0,
                     "expected LABEL:KEY=VALUE[,KEY=VALUE...] (an item config=FILE layers a "
                     "configuration file)");
  Variant out;
  out.spec = v;
  out.label = v.substr(0, colon);
  const bool safe =
      out.label != "." && out.label != ".." &&
      out.label.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
          std::string::npos;
  if (!safe)
    throw InputError("--variant " + v, 0,
                     "expected a LABEL of letters, digits, '.', '_' and '-' (it names the "
                     "column and its directory under --out), got '" + out.label + "'");
  for (const auto& item : split_items(v.substr(colon + 1))) {
    if (item.rfind("config=", 0) == 0) {
      if (!out.config_file.empty())
        throw InputError("--variant " + v, 0, "expected at most one config=FILE");
      out.config_file = item.substr(7);
      continue;
    }
    out.sets.push_back(item);
    if (item.rfind("hypervisor.policy=", 0) == 0) out.pins_policy = true;
  }
  return out;
}

// One column of the table: a resolved configuration and where its stats go
// under --out.
struct Column {
  std::string label;
  Config cfg;
};

// Defaults, --config, --set, then the variant's config=FILE and KEY=VALUEs,
// then the column's policy: what a variant says wins over what all columns
// share. Errors in a variant's items name the --variant.
Config column_config(const ConfigArgs& common, const Variant* v, const std::string& policy,
                     const std::string& policies) {
  Config cfg = resolve_config_unchecked(common);
  std::string origin = relation_origin(cfg, common);
  if (v) {
    if (!v->config_file.empty()) cfg.load_file(v->config_file);
    for (const auto& s : v->sets) {
      try {
        cfg.apply_set(s);
      } catch (const InputError& e) {
        const std::string prefix = e.file() + ": error: ";
        const std::string what = std::string(e.what()).substr(prefix.size());
        throw InputError("--variant " + v->spec, 0, what);
      }
    }
    if (cfg.broken_relation()) origin = "--variant " + v->spec;
  }
  if (!policy.empty()) cfg.set("hypervisor.policy", Json(policy), "--policies " + policies);
  cfg.check_relations(origin, 0);
  return cfg;
}

}  // namespace

int cmd_compare(const CompareArgs& args) {
  const std::vector<std::string> policy_list = split_list(args.policies);
  if (policy_list.empty())
    throw InputError("--policies " + args.policies, 0,
                     "expected a comma list of exit-to-userspace, auto-convert, terminate");
  // Columns (README.md, "Comparing"): the base configuration under every
  // policy of --policies, then each --variant under every policy (one column
  // if the variant sets hypervisor.policy itself). With one policy a
  // variant's column is its LABEL, else LABEL/POLICY.
  std::vector<Variant> variants;
  for (const auto& v : args.variants) variants.push_back(parse_variant(v));
  std::vector<Column> columns;
  const auto add = [&](std::string label, Config cfg) {
    for (const auto& c : columns)
      if (c.label == label)
        throw InputError("--variant " + label, 0,
                         "expected a label no other column has (a policy name or an earlier "
                         "--variant has it)");
    columns.push_back({std::move(label), std::move(cfg)});
  };
  for (const auto& p : policy_list) add(p, column_config(args.config, nullptr, p, args.policies));
  for (const auto& v : variants) {
    if (v.pins_policy) {
      add(v.label, column_config(args.config, &v, "", args.policies));
      continue;
    }
    for (const auto& p : policy_list)
      add(policy_list.size() == 1 ? v.label : v.label + "/" + p,
          column_config(args.config, &v, p, args.policies));
  }
  std::unique_ptr<OutputDir> out;
  if (!args.out_dir.empty()) out = std::make_unique<OutputDir>(args.out_dir);
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
  // Standard input can be read once, and every column reads the trace: keep
  // a copy and give it to each child as its standard input (issue 16, item 5).
  std::string stdin_copy;
  if (args.trace == "-") {
    stdin_copy = tmp + "/stdin";
    std::ofstream copy(stdin_copy, std::ios::binary);
    copy << std::cin.rdbuf();
    if (!copy.flush())
      throw std::runtime_error("compare: cannot keep a copy of standard input in " + tmp);
  }
  std::vector<Json> results;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string dir = tmp + "/" + std::to_string(i);
    // The child reads the column's resolved configuration: --config and
    // --set of every layer are already applied.
    const std::string cfg_file = dir + ".json";
    write_file_atomically(cfg_file, columns[i].cfg.dump());
    const std::vector<std::string> argv = {"rmpsim", "run",   args.trace, "--quiet",
                                           "--out",  dir,     "--config", cfg_file};
    const int status = run_child(argv, stdin_copy);
    if (status != 0) return status;  // the child printed its error
    std::ifstream in(dir + "/stats.json");
    results.push_back(Json::parse(in));
  }
  // --out DIR: each column's stats.json, stats.txt and config.json in
  // DIR/LABEL/, written only once every column ran.
  if (out)
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const std::string from = tmp + "/" + std::to_string(i) + "/";
      std::vector<OutputFile> files;
      for (const char* name : {"stats.json", "stats.txt", "config.json"}) {
        std::ifstream in(from + name, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        files.emplace_back(name, text.str());
      }
      OutputDir(args.out_dir + "/" + columns[i].label).write_all(files);
    }
  std::vector<std::string> policies;
  std::vector<double> ghz;
  for (const auto& col : columns) {
    policies.push_back(col.label);
    ghz.push_back(col.cfg.get_float("cpu.freq_ghz"));
  }

  std::vector<Row> rows = {
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
  // Under an SVSM (guest.svsm) in any column: its calls, entries and time,
  // and its share of the conversions' cost (0 in a column without one).
  bool svsm = false;
  for (const auto& res : results) svsm = svsm || res["summary"].contains("svsm_calls");
  if (svsm) {
    auto opt = [](const Json& s, const char* k) {
      return std::to_string(s.contains(k) ? u(s, k) : 0);
    };
    const std::vector<Row> svsm_rows = {
        {"svsm_calls", [opt](const Json& s, const Json&, double) { return opt(s, "svsm_calls"); }},
        {"svsm_entries",
         [opt](const Json& s, const Json&, double) { return opt(s, "svsm_entries"); }},
        {"svsm_cycles", [opt](const Json& s, const Json&, double) { return opt(s, "svsm_cycles"); }},
        {"conversion cost.svsm",
         [](const Json&, const Json& st, double) {
           std::uint64_t sum = 0;
           for (const auto& t : st.at("system").at("conversions"))
             if (t.is_object() && t.contains("cost") && t.at("cost").contains("svsm"))
               sum += t.at("cost").at("svsm").get<std::uint64_t>();
           return std::to_string(sum);
         }},
    };
    rows.insert(rows.end() - 1, svsm_rows.begin(), svsm_rows.end());
  }
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
    for (std::size_t i = 0; i < results.size(); ++i)
      line += fmt::format(" {:>20}", r.value(results[i]["summary"], results[i]["stats"], ghz[i]));
    fmt::print("{}\n", line);
  }
  for (std::size_t i = 0; i < policies.size(); ++i)
    if (results[i]["summary"]["guest_terminated"].get<bool>())
      fmt::print("  {}: {}\n", policies[i],
                 results[i]["summary"]["termination_reason"].get<std::string>());
  return 0;
}

}  // namespace rmpsim
