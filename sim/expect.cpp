#include "sim/expect.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "traces/input_error.hpp"

namespace rmpsim {

namespace {
bool is_host_key(const std::string& k) { return k.rfind("host_", 0) == 0 || k == "accesses_per_host_second"; }

void compare(const std::string& key, const Json& want, const Json& got, const Json& tolerances,
             std::string& diff) {
  if (want.is_object()) {
    if (!got.is_object()) {
      diff += fmt::format("  {}: expected an object, got {}\n", key, got.dump());
      return;
    }
    for (auto it = want.begin(); it != want.end(); ++it)
      compare(key + "." + it.key(), *it, got.contains(it.key()) ? got[it.key()] : Json(),
              tolerances, diff);
    return;
  }
  if (want.is_number() && got.is_number()) {
    const double w = want.get<double>(), g = got.get<double>();
    double allowed = 0;
    if (tolerances.contains(key)) {
      const Json& t = tolerances[key];
      if (t.contains("abs")) allowed = std::max(allowed, t["abs"].get<double>());
      if (t.contains("rel")) allowed = std::max(allowed, t["rel"].get<double>() * std::fabs(w));
    }
    if (std::fabs(g - w) > allowed) {
      const std::string rel = w != 0 ? fmt::format(" ({:+.2f}%)", 100.0 * (g - w) / w) : "";
      diff += fmt::format("  {}: expected {}, got {}{}{}\n", key, want.dump(), got.dump(), rel,
                          allowed > 0 ? fmt::format(", allowed +-{}", allowed) : "");
    }
    return;
  }
  if (want != got) diff += fmt::format("  {}: expected {}, got {}\n", key, want.dump(), got.dump());
}
// "tolerances": {"KEY": {"abs": N, "rel": N}, ...} with non-negative
// numbers; anything else is bad input (exit 2), not an internal error when a
// value is compared (issue 14, item 14). The line is that of the key in the
// "tolerances" object.
void check_tolerances(const Json& tolerances, const std::string& text, const std::string& file) {
  const auto line_of = [&](const std::string& key) -> std::uint64_t {
    const std::size_t start = text.find("\"tolerances\"");
    if (start == std::string::npos) return 0;
    const std::size_t at = text.find("\"" + key + "\"", start);
    return at == std::string::npos ? 0 : 1 + std::count(text.begin(), text.begin() + at, '\n');
  };
  if (!tolerances.is_object())
    throw InputError(file, line_of("tolerances"),
                     "expected \"tolerances\": an object of KEY: {\"abs\": N, \"rel\": N}");
  for (auto it = tolerances.begin(); it != tolerances.end(); ++it) {
    bool ok = it->is_object() && !it->empty();
    if (ok)
      for (auto t = it->begin(); t != it->end(); ++t)
        ok = ok && (t.key() == "abs" || t.key() == "rel") && t->is_number() &&
             t->get<double>() >= 0;
    if (!ok)
      throw InputError(file, line_of(it.key()),
                       fmt::format("tolerance of '{}': expected {{\"abs\": N}} and/or "
                                   "{{\"rel\": N}} with non-negative numbers, got {}",
                                   it.key(), it->dump()));
  }
}
}  // namespace

std::string compare_with_expected(const Json& summary, const std::string& expected_file) {
  std::ifstream in(expected_file);
  if (!in) throw InputError(expected_file, 0, "cannot open the expected-summary file");
  std::stringstream ss;
  ss << in.rdbuf();
  Json exp = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (exp.is_discarded() || !exp.is_object() || !exp.contains("summary") ||
      !exp["summary"].is_object())
    throw InputError(expected_file, 0,
                     "expected a JSON object with a \"summary\" object (and optional "
                     "\"tolerances\")");
  const Json tolerances = exp.contains("tolerances") ? exp["tolerances"] : Json::object();
  check_tolerances(tolerances, ss.str(), expected_file);
  std::string diff;
  for (auto it = exp["summary"].begin(); it != exp["summary"].end(); ++it) {
    if (is_host_key(it.key())) continue;
    if (!summary.contains(it.key())) {
      diff += fmt::format("  {}: expected {}, but the summary has no such key\n", it.key(),
                          it->dump());
      continue;
    }
    compare(it.key(), *it, summary[it.key()], tolerances, diff);
  }
  return diff.empty() ? "" : fmt::format("{}: the summary differs:\n{}", expected_file, diff);
}

}  // namespace rmpsim
