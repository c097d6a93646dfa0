#pragma once
// The stats registry. Models own their counters as plain members (a hot-path
// increment is one add) and register them here once, under hierarchical
// names equal to their SystemC object names ("system.cpu0.accesses").
// The registry writes the JSON tree and the gem5-style text (OUTPUTS.md).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rmpsim {

using Json = nlohmann::ordered_json;

// A distribution of integer samples (conversion latency in cycles, walk
// references...). Keeps every sample so percentiles are exact; samples are
// events like conversions, not accesses, so memory stays small.
class Distribution {
 public:
  void sample(std::uint64_t v) {
    m_samples.push_back(v);
    m_sorted = false;
  }
  std::uint64_t count() const { return m_samples.size(); }
  double mean() const;
  std::uint64_t max() const;
  // Nearest-rank percentile: the smallest sample with at least p% of the
  // samples <= it. 0 for an empty distribution.
  std::uint64_t percentile(double p) const;
  // Power-of-two buckets: {lower bound, count}, lower bounds 0, 1, 2, 4, ...
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;
  // {count, mean, p50, p99, max}
  Json summary() const;

 private:
  void sort() const;
  mutable std::vector<std::uint64_t> m_samples;
  mutable bool m_sorted = true;
};

class StatsRegistry {
 public:
  void add_counter(const std::string& name, const std::uint64_t* value, const std::string& desc);
  // A block's counters as one table: each {suffix, counter, description} is
  // registered as prefix + "." + suffix, in order.
  struct CounterSpec {
    const char* suffix;
    const std::uint64_t* value;
    const char* desc;
  };
  void add_counters(const std::string& prefix, std::initializer_list<CounterSpec> counters);
  void add_distribution(const std::string& name, const Distribution* d, const std::string& desc);
  // A value computed when the stats are written (ratios, floats, strings).
  void add_formula(const std::string& name, std::function<Json()> f, const std::string& desc);

  // Nested objects split at the dots; distributions as objects with
  // count/mean/p50/p99/max/buckets.
  Json to_json() const;
  // gem5 style: "name value # description", one a line; distributions as
  // name::count, name::mean, ..., name::[lo,hi) lines.
  std::string to_text() const;

 private:
  struct Entry {
    std::string name;
    std::string desc;
    const std::uint64_t* counter = nullptr;
    const Distribution* dist = nullptr;
    std::function<Json()> formula;
  };
  void add(Entry e);
  std::vector<Entry> m_entries;
};

}  // namespace rmpsim
