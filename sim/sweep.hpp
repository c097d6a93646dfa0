#pragma once
// Design-space sweeps (docs/sweeps.md): a sweep file names a base
// configuration, a list of traces and axes of configuration values; its
// points are the cartesian product of the traces and the axes (an axis may
// zip several keys that move together). Point K is run by
// `rmpsim run --sweep FILE --point K --out DIR` into DIR/K/, and
// `rmpsim sweep merge DIR` gathers the points into one table.
//
// Everything here is deterministic: the same sweep file expands to the same
// points in the same order on every machine, which is what lets a Slurm job
// array and a local GNU parallel run address the same point by its index.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/common/config.hpp"

namespace rmpsim {

// One swept key and its values, in the order they are visited.
struct SweepKey {
  std::string key;
  std::vector<Json> values;
  std::uint64_t line = 0;  // where the key is named in the sweep file
};

// An axis: one key, or several zipped keys of equal length that move together.
struct SweepAxis {
  std::vector<SweepKey> keys;
  std::size_t size() const { return keys.front().values.size(); }
};

// One point of the sweep. `config` is empty when the point's values are not
// a valid configuration; `error` then says why (the point fails when run,
// the others are unaffected).
struct SweepPoint {
  std::size_t index = 0;
  std::string trace;                                  // as written in the sweep file
  std::string trace_path;                             // resolved against the sweep file
  std::vector<std::pair<std::string, Json>> values;   // swept key -> value
  std::optional<Config> config;
  std::string error;
  // Content hash of the resolved configuration and the trace name: a point
  // whose outputs carry the same hash is finished and is skipped on a re-run.
  std::string hash;
};

class Sweep {
 public:
  // Parses a sweep file. Malformed files are InputError(path, line, ...).
  explicit Sweep(const std::string& path);

  const std::string& path() const { return m_path; }
  const std::string& name() const { return m_name; }
  std::size_t size() const;  // number of points
  // Every swept key, in axis order (the merged table's columns).
  std::vector<std::string> keys() const;
  // Point `index` (< size()), with its configuration resolved.
  SweepPoint point(std::size_t index) const;
  // A hash of everything the point list depends on (the file's text and
  // the resolved base configuration, a 'config' file included): equal
  // fingerprints expand to the same points.
  std::string fingerprint() const;

 private:
  std::string m_path;
  std::string m_dir;       // relative names in the file are relative to this
  std::string m_text;      // the file, for line numbers in errors
  std::string m_name;
  std::vector<std::pair<std::string, Json>> m_sets;  // fixed overrides
  Config m_base;           // defaults, then the 'config' file, then m_sets
  std::vector<std::string> m_traces;
  std::vector<SweepAxis> m_axes;
};

// The JSON record of a point that `sweep expand --json`, DIR/sweep.json and
// DIR/K/point.json share: index, trace, swept values, hash or error.
Json point_record(const SweepPoint& p);

}  // namespace rmpsim
