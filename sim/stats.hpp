#pragma once
// The output formats of the stats tree (models/common/stats.hpp; OUTPUTS.md):
// the JSON tree of stats.json, the gem5-style text of stats.txt, and the
// flat summary keys computed from the tree.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/stats.hpp"

namespace rmpsim {

using Json = nlohmann::ordered_json;

// {count, mean, p50, p99, max}
Json distribution_summary(const stats::Distribution& d);

// Nested objects split at the dots of the full names; distributions as
// objects with count/mean/p50/p99/max/buckets.
Json stats_json_tree(const stats::Group& root);
// gem5 style: "name value # description", one a line; distributions as
// name::count, name::mean, ..., name::[lo,hi) lines.
std::string stats_text_lines(const stats::Group& root);

// A summary key computed from counters of the tree: the sum (or the
// maximum) over every counter matching any of `stats`, patterns relative to
// the root as in stats::Group::counters().
enum class Reduce { Sum, Max };
struct SummaryKey {
  const char* key;
  Reduce reduce;
  std::vector<const char*> stats;
};
// Writes each key of `table` into `out`, in table order. A pattern that
// matches no counter is a programming error (a stat renamed or removed):
// std::logic_error.
void add_summary_keys(Json& out, const stats::Group& root, const std::vector<SummaryKey>& table);

}  // namespace rmpsim
