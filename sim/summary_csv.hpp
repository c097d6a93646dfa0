#pragma once
// The CSV shape shared by `sweep merge` and `compare --csv` (docs/analysis.md):
// one row per point or column, one column per summary key, every cell a plain
// number, true/false, a word or empty, so that pandas.read_csv (or any CSV
// reader) gets typed columns without help. Units are in the summary keys'
// names (cycles, host_seconds, ...).
#include <string>

#include <nlohmann/json.hpp>

namespace rmpsim {

// One cell: a string as it is, null as empty, anything else as JSON (numbers,
// true/false); quoted (RFC 4180) when it holds a comma, quote or newline.
std::string csv_field(const nlohmann::ordered_json& v);

// A summary as flat (column, value) pairs: nested objects such as
// conversion_latency_cycles become conversion_latency_cycles.p50, ... so
// every CSV cell is a number or a word. Keeps the summary's order.
nlohmann::ordered_json flat_summary(const nlohmann::ordered_json& summary);

}  // namespace rmpsim
