// Sweep files (sim/sweep.*): expansion order, zipped axes, per-point
// configurations and hashes, and file:line errors. Expected points are
// written out by hand from the sweep text, not read off the expander.
#include <catch2/catch.hpp>

#include "sim/sweep.hpp"
#include "support/cli_runner.hpp"
#include "traces/input_error.hpp"

using rmpsim::InputError;
using rmpsim::Json;
using rmpsim::Sweep;
using rmpsim::test::spit;
using rmpsim::test::TempDir;

namespace {

std::string error_of(const std::string& path) {
  try {
    Sweep s(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// "key=value ..." of a point, for compact expectations.
std::string values_of(const rmpsim::SweepPoint& p) {
  std::string s;
  for (const auto& [k, v] : p.values) s += (s.empty() ? "" : " ") + k + "=" + v.dump();
  return s;
}

}  // namespace

TEST_CASE("sweep: traces outermost, the last axis varies fastest, zipped keys move together",
          "[sweep]") {
  TempDir tmp;
  spit(tmp.file("s.json"), R"({
  "traces": ["a.rmpt", "/abs/b.rmpt"],
  "axes": [
    {"key": "hypervisor.policy", "values": ["auto-convert", "terminate"]},
    {"zip": [{"key": "mmu.l2.entries", "values": [1536, 3072, 6144]},
             {"key": "walker.ntlb.entries", "values": [0, 16, 64]}]}
  ]
})");
  const Sweep s(tmp.file("s.json"));
  REQUIRE(s.size() == 2 * 2 * 3);
  CHECK(s.keys() == std::vector<std::string>{"hypervisor.policy", "mmu.l2.entries",
                                             "walker.ntlb.entries"});
  const auto p0 = s.point(0), p4 = s.point(4), p11 = s.point(11);
  CHECK(p0.trace == "a.rmpt");
  CHECK(p0.trace_path == tmp.file("a.rmpt"));  // relative to the sweep file
  CHECK(values_of(p0) ==
        R"(hypervisor.policy="auto-convert" mmu.l2.entries=1536 walker.ntlb.entries=0)");
  // 4 = trace 0, policy 1 ("terminate"), zip 1 (3072, 16)
  CHECK(values_of(p4) ==
        R"(hypervisor.policy="terminate" mmu.l2.entries=3072 walker.ntlb.entries=16)");
  // 11 = trace 1, policy 1, zip 2
  CHECK(p11.trace_path == "/abs/b.rmpt");
  CHECK(values_of(p11) ==
        R"(hypervisor.policy="terminate" mmu.l2.entries=6144 walker.ntlb.entries=64)");
  REQUIRE(p4.config);
  CHECK(p4.config->get_string("hypervisor.policy") == "terminate");
  CHECK(p4.config->get_int("mmu.l2.entries") == 3072);
  CHECK(p4.config->get_int("walker.ntlb.entries") == 16);
  CHECK_THROWS_AS(s.point(12), InputError);
}

TEST_CASE("sweep: base config file, then 'set', then the axis values", "[sweep]") {
  TempDir tmp;
  spit(tmp.file("base.json"), R"({"cpu": {"count": 2}, "mmu": {"l2": {"entries": 768}}})");
  spit(tmp.file("s.json"), R"({"config": "base.json", "set": {"cpu.count": 4},
  "traces": ["t.rmpt"], "axes": [{"key": "walker.pwc.entries", "values": [0, 32]}]})");
  const auto p = Sweep(tmp.file("s.json")).point(1);
  REQUIRE(p.config);
  CHECK(p.config->get_int("cpu.count") == 4);          // set beats the file
  CHECK(p.config->get_int("mmu.l2.entries") == 768);   // the file beats the default
  CHECK(p.config->get_int("walker.pwc.entries") == 32);
}

TEST_CASE("sweep: no axes means one point per trace", "[sweep]") {
  TempDir tmp;
  spit(tmp.file("s.json"), R"({"traces": ["x.rmpt", "y.rmpt", "z.rmpt"]})");
  const Sweep s(tmp.file("s.json"));
  CHECK(s.size() == 3);
  CHECK(s.point(2).trace == "z.rmpt");
  CHECK(s.point(2).values.empty());
}

TEST_CASE("sweep: a point's hash follows its configuration and trace only", "[sweep]") {
  TempDir tmp;
  spit(tmp.file("a.json"), R"({"traces": ["t.rmpt", "u.rmpt"],
    "axes": [{"key": "mmu.l2.entries", "values": [1536, 3072]}]})");
  // Same points written differently (a value given through 'set' instead).
  spit(tmp.file("b.json"), R"({"name": "other", "set": {"mmu.l2.entries": 3072},
    "traces": ["t.rmpt"]})");
  const Sweep a(tmp.file("a.json")), b(tmp.file("b.json"));
  CHECK(a.point(1).hash == b.point(0).hash);   // t.rmpt, 3072 in both
  CHECK(a.point(0).hash != a.point(1).hash);   // another value
  CHECK(a.point(1).hash != a.point(3).hash);   // another trace
  CHECK(a.point(1).hash.size() == 16);
}

TEST_CASE("sweep: a bad value fails only its points, with the line of its key", "[sweep]") {
  TempDir tmp;
  spit(tmp.file("s.json"), "{\"traces\": [\"t.rmpt\"],\n"
                           " \"axes\": [\n"
                           "  {\"key\": \"cpu.count\", \"values\": [1, 0]},\n"
                           "  {\"key\": \"mmu.l2.entries\", \"values\": [1536, 1000]}]}\n");
  const Sweep s(tmp.file("s.json"));
  CHECK(s.point(0).error.empty());
  CHECK(s.point(1).error == tmp.file("s.json") +
                                ":4: error: mmu.l2.entries (1000) must be a multiple of "
                                "mmu.l2.ways (12): a set-associative structure has "
                                "mmu.l2.entries / mmu.l2.ways sets; change either key");
  CHECK_FALSE(s.point(1).config);
  CHECK(s.point(2).error.rfind(tmp.file("s.json") + ":3: error: value 0 is out of range", 0) ==
        0);
  const Json rec = rmpsim::point_record(s.point(1));
  CHECK(rec["point"] == 1);
  CHECK(rec.contains("error"));
  CHECK_FALSE(rec.contains("hash"));
}

TEST_CASE("sweep: malformed files are errors with file:line", "[sweep]") {
  TempDir tmp;
  const std::string f = tmp.file("s.json");
  auto check = [&](const std::string& text, const std::string& expected) {
    spit(f, text);
    CHECK(error_of(f) == f + expected);
  };
  check("{\"traces\": [\"t\"],\n \"axes\": [\n", ":3: error: invalid JSON (expected a JSON object "
                                                 "describing a sweep)");
  check("{\"traces\": [\"t\"],\n \"axis\": []}", ":2: error: unknown field 'axis' (expected name, "
                                                 "config, set, traces, axes)");
  check("{\"traces\": []}", ":1: error: 'traces' must be a non-empty list of trace files");
  check("{\"traces\": [\"-\"]}",
        ":1: error: each trace must be a file name (stdin cannot be swept)");
  check("{\"traces\": [\"t\"],\n \"axes\": [{\"key\": \"mmu.l2.entrys\", \"values\": [1]}]}",
        ":2: error: unknown key 'mmu.l2.entrys' (did you mean 'mmu.l2.entries'?)");
  check("{\"traces\": [\"t\"],\n \"axes\": [{\"key\": \"cpu.count\", \"values\": []}]}",
        ":2: error: axis 'cpu.count': 'values' must be a non-empty list");
  check("{\"traces\": [\"t\"], \"axes\": [{\"zip\": [\n"
        "  {\"key\": \"cpu.count\", \"values\": [1, 2]},\n"
        "  {\"key\": \"mmu.l2.entries\", \"values\": [1536]}]}]}",
        ":3: error: zipped axis 'mmu.l2.entries' has 1 values but 'cpu.count' has 2");
  check("{\"traces\": [\"t\"], \"set\": {\"cpu.count\": 2},\n"
        " \"axes\": [{\"key\": \"cpu.count\", \"values\": [1, 2]}]}",
        ":2: error: 'cpu.count' is both in 'set' and an axis");
  check("{\"traces\": [\"t\"], \"axes\": [\n"
        " {\"key\": \"cpu.count\", \"values\": [1]},\n"
        " {\"key\": \"cpu.count\", \"values\": [2]}]}",
        ":3: error: 'cpu.count' is swept twice");
  check("{\"traces\": [\"t\"], \"set\": {\n \"cpu.count\": \"four\"}}",
        ":2: error: value \"four\" is not an integer for key 'cpu.count': expected integer");
  CHECK(error_of(tmp.file("absent.json")) ==
        tmp.file("absent.json") + ": error: cannot open sweep file");
}

TEST_CASE("sweep: more than 2^32 points is refused", "[sweep]") {
  TempDir tmp;
  std::string values = "[";
  for (int i = 1; i <= 300; ++i) values += (i > 1 ? "," : "") + std::to_string(i);
  values += "]";
  std::string axes;
  for (const char* k : {"walker.pwc.entries", "walker.ntlb.entries", "memory.l2.lines",
                        "mmu.l2.entries"})
    axes += std::string(axes.empty() ? "" : ",") + "{\"key\": \"" + k + "\", \"values\": " +
            values + "}";
  spit(tmp.file("s.json"), "{\"traces\": [\"t\"], \"axes\": [" + axes + "]}");
  CHECK(error_of(tmp.file("s.json")) ==
        tmp.file("s.json") + ":1: error: the sweep has more than 2^32 points");
}

namespace {

// A bundled trace that runs in milliseconds.
std::string small_trace() {
  return std::string(RMPSIM_SOURCE_DIR) + "/traces/scenarios/host-write-private/trace.rmpt";
}

// TMP/s.json: `trace` under cpu.count 1 and `second`; returns its path.
std::string two_point_sweep(const TempDir& tmp, const std::string& trace, int second) {
  spit(tmp.file("s.json"), "{\"traces\": [\"" + trace + "\"],\n \"axes\": [{\"key\": " +
                               "\"cpu.count\", \"values\": [1, " + std::to_string(second) +
                               "]}]}\n");
  return tmp.file("s.json");
}

}  // namespace

TEST_CASE("sweep CLI: misuse is bad input (exit 2) and says what to do", "[sweep][cli]") {
  TempDir tmp;
  const std::string trace = small_trace(), s = two_point_sweep(tmp, trace, 2),
                    out = tmp.file("out");
  auto r = rmpsim::test::run_cli("run --sweep " + s + " --out " + out, tmp);
  CHECK(r.status == 2);
  CHECK(r.err == "rmpsim run --sweep: error: --sweep needs --point K\n");
  r = rmpsim::test::run_cli("run " + trace + " --sweep " + s + " --point 0", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("give either a trace or --sweep") != std::string::npos);
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 0 --set cpu.count=2", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("--config and --set are not used with --sweep") != std::string::npos);
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 2 --out " + out, tmp);
  CHECK(r.status == 2);
  CHECK(r.err == s + ": error: point 2 does not exist: the sweep has 2 points (0 to 1)\n");
  r = rmpsim::test::run_cli("run", tmp);
  CHECK(r.status == 2);
  CHECK(r.err == "rmpsim run: error: a trace file (or --sweep) is required\n");
  r = rmpsim::test::run_cli("sweep merge " + tmp.file("nowhere"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err == tmp.file("nowhere") +
                     "/sweep.json: error: not a sweep directory: no sweep.json (run a point "
                     "first)\n");
}

TEST_CASE("sweep CLI: run, skip when finished, merge", "[sweep][cli]") {
  TempDir tmp;
  const std::string trace = small_trace(), s = two_point_sweep(tmp, trace, 2),
                    out = tmp.file("out");
  auto r = rmpsim::test::run_cli("sweep expand " + s + " --count", tmp);
  CHECK(r.out == "2\n");
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 1 --out " + out + " --quiet", tmp);
  REQUIRE(r.status == 0);
  const std::string stats = rmpsim::test::slurp(out + "/1/stats.json");
  CHECK(rmpsim::test::slurp(out + "/1/config.json").find("\"count\": 2") != std::string::npos);
  // Point 0 never ran: the merge names it and exits 4.
  r = rmpsim::test::run_cli("sweep merge " + out, tmp);
  CHECK(r.status == 4);
  CHECK(r.err == "point 0: missing (not run, or interrupted)\n");
  CHECK(rmpsim::test::slurp(out + "/results.csv").find("\n0," + trace + ",1,missing,") !=
        std::string::npos);
  // Finished points are skipped; a changed value makes the point run again.
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 1 --out " + out, tmp);
  CHECK(r.status == 0);
  CHECK(r.out.find("point 1: finished earlier") == 0);
  two_point_sweep(tmp, trace, 3);
  r = rmpsim::test::run_cli("sweep merge " + out, tmp);
  CHECK(r.status == 4);
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 1 --out " + out + " --quiet", tmp);
  CHECK(r.status == 0);
  CHECK(rmpsim::test::slurp(out + "/1/config.json").find("\"count\": 3") != std::string::npos);
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 0 --out " + out + " --quiet", tmp);
  r = rmpsim::test::run_cli("sweep merge " + out, tmp);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

TEST_CASE("sweep CLI: a point run leaves a current sweep.json alone (issue 14 item 11)",
          "[sweep][cli]") {
  // Each point run used to expand every point and compare the whole list
  // with sweep.json (1.5 GB per point for 10^6 points); now only sweep.id,
  // the definition's fingerprint, is compared.
  TempDir tmp;
  const std::string trace = small_trace(), s = two_point_sweep(tmp, trace, 2),
                    out = tmp.file("out");
  auto r = rmpsim::test::run_cli("run --sweep " + s + " --point 0 --out " + out + " --quiet", tmp);
  REQUIRE(r.status == 0);
  const std::string index = rmpsim::test::slurp(out + "/sweep.json");
  // Written record by record, the text is still what dump(2) of the index gives.
  const Json j = Json::parse(index);
  CHECK(j.dump(2) + "\n" == index);
  CHECK(j["points"] == 2);
  REQUIRE(j["list"].size() == 2);
  CHECK(j["list"][1]["values"]["cpu.count"] == 2);
  CHECK(!rmpsim::test::slurp(out + "/sweep.id").empty());
  // The definition is unchanged: the next point does not rewrite the list.
  spit(out + "/sweep.json", index + " ");
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 1 --out " + out + " --quiet", tmp);
  REQUIRE(r.status == 0);
  CHECK(rmpsim::test::slurp(out + "/sweep.json") == index + " ");
  // A changed definition rewrites it.
  two_point_sweep(tmp, trace, 3);
  r = rmpsim::test::run_cli("run --sweep " + s + " --point 1 --out " + out + " --quiet", tmp);
  REQUIRE(r.status == 0);
  CHECK(Json::parse(rmpsim::test::slurp(out + "/sweep.json"))["list"][1]["values"]["cpu.count"] ==
        3);
  r = rmpsim::test::run_cli("sweep merge " + out, tmp);
  CHECK(r.status == 0);  // point 0 (cpu.count 1) is the same under both definitions
  CHECK(r.err.empty());
}
