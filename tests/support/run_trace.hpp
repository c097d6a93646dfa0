#pragma once
// End-to-end helper: write a trace, `rmpsim run` it with options, require
// success and return stats.json.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/cli_runner.hpp"

namespace rmpsim::test {

// The first line of every text trace.
inline const std::string kMagic = "#!rmpsim-trace v1\n";

inline nlohmann::json run_ok(const TempDir& tmp, const std::string& trace,
                                   const std::string& opts = "") {
  spit(tmp.file("t.rmpt"), trace);
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --quiet " + opts + " --out " + tmp.file("out"),
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(slurp(tmp.file("out/stats.json")));
}

}  // namespace rmpsim::test
