#include "sim/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace rmpsim {

void Distribution::sort() const {
  if (!m_sorted) std::sort(m_samples.begin(), m_samples.end());
  m_sorted = true;
}

double Distribution::mean() const {
  if (m_samples.empty()) return 0.0;
  // Sum in integers: exact and independent of sample order.
  unsigned __int128 sum = 0;
  for (auto v : m_samples) sum += v;
  return double(sum) / double(m_samples.size());
}

std::uint64_t Distribution::max() const {
  return m_samples.empty() ? 0 : *std::max_element(m_samples.begin(), m_samples.end());
}

std::uint64_t Distribution::percentile(double p) const {
  if (m_samples.empty()) return 0;
  sort();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(m_samples.size())));
  rank = std::clamp<std::size_t>(rank, 1, m_samples.size());
  return m_samples[rank - 1];
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Distribution::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  if (m_samples.empty()) return out;
  sort();
  // bucket k holds [2^(k-1), 2^k) for k >= 1, bucket 0 holds the value 0.
  std::vector<std::uint64_t> counts(65, 0);
  for (auto v : m_samples) counts[v ? 64 - __builtin_clzll(v) : 0]++;
  for (unsigned k = 0; k < counts.size(); ++k)
    if (counts[k]) out.emplace_back(k ? (1ull << (k - 1)) : 0, counts[k]);
  return out;
}

Json Distribution::summary() const {
  Json j = Json::object();
  j["count"] = count();
  j["mean"] = mean();
  j["p50"] = percentile(50);
  j["p99"] = percentile(99);
  j["max"] = max();
  return j;
}

void StatsRegistry::add(Entry e) {
  for (const auto& x : m_entries)
    if (x.name == e.name) throw std::logic_error("stat registered twice: " + e.name);
  m_entries.push_back(std::move(e));
}

void StatsRegistry::add_counter(const std::string& name, const std::uint64_t* value,
                                const std::string& desc) {
  add(Entry{name, desc, value, nullptr, {}});
}
void StatsRegistry::add_counters(const std::string& prefix,
                                 std::initializer_list<CounterSpec> counters) {
  for (const auto& c : counters) add_counter(prefix + "." + c.suffix, c.value, c.desc);
}

void StatsRegistry::add_distribution(const std::string& name, const Distribution* d,
                                     const std::string& desc) {
  add(Entry{name, desc, nullptr, d, {}});
}
void StatsRegistry::add_formula(const std::string& name, std::function<Json()> f,
                                const std::string& desc) {
  add(Entry{name, desc, nullptr, nullptr, std::move(f)});
}

Json StatsRegistry::to_json() const {
  Json root = Json::object();
  for (const auto& e : m_entries) {
    Json* node = &root;
    std::size_t start = 0, dot;
    while ((dot = e.name.find('.', start)) != std::string::npos) {
      node = &(*node)[e.name.substr(start, dot - start)];
      start = dot + 1;
    }
    Json& leaf = (*node)[e.name.substr(start)];
    if (e.counter) {
      leaf = *e.counter;
    } else if (e.dist) {
      leaf = e.dist->summary();
      Json b = Json::array();
      for (auto [lo, n] : e.dist->buckets()) b.push_back(Json::array({lo, n}));
      leaf["buckets"] = b;
    } else {
      leaf = e.formula();
    }
  }
  return root;
}

std::string StatsRegistry::to_text() const {
  std::string out;
  auto line = [&](const std::string& name, const std::string& value, const std::string& desc) {
    out += fmt::format("{:<56} {:>20} # {}\n", name, value, desc);
  };
  for (const auto& e : m_entries) {
    if (e.counter) {
      line(e.name, std::to_string(*e.counter), e.desc);
    } else if (e.dist) {
      line(e.name + "::count", std::to_string(e.dist->count()), e.desc + " (samples)");
      line(e.name + "::mean", fmt::format("{:.3f}", e.dist->mean()), e.desc + " (mean)");
      line(e.name + "::p50", std::to_string(e.dist->percentile(50)), e.desc + " (median)");
      line(e.name + "::p99", std::to_string(e.dist->percentile(99)), e.desc + " (99th percentile)");
      line(e.name + "::max", std::to_string(e.dist->max()), e.desc + " (maximum)");
      for (auto [lo, n] : e.dist->buckets())
        line(fmt::format("{}::[{},{})", e.name, lo, lo ? lo * 2 : 1), std::to_string(n),
             e.desc + " (bucket)");
    } else {
      Json v = e.formula();
      line(e.name, v.is_string() ? v.get<std::string>() : v.dump(), e.desc);
    }
  }
  return out;
}

}  // namespace rmpsim
