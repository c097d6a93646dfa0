#include "sim/expect.hpp"

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
