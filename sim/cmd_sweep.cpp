// rmpsim sweep expand | sweep merge, and `run --sweep FILE --point K`
// (docs/sweeps.md).
//
// Output layout of a sweep directory DIR:
//   DIR/sweep.json      every point (index, trace, swept values, hash or error);
//                       written by the first point run, read by `sweep merge`
//   DIR/sweep.id        the fingerprint of the sweep definition sweep.json is for
//   DIR/K/stats.json    point K's results (as `rmpsim run` writes them), with
//   DIR/K/stats.txt     stats.txt and config.json; then
//   DIR/K/point.json    renamed into place last: point K finished, with this hash
//   DIR/K/error.json    instead, when point K failed (its error message)
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <unistd.h>

#include "sim/commands.hpp"
#include "sim/output.hpp"
#include "sim/report.hpp"
#include "sim/simulate.hpp"
#include "sim/summary_csv.hpp"
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

// Text `dump(2)` gives for `v` nested `depth` levels deep in a document.
std::string nested_dump(const Json& v, unsigned depth) {
  std::string out;
  for (char c : v.dump(2)) {
    out += c;
    if (c == '\n') out.append(2 * depth, ' ');
  }
  return out;
}

// The sweep's point list, DIR/sweep.json. Written by the first point run of a
// sweep definition and afterwards only when the definition changes: DIR/sweep.id
// holds the fingerprint of the definition sweep.json was written from, so a
// point run reads a few bytes instead of expanding and comparing every point
// (issue 14, item 11: a 10^6-point sweep built and compared 1.5 GB per
// point). The list is written record by record, never held whole; the text
// is what index.dump(2) gave, so many tasks starting together still agree.
void write_sweep_index(const Sweep& sweep, const std::string& dir) {
  const std::string path = dir + "/sweep.json", id_path = dir + "/sweep.id";
  const std::string id = sweep.fingerprint() + "\n";
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && fs::is_regular_file(id_path, ec) &&
      read_text_file(id_path, "sweep id") == id)
    return;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw InputError(path, 0, std::string("cannot create: ") + std::strerror(errno));
  // Keys in nlohmann's (sorted) order: keys, list, name, points, sweep.
  std::string chunk = "{\n  \"keys\": " + nested_dump(Json(sweep.keys()), 1) + ",\n  \"list\": [";
  bool good = true;
  for (std::size_t i = 0; i < sweep.size() && good; ++i) {
    chunk += (i ? ",\n    " : "\n    ") + nested_dump(point_record(sweep.point(i)), 2);
    if (chunk.size() >= (1u << 16)) {
      good = std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size();
      chunk.clear();
    }
  }
  chunk += "\n  ],\n  \"name\": " + Json(sweep.name()).dump() + ",\n  \"points\": " +
           std::to_string(sweep.size()) + ",\n  \"sweep\": " + Json(sweep.path()).dump() + "\n}\n";
  good = good && std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size();
  good = (std::fflush(f) == 0) && good;
  std::fclose(f);
  if (!good || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    std::remove(tmp.c_str());
    throw InputError(path, 0, std::string("cannot write: ") + std::strerror(saved));
  }
  write_file_atomically(id_path, id);
}

// The merged files may not replace what the sweep wrote (issue 14, item
// 13): sweep.json, or any file of a point directory DIR/K/, nor each other.
void check_merge_outputs(const std::string& dir, const std::string& csv,
                         const std::string& json) {
  check_outputs_distinct({{"sweep index", dir + "/sweep.json"}},
                         {{"merged CSV", csv}, {"merged JSON", json}});
  std::error_code ec;
  const fs::path top = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  for (const std::string& out : {csv, json}) {
    const fs::path p = fs::weakly_canonical(fs::absolute(out, ec), ec);
    const std::string k = p.parent_path().filename().string();
    if (p.parent_path().parent_path() == top && !k.empty() &&
        k.find_first_not_of("0123456789") == std::string::npos)
      throw InputError(out, 0, "the merged results would overwrite a file of point " + k +
                                   "'s output; choose a file outside " + dir + "/" + k);
  }
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
  // Every point of the sweep shares the top directory; each locks its own.
  const OutputDir top(args.out_dir, /*lock=*/false);
  write_sweep_index(sweep, top.path());
  const std::string dir = top.path() + "/" + std::to_string(p.index);
  fs::create_directories(dir);
  // Locked before anything in it is removed: a second run of this point
  // fails here, without touching the first one's files.
  const OutputDir point_dir(dir);

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
  for (std::size_t n = 0; n < index["list"].size(); ++n) {
    const Json& entry = index["list"][n];
    if (!entry.is_object() || !entry.contains("point") || !entry["point"].is_number_unsigned() ||
        !entry.contains("trace") || !entry.contains("values") || !entry["values"].is_object() ||
        (entry.contains("hash") && !entry["hash"].is_string()) ||
        (entry.contains("error") && !entry["error"].is_string()))
      throw InputError(index_path, 0,
                       fmt::format("not a sweep index written by rmpsim (entry {} of \"list\")", n));
    const std::size_t k = entry.at("point").get<std::size_t>();
    const std::string dir = args.dir + "/" + std::to_string(k);
    Json flat = Json::object();
    Json row = {{"point", k}, {"trace", entry.at("trace")}, {"values", entry.at("values")},
                {"hash", entry.value("hash", "")}};
    // A point's files that cannot be read (truncated, `{}`, `[]`) make that
    // point "corrupt", reported with the file's name; the other points merge.
    std::string corrupt;
    const auto read_point_file = [&](const std::string& name,
                                     const char* field) -> std::optional<Json> {
      const std::string path = dir + "/" + name;
      try {
        auto j = read_json_if_present(path);
        if (j && (!j->is_object() || !j->contains(field) ||
                  (j->at(field).is_object() != (std::string(field) == "summary"))))
          throw InputError(path, 0, std::string("expected a JSON object with \"") + field +
                                        "\", as rmpsim writes it");
        return j;
      } catch (const InputError& e) {
        if (corrupt.empty()) corrupt = e.what();
        return std::nullopt;
      }
    };
    const auto done = read_point_file("point.json", "hash");
    const auto failed = read_point_file("error.json", "error");
    const bool finished =
        done && entry.contains("hash") && done->at("hash") == entry["hash"];
    const auto stats = finished ? read_point_file("stats.json", "summary") : std::nullopt;
    if (!corrupt.empty()) {
      row["status"] = "corrupt";
      row["error"] = corrupt;
      problems.push_back(fmt::format("point {}: corrupt: {}", k, corrupt));
    } else if (finished && stats) {
      row["status"] = "ok";
      row["summary"] = stats->at("summary");
      flat = flat_summary(row["summary"]);
      for (auto it = flat.begin(); it != flat.end(); ++it)
        if (seen.insert(it.key()).second) summary_keys.push_back(it.key());
      ++ok;
    } else if (finished) {
      row["status"] = "missing";
      problems.push_back(fmt::format("point {}: missing ({}/stats.json is gone)", k, dir));
    } else if (failed) {
      row["status"] = "failed";
      row["error"] = failed->at("error").is_string() ? failed->at("error").get<std::string>()
                                                     : failed->at("error").dump();
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
  check_merge_outputs(args.dir, csv_path, json_path);
  write_file_atomically(csv_path, csv, "merged CSV");
  write_file_atomically(json_path, merged.dump(2) + "\n", "merged JSON");

  fmt::print("merged {} points into {} and {}: {} ok, {} not ok\n", rows.size(), csv_path,
             json_path, ok, rows.size() - ok);
  std::fflush(stdout);
  for (const auto& p : problems) fmt::print(stderr, "{}\n", p);
  return ok == rows.size() ? 0 : kIncomplete;
}

}  // namespace rmpsim
