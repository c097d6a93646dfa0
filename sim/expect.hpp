#pragma once
// The regression oracle: compares a run's summary with an expected-summary
// file (OUTPUTS.md: `--expect FILE`, exit status 3 on a difference).
//
// The file is {"summary": {...}, "tolerances": {"key": {"rel": 0.01} | {"abs": 5}}}.
// Every key present in "summary" is compared, exactly unless a tolerance
// names it; nested objects (conversion_latency_cycles) compare field by
// field. Host timing keys are never compared.
#include <string>

#include "sim/stats.hpp"

namespace rmpsim {

// "" when the summary matches; else a readable diff, one line per key.
// Throws InputError for an unreadable or malformed expected file.
std::string compare_with_expected(const Json& summary, const std::string& expected_file);

}  // namespace rmpsim
