#include "sim/stats.hpp"

#include <algorithm>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

namespace rmpsim {

namespace {

Json value_json(const stats::Value& v) {
  return std::visit([](const auto& x) { return Json(x); }, v);
}

}  // namespace

Json distribution_summary(const stats::Distribution& d) {
  Json j = Json::object();
  j["count"] = d.count();
  j["mean"] = d.mean();
  j["p50"] = d.percentile(50);
  j["p99"] = d.percentile(99);
  j["max"] = d.max();
  return j;
}

Json stats_json_tree(const stats::Group& root) {
  Json out = Json::object();
  root.visit([&](const std::string& name, const stats::Stat& s) {
    Json* node = &out;
    std::size_t start = 0, dot;
    while ((dot = name.find('.', start)) != std::string::npos) {
      node = &(*node)[name.substr(start, dot - start)];
      start = dot + 1;
    }
    Json& leaf = (*node)[name.substr(start)];
    if (s.counter) {
      leaf = *s.counter;
    } else if (s.dist) {
      leaf = distribution_summary(*s.dist);
      Json b = Json::array();
      for (auto [lo, n] : s.dist->buckets()) b.push_back(Json::array({lo, n}));
      leaf["buckets"] = b;
    } else {
      leaf = value_json(s.formula());
    }
  });
  return out;
}

std::string stats_text_lines(const stats::Group& root) {
  std::string out;
  auto line = [&](const std::string& name, const std::string& value, const std::string& desc) {
    out += fmt::format("{:<56} {:>20} # {}\n", name, value, desc);
  };
  root.visit([&](const std::string& name, const stats::Stat& s) {
    if (s.counter) {
      line(name, std::to_string(*s.counter), s.desc);
    } else if (s.dist) {
      const stats::Distribution& d = *s.dist;
      line(name + "::count", std::to_string(d.count()), s.desc + " (samples)");
      line(name + "::mean", fmt::format("{:.3f}", d.mean()), s.desc + " (mean)");
      line(name + "::p50", std::to_string(d.percentile(50)), s.desc + " (median)");
      line(name + "::p99", std::to_string(d.percentile(99)), s.desc + " (99th percentile)");
      line(name + "::max", std::to_string(d.max()), s.desc + " (maximum)");
      for (auto [lo, n] : d.buckets())
        line(fmt::format("{}::[{},{})", name, lo, lo ? lo * 2 : 1), std::to_string(n),
             s.desc + " (bucket)");
    } else {
      const Json v = value_json(s.formula());
      line(name, v.is_string() ? v.get<std::string>() : v.dump(), s.desc);
    }
  });
  return out;
}

void add_summary_keys(Json& out, const stats::Group& root, const std::vector<SummaryKey>& table) {
  for (const SummaryKey& k : table) {
    std::uint64_t v = 0;
    for (const char* pattern : k.stats) {
      const auto counters = root.counters(pattern);
      if (counters.empty())
        throw std::logic_error(fmt::format("summary key {}: no stat matches {}.{}", k.key,
                                           root.name(), pattern));
      for (const std::uint64_t* c : counters) v = k.reduce == Reduce::Sum ? v + *c : std::max(v, *c);
    }
    out[k.key] = v;
  }
}

}  // namespace rmpsim
