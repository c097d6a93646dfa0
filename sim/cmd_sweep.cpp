// rmpsim sweep expand | sweep merge, and `run --sweep FILE --point K`
// (docs/sweeps.md).
//
// Output layout of a sweep directory DIR:
//   DIR/sweep.json      every point (index, trace, swept values, hash or error);
//                       written by each point run, read by `sweep merge`
//   DIR/K/stats.json    point K's results (as `rmpsim run` writes them), with
//   DIR/K/stats.txt     stats.txt and config.json; then
//   DIR/K/point.json    renamed into place last: point K finished, with this hash
//   DIR/K/error.json    instead, when point K failed (its error message)
#include <cstdio>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "sim/commands.hpp"
#include "sim/output.hpp"
#include "sim/simulate.hpp"
#include "sim/sweep.hpp"
#include "traces/input_error.hpp"

namespace rmpsim {
namespace {

namespace fs = std::filesystem;

// Exit status of `sweep merge` when a point is missing or failed: the merged
// files are still written, with a status column (README, "Exit status").
constexpr int kIncomplete = 4;

std::optional<Json> read_json_if_present(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return parse_json_document(read_text_file(path, "file"), path, "a JSON object");
}

// The sweep's point list, rewritten only when it changed, so that many tasks
// of one sweep starting together agree on its contents.
void write_sweep_index(const Sweep& sweep, const std::string& dir) {
  Json list = Json::array();
  for (std::size_t i = 0; i < sweep.size(); ++i) list.push_back(point_record(sweep.point(i)));
  Json index = {{"sweep", sweep.path()},
                {"name", sweep.name()},
                {"points", sweep.size()},
                {"keys", sweep.keys()},
                {"list", list}};
  const std::string text = index.dump(2) + "\n";
  const std::string path = dir + "/sweep.json";
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && read_text_file(path, "sweep index") == text) return;
  write_file_atomically(path, text);
}

std::string csv_field(const Json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// A summary as flat (column, value) pairs: nested objects such as
// conversion_latency_cycles become conversion_latency_cycles.p50, ... so
// every CSV cell is a number or a word.
Json flat_summary(const Json& summary) {
  Json out = Json::object();  // ordered: the columns keep the summary's order
  for (auto it = summary.begin(); it != summary.end(); ++it) {
    if (it->is_object())
      for (auto sub = it->begin(); sub != it->end(); ++sub) out[it.key() + "." + sub.key()] = *sub;
    else
      out[it.key()] = *it;
  }
  return out;
}

}  // namespace

int run_sweep_point(const RunArgs& args) {
  const std::string where = "rmpsim run --sweep";
  if (args.point < 0) throw InputError(where, 0, "--sweep needs --point K");
  if (!args.trace.empty())
    throw InputError(where, 0, "give either a trace or --sweep (the sweep names its traces)");
  if (!args.config.config_file.empty() || !args.config.sets.empty())
    throw InputError(where, 0, "--config and --set are not used with --sweep (nor --warmup): put "
                               "them in the sweep file's 'config' and 'set' (--warmup N is "
                               "sim.warmup_accesses=N)");
  if (!args.expect.empty() || !args.events.empty() || !args.vcd.empty())
    throw InputError(where, 0, "--expect, --events and --vcd are for single runs, not sweeps");

  const Sweep sweep(args.sweep);
  const SweepPoint p = sweep.point(static_cast<std::size_t>(args.point));
  const OutputDir top(args.out_dir);
  write_sweep_index(sweep, top.path());
  const std::string dir = top.path() + "/" + std::to_string(p.index);
  fs::create_directories(dir);

  // Finished before with the same configuration and trace: nothing to do.
  const auto done = read_json_if_present(dir + "/point.json");
  if (done && done->value("hash", "") == p.hash && p.error.empty() &&
      fs::is_regular_file(dir + "/stats.json")) {
    if (!args.quiet) fmt::print("point {}: finished earlier (hash {}), skipped\n", p.index, p.hash);
    return 0;
  }
  // Anything left from an earlier attempt or an older sweep definition goes:
  // the merge must never pair this point's values with another run's stats.
  for (const char* stale : {"point.json", "error.json", "stats.json", "stats.txt", "config.json"})
    fs::remove(dir + "/" + stale);

  auto record_failure = [&](const std::string& error, int status) {
    Json rec = point_record(p);
    rec["error"] = error;
    rec["exit_status"] = status;
    write_file_atomically(dir + "/error.json", rec.dump(2) + "\n");
  };
  if (!p.error.empty()) {
    record_failure(p.error, 2);
    fmt::print(stderr, "{}\n", p.error);  // already "file:line: error: ..."
    return 2;
  }
  try {
    return simulate(*p.config, p.trace_path, args, dir,
                    {{"point.json", point_record(p).dump(2) + "\n"}});
  } catch (const InputError& e) {
    record_failure(e.what(), 2);
    throw;
  } catch (const std::exception& e) {
    record_failure(std::string("internal error: ") + e.what(), 1);
    throw;
  }
}

int cmd_sweep_expand(const SweepArgs& args) {
  const Sweep sweep(args.sweep);
  if (args.format == "count") {
    fmt::print("{}\n", sweep.size());
    return 0;
  }
  if (args.format == "json") {
    Json list = Json::array();
    for (std::size_t i = 0; i < sweep.size(); ++i) list.push_back(point_record(sweep.point(i)));
    fmt::print("{}\n", list.dump(2));
    return 0;
  }
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    const SweepPoint p = sweep.point(i);
    std::string values;
    for (const auto& [k, v] : p.values) values += fmt::format(" {}={}", k, csv_field(v));
    fmt::print("{:>5}  {}{}  {}\n", i, p.trace, values,
               p.error.empty() ? "hash " + p.hash : "INVALID: " + p.error);
  }
  return 0;
}

int cmd_sweep_merge(const SweepArgs& args) {
  const std::string index_path = args.dir + "/sweep.json";
  if (!fs::is_regular_file(index_path))
    throw InputError(index_path, 0, "not a sweep directory: no sweep.json (run a point first)");
  const Json index =
      parse_json_document(read_text_file(index_path, "sweep index"), index_path, "a sweep index");
  if (!index.is_object() || !index.contains("list") || !index["list"].is_array() ||
      !index.contains("keys") || !index["keys"].is_array())
    throw InputError(index_path, 0, "not a sweep index written by rmpsim");
  const std::vector<std::string> keys = index["keys"].get<std::vector<std::string>>();

  // Columns: point identity and swept values, the status, then every summary
  // key in the order `rmpsim run` writes them.
  std::vector<std::string> summary_keys;
  std::set<std::string> seen;
  Json rows = Json::array();
  std::vector<Json> flats;  // each row's flat summary (empty unless ok)
  std::size_t ok = 0;
  std::vector<std::string> problems;
  for (const Json& entry : index["list"]) {
    const std::size_t k = entry.at("point").get<std::size_t>();
    const std::string dir = args.dir + "/" + std::to_string(k);
    Json flat = Json::object();
    Json row = {{"point", k}, {"trace", entry.at("trace")}, {"values", entry.at("values")},
                {"hash", entry.value("hash", "")}};
    const auto done = read_json_if_present(dir + "/point.json");
    const auto failed = read_json_if_present(dir + "/error.json");
    if (done && entry.contains("hash") && done->value("hash", "") == entry["hash"]) {
      const std::string stats_path = dir + "/stats.json";
      const Json stats = parse_json_document(read_text_file(stats_path, "point stats"),
                                             stats_path, "a stats.json written by rmpsim");
      row["status"] = "ok";
      row["summary"] = stats.at("summary");
      flat = flat_summary(row["summary"]);
      for (auto it = flat.begin(); it != flat.end(); ++it)
        if (seen.insert(it.key()).second) summary_keys.push_back(it.key());
      ++ok;
    } else if (failed) {
      row["status"] = "failed";
      row["error"] = failed->value("error", "");
      problems.push_back(fmt::format("point {}: failed: {}", k, row["error"].get<std::string>()));
    } else if (entry.contains("error")) {
      row["status"] = "failed";
      row["error"] = entry["error"];
      problems.push_back(fmt::format("point {}: not run, invalid: {}", k,
                                     entry["error"].get<std::string>()));
    } else {
      row["status"] = done ? "stale" : "missing";
      problems.push_back(fmt::format("point {}: {}", k,
                                     done ? "stale (finished with another configuration)"
                                          : "missing (not run, or interrupted)"));
    }
    rows.push_back(std::move(row));
    flats.push_back(std::move(flat));
  }

  std::string csv = "point,trace";
  for (const auto& key : keys) csv += "," + csv_field(key);
  csv += ",status,hash";
  for (const auto& key : summary_keys) csv += "," + key;
  csv += ",error\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Json& row = rows[r];
    const Json& flat = flats[r];
    csv += fmt::format("{},{}", row["point"].get<std::size_t>(), csv_field(row["trace"]));
    for (const auto& key : keys) csv += "," + csv_field(row["values"].value(key, Json()));
    csv += "," + csv_field(row["status"]) + "," + csv_field(row["hash"]);
    for (const auto& key : summary_keys) csv += "," + csv_field(flat.value(key, Json()));
    csv += "," + csv_field(row.value("error", Json())) + "\n";
  }
  const Json merged = {{"sweep", index.value("sweep", "")},
                       {"name", index.value("name", "")},
                       {"keys", keys},
                       {"points", rows}};
  const std::string csv_path = args.csv.empty() ? args.dir + "/results.csv" : args.csv;
  const std::string json_path = args.json.empty() ? args.dir + "/results.json" : args.json;
  write_file_atomically(csv_path, csv);
  write_file_atomically(json_path, merged.dump(2) + "\n");

  fmt::print("merged {} points into {} and {}: {} ok, {} not ok\n", rows.size(), csv_path,
             json_path, ok, rows.size() - ok);
  std::fflush(stdout);
  for (const auto& p : problems) fmt::print(stderr, "{}\n", p);
  return ok == rows.size() ? 0 : kIncomplete;
}

}  // namespace rmpsim
