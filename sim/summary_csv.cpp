#include "sim/summary_csv.hpp"

#include "sim/report.hpp"

namespace rmpsim {

std::string csv_field(const nlohmann::ordered_json& v) {
  return csv_cell(v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump());
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
