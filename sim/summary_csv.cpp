#include "sim/summary_csv.hpp"

namespace rmpsim {

std::string csv_field(const nlohmann::ordered_json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

nlohmann::ordered_json flat_summary(const nlohmann::ordered_json& summary) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();  // ordered: the columns keep the summary's order
  for (auto it = summary.begin(); it != summary.end(); ++it) {
    if (it->is_object())
      for (auto sub = it->begin(); sub != it->end(); ++sub) out[it.key() + "." + sub.key()] = *sub;
    else
      out[it.key()] = *it;
  }
  return out;
}

}  // namespace rmpsim
