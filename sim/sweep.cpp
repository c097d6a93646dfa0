#include "models/config_schema.hpp"
#include "sim/sweep.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "traces/input_error.hpp"

namespace rmpsim {
namespace {

namespace fs = std::filesystem;

// Line of the first quoted occurrence of `literal` at or after `from`; 0 when
// absent. Sweep files name keys as JSON strings ("key": "mmu.l2.entries"),
// so this points an error at the line that names the key.
std::uint64_t line_of(const std::string& text, const std::string& literal,
                      std::size_t from = 0) {
  const std::size_t hit = text.find("\"" + literal + "\"", from);
  if (hit == std::string::npos) return 0;
  return 1 + std::count(text.begin(), text.begin() + hit, '\n');
}

// Product of the axis sizes, refusing sweeps too large to index: a sweep of
// more than 2^32 points is a mistake, not a plan.
constexpr std::size_t kMaxPoints = std::size_t(1) << 32;

}  // namespace

Sweep::Sweep(const std::string& path) : m_path(path), m_base(default_config()) {
  m_text = read_text_file(path, "sweep file");
  m_dir = fs::path(path).parent_path().string();
  const Json j = parse_json_document(m_text, path, "a JSON object describing a sweep");
  auto fail = [&](std::uint64_t line, const std::string& what) -> void {
    throw InputError(m_path, line, what);
  };
  if (!j.is_object()) fail(1, "expected a JSON object with 'traces' and 'axes'");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"name", "config", "set", "traces", "axes"};
    if (std::find(std::begin(known), std::end(known), it.key()) == std::end(known))
      fail(line_of(m_text, it.key()),
           fmt::format("unknown field '{}' (expected name, config, set, traces, axes)",
                       it.key()));
  }

  if (j.contains("name")) {
    if (!j["name"].is_string()) fail(line_of(m_text, "name"), "'name' must be a string");
    m_name = j["name"].get<std::string>();
  }

  // The base configuration: defaults, then the file, then the fixed "set"
  // values. Checked now: an error here would fail every point.
  if (j.contains("config")) {
    if (!j["config"].is_string())
      fail(line_of(m_text, "config"), "'config' must be the name of a configuration file");
    const fs::path p(j["config"].get<std::string>());
    m_base.load_file((p.is_absolute() ? p : fs::path(m_dir) / p).lexically_normal().string());
  }
  if (j.contains("set")) {
    if (!j["set"].is_object())
      fail(line_of(m_text, "set"), "'set' must be an object of \"key\": value pairs");
    const std::size_t set_at = m_text.find("\"set\"");
    for (auto it = j["set"].begin(); it != j["set"].end(); ++it) {
      m_base.set(it.key(), *it, m_path, line_of(m_text, it.key(), set_at));
      m_sets.emplace_back(it.key(), *it);
    }
  }

  if (!j.contains("traces") || !j["traces"].is_array() || j["traces"].empty())
    fail(line_of(m_text, "traces"), "'traces' must be a non-empty list of trace files");
  for (const auto& t : j["traces"]) {
    if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>() == "-")
      fail(line_of(m_text, "traces"), "each trace must be a file name (stdin cannot be swept)");
    m_traces.push_back(t.get<std::string>());
  }

  // Axes: {"key": K, "values": [...]} or {"zip": [{"key": ..., "values": ...}, ...]}.
  const Json axes = j.value("axes", Json::array());
  if (!axes.is_array()) fail(line_of(m_text, "axes"), "'axes' must be a list");
  std::size_t search_from = m_text.find("\"axes\"");
  auto parse_key = [&](const Json& a) {
    if (!a.is_object() || !a.contains("key") || !a["key"].is_string() || !a.contains("values"))
      fail(line_of(m_text, "axes"),
           "each axis must be {\"key\": KEY, \"values\": [...]} or {\"zip\": [axes...]}");
    SweepKey k;
    k.key = a["key"].get<std::string>();
    // Axes are named in file order: search after the previous one, so a key
    // named twice gets the line of its second mention.
    k.line = line_of(m_text, k.key, search_from);
    const std::size_t at = m_text.find("\"" + k.key + "\"", search_from);
    if (at != std::string::npos) search_from = at + 1;
    if (!a["values"].is_array() || a["values"].empty())
      fail(k.line, fmt::format("axis '{}': 'values' must be a non-empty list", k.key));
    for (auto it = a.begin(); it != a.end(); ++it)
      if (it.key() != "key" && it.key() != "values")
        fail(k.line, fmt::format("axis '{}': unknown field '{}'", k.key, it.key()));
    // The key must exist; its values are checked per point, so one bad value
    // fails only the points that use it.
    if (!is_config_key(config_schema(), k.key))
      fail(k.line, fmt::format("unknown key '{}' (did you mean '{}'?)", k.key,
                               closest_key(config_schema(), k.key)));
    for (const auto& [swept, v] : m_sets)
      if (swept == k.key)
        fail(k.line, fmt::format("'{}' is both in 'set' and an axis", k.key));
    for (const auto& other : m_axes)
      for (const auto& ok : other.keys)
        if (ok.key == k.key) fail(k.line, fmt::format("'{}' is swept twice", k.key));
    k.values.assign(a["values"].begin(), a["values"].end());
    return k;
  };
  for (const auto& a : axes) {
    SweepAxis axis;
    if (a.is_object() && a.contains("zip")) {
      if (a.size() != 1 || !a["zip"].is_array() || a["zip"].empty())
        fail(line_of(m_text, "zip"), "'zip' must be the only field, a non-empty list of axes");
      for (const auto& z : a["zip"]) {
        axis.keys.push_back(parse_key(z));
        if (axis.keys.back().values.size() != axis.keys.front().values.size())
          fail(axis.keys.back().line,
               fmt::format("zipped axis '{}' has {} values but '{}' has {}",
                           axis.keys.back().key, axis.keys.back().values.size(),
                           axis.keys.front().key, axis.keys.front().values.size()));
        // Keys zipped together must also be distinct from each other.
        for (std::size_t i = 0; i + 1 < axis.keys.size(); ++i)
          if (axis.keys[i].key == axis.keys.back().key)
            fail(axis.keys.back().line,
                 fmt::format("'{}' is swept twice", axis.keys.back().key));
      }
    } else {
      axis.keys.push_back(parse_key(a));
    }
    m_axes.push_back(std::move(axis));
  }
  std::size_t n = m_traces.size();
  for (const auto& a : m_axes) {
    if (n > kMaxPoints / a.size())
      fail(line_of(m_text, "axes"), "the sweep has more than 2^32 points");
    n *= a.size();
  }
}

std::size_t Sweep::size() const {
  std::size_t n = m_traces.size();
  for (const auto& a : m_axes) n *= a.size();
  return n;
}

std::vector<std::string> Sweep::keys() const {
  std::vector<std::string> out;
  for (const auto& a : m_axes)
    for (const auto& k : a.keys) out.push_back(k.key);
  return out;
}

SweepPoint Sweep::point(std::size_t index) const {
  if (index >= size())
    throw InputError(m_path, 0,
                     fmt::format("point {} does not exist: the sweep has {} points (0 to {})",
                                 index, size(), size() - 1));
  SweepPoint p;
  p.index = index;
  // Mixed-radix digits: the last axis varies fastest, the trace slowest.
  std::vector<std::size_t> digit(m_axes.size());
  std::size_t rest = index;
  for (std::size_t i = m_axes.size(); i-- > 0;) {
    digit[i] = rest % m_axes[i].size();
    rest /= m_axes[i].size();
  }
  p.trace = m_traces[rest];
  const fs::path tp(p.trace);
  p.trace_path = (tp.is_absolute() ? tp : fs::path(m_dir) / tp).lexically_normal().string();
  for (std::size_t i = 0; i < m_axes.size(); ++i)
    for (const auto& k : m_axes[i].keys) p.values.emplace_back(k.key, k.values[digit[i]]);

  try {
    Config cfg = m_base;  // the file and 'set', resolved once by the constructor
    std::size_t a = 0;
    for (std::size_t i = 0; i < m_axes.size(); ++i)
      for (const auto& k : m_axes[i].keys) cfg.set(k.key, p.values[a++].second, m_path, k.line);
    // A relation broken by this point's values names the first swept key
    // involved (e.g. an mmu.l2.entries value that is not a multiple of ways).
    std::uint64_t line = 0;
    if (const auto* broken = cfg.broken_relation())
      for (const auto& axis : m_axes)
        for (const auto& k : axis.keys)
          if (!line && (k.key == broken->first || k.key == broken->second)) line = k.line;
    cfg.check_relations(m_path, line);
    p.hash = fnv1a_hex(cfg.dump() + '\0' + p.trace);
    p.config = std::move(cfg);
  } catch (const InputError& e) {
    p.error = e.what();
  }
  return p;
}

std::string Sweep::fingerprint() const {
  return fnv1a_hex(m_text + '\0' + m_base.dump());
}

Json point_record(const SweepPoint& p) {
  Json values = Json::object();
  for (const auto& [k, v] : p.values) values[k] = v;
  Json r = {{"point", p.index}, {"trace", p.trace}, {"values", values}};
  if (p.error.empty())
    r["hash"] = p.hash;
  else
    r["error"] = p.error;
  return r;
}

}  // namespace rmpsim
