#pragma once
// The output formats of the stats tree (models/common/stats.hpp; OUTPUTS.md):
// the JSON tree of stats.json and the gem5-style text of stats.txt.
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

}  // namespace rmpsim
