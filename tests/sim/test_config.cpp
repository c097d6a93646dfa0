#include <catch2/catch.hpp>

#include "models/config_schema.hpp"
#include "models/common/config.hpp"
#include "support/cli_runner.hpp"
#include "traces/input_error.hpp"

using rmpsim::Config;
using rmpsim::InputError;
using rmpsim::test::TempDir;

namespace {
// Runs f and returns the InputError message it throws ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("config defaults are the documented ones", "[config]") {
  Config c = rmpsim::default_config();
  CHECK(c.get_int("cpu.count") == 1);
  CHECK(c.get_float("cpu.freq_ghz") == Approx(2.7));  // EPYC 9334 base clock, spec §5
  CHECK(c.get_int("sim.quantum_ns") >= 1000);          // ARCHITECTURE.md: quantum >= 1 us
}

TEST_CASE("config file: nested objects and dotted names both override", "[config]") {
  TempDir tmp;
  rmpsim::test::spit(tmp.file("c.json"), R"({"cpu": {"count": 4}, "cpu.freq_ghz": 3.5})");
  Config c = rmpsim::default_config();
  c.load_file(tmp.file("c.json"));
  CHECK(c.get_int("cpu.count") == 4);
  CHECK(c.get_float("cpu.freq_ghz") == Approx(3.5));
}

TEST_CASE("config file: unknown key names the line and the closest key", "[config]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  rmpsim::test::spit(f, "{\n  \"cpu\": {\n    \"cont\": 4\n  }\n}\n");
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file(f); }) ==
        f + ":3: error: unknown key 'cpu.cont' (did you mean 'cpu.count'?)");
}

// fuzz/regressions/config/dotted-key-out-of-range: a bad value under a
// dotted name had no line ("c.json: error: ..."): the locator searched the
// text for one component per quoted name.
TEST_CASE("config file: a bad key or value under a dotted or escaped name names its line",
          "[config][fuzz]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  Config c = rmpsim::default_config();
  auto error_for = [&](const std::string& text) {
    rmpsim::test::spit(f, text);
    return error_of([&] { c.load_file(f); });
  };
  CHECK(error_for("{\n  \"cpu.freq_ghz\": 3,\n  \"cpu.count\": 0\n}\n") ==
        f + ":3: error: value 0 is out of range [1, 256] for key 'cpu.count': expected integer");
  // Partly dotted, and with the name spelled with a JSON escape.
  CHECK(error_for("{\"mmu\": {\n \"l1d.entries\": 4,\n \"l1d.ways\": -1}}\n")
            .rfind(f + ":3: error: value -1 is out of range", 0) == 0);
  CHECK(error_for("{\n\"cp\\u0075\": {\"count\": 0}}").rfind(f + ":2: error: value 0", 0) == 0);
  // A name that only starts like a valid key is its own line.
  CHECK(error_for("{\"cpu\": {\"count\": 2},\n\"cpu.countx\": 1}")
            .rfind(f + ":2: error: unknown key 'cpu.countx'", 0) == 0);
}

// A file nested 100000 objects deep overflowed the stack in the loader
// (beyond the config fuzz target's 8 KiB inputs; found checking what they
// leave out). Objects below a name no key starts with are not descended.
TEST_CASE("config file: deep nesting is refused before parsing, an unknown name is one key",
          "[config][fuzz]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  // 100,000 levels overflowed the stack when the value was copied (ASan
  // build); documents nested deeper than kMaxJsonDepth are bad input.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":\n";
  deep += "1" + std::string(100000, '}');
  rmpsim::test::spit(f, deep);
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file(f); }) ==
        f + ":65: error: invalid JSON: nested deeper than 64 levels (expected a JSON object of "
            "configuration keys)");
  // At the limit it parses, and the unknown name is reported once.
  std::string ok;
  for (int i = 0; i < 64; ++i) ok += "{\"a\":";
  ok += "1" + std::string(64, '}');
  rmpsim::test::spit(f, ok);
  CHECK(error_of([&] { c.load_file(f); }).rfind(f + ":1: error: unknown key 'a' (did you mean", 0) ==
        0);
  // Brackets inside strings do not count.
  rmpsim::test::spit(f, "{\"cpu.count\": 2, \"x\": \"" + std::string(100, '[') + "\\\"{\"}");
  CHECK(error_of([&] { c.load_file(f); }).rfind(f + ":1: error: unknown key 'x'", 0) == 0);
  rmpsim::test::spit(f, "{\"cpu\": {\"count\": 2,\n \"cont\": {\"x\": {\"y\": 1}}}}");
  CHECK(error_of([&] { c.load_file(f); }) ==
        f + ":2: error: unknown key 'cpu.cont' (did you mean 'cpu.count'?)");
}

TEST_CASE("config file: invalid JSON names the line", "[config]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  rmpsim::test::spit(f, "{\n  \"cpu.count\": 4,\n  oops\n}\n");
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file(f); }).rfind(f + ":3: error: invalid JSON", 0) == 0);
}

// fuzz/regressions/config/number-overflow: nlohmann throws a number too
// large for a double as out_of_range, not parse_error; it escaped the loader
// as an internal error (exit status 1).
TEST_CASE("config file: a number out of range is invalid JSON on its line", "[config][fuzz]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  rmpsim::test::spit(f, "{\n  \"cpu.count\": 2,\n  \"cpu.freq_ghz\": 1e400\n}\n");
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file(f); }) ==
        f + ":3: error: invalid JSON (expected a JSON object of configuration keys)");
}

// fuzz/regressions/config/nul-ends-document: nlohmann's lexer ends the
// input at a NUL byte; the key-line scanner read on past it, beyond the end
// of the text (found under ASan before it was ever committed).
TEST_CASE("config file: a NUL byte ends the document", "[config][fuzz]") {
  TempDir tmp;
  const std::string f = tmp.file("c.json");
  const char doc[] = "{\"cpu.count\": 2}\0{\n\"guest\"\n\"gu";
  rmpsim::test::spit(f, std::string(doc, sizeof doc - 1));
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file(f); }).empty());
  CHECK(c.get_int("cpu.count") == 2);
}

TEST_CASE("config file: missing file is an input error", "[config]") {
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.load_file("/nonexistent/c.json"); }) ==
        "/nonexistent/c.json: error: cannot open configuration file");
}

TEST_CASE("set overrides parse by type and reject bad values", "[config]") {
  Config c = rmpsim::default_config();
  c.apply_set("cpu.count=8");
  CHECK(c.get_int("cpu.count") == 8);
  CHECK(error_of([&] { c.apply_set("cpu.count=0"); }) ==
        "--set cpu.count=0: error: value 0 is out of range [1, 256] for key 'cpu.count': "
        "expected integer");
  CHECK(error_of([&] { c.apply_set("cpu.count=two"); }) ==
        "--set cpu.count=two: error: cannot parse 'two' for key 'cpu.count': expected integer");
  CHECK(error_of([&] { c.apply_set("cpu.freq=3"); }) ==
        "--set cpu.freq=3: error: unknown key 'cpu.freq' (did you mean 'cpu.freq_ghz'?)");
  CHECK(error_of([&] { c.apply_set("cpu.count"); }).find("expected KEY=VALUE") !=
        std::string::npos);
  CHECK(c.get_int("cpu.count") == 8);  // failed sets leave the value alone
}

// fuzz/regressions/config/set-enum-invalid-utf8: a --set value is raw
// command-line bytes; showing one that is not UTF-8 in the message made
// nlohmann throw its type_error (exit status 1) instead of the InputError.
TEST_CASE("set override with bytes that are not UTF-8 is an input error", "[config][fuzz]") {
  Config c = rmpsim::default_config();
  const std::string set = "hypervisor.policy=auto-co\xb3nvert";
  // The invalid byte is shown as U+FFFD (EF BF BD).
  CHECK(error_of([&] { c.apply_set(set); }) ==
        "--set " + set + ": error: value \"auto-co\xef\xbf\xbdnvert\" is not allowed for key "
        "'hypervisor.policy': expected one of exit-to-userspace, auto-convert, terminate");
  CHECK(c.get_string("hypervisor.policy") == "exit-to-userspace");
}

TEST_CASE("config hash changes with any value and not otherwise", "[config]") {
  Config a = rmpsim::default_config(), b = rmpsim::default_config();
  CHECK(a.hash() == b.hash());
  b.apply_set("cpu.count=2");
  CHECK(a.hash() != b.hash());
}

TEST_CASE("docs/config.md is the generated reference", "[config][docs]") {
  // Keeps the documentation of every key from drifting: regenerate with
  // `rmpsim config doc > docs/config.md`.
  CHECK(rmpsim::test::slurp(RMPSIM_SOURCE_DIR "/docs/config.md") == rmpsim::default_config().reference_markdown());
}

// Found by fuzzing (helper's report): std::stoull skipped leading spaces and
// wrapped "-1" to 2^64-1, so both were accepted as addresses.
TEST_CASE("guest.shared_ranges: addresses are plain decimal or hex numbers", "[config][fuzz]") {
  Config c = rmpsim::default_config();
  c.apply_set(R"(guest.shared_ranges=[["0x1000", "8192"], [16384, 20480]])");
  CHECK(c.get("guest.shared_ranges") == rmpsim::Json::parse("[[4096, 8192], [16384, 20480]]"));
  for (const char* bad : {R"([["0x1000", "-1"]])", R"([[" 4096", "8192"]])",
                          R"([["+4096", "8192"]])", R"([["4096", ""]])"}) {
    INFO(bad);
    CHECK(error_of([&] { c.apply_set(std::string("guest.shared_ranges=") + bad); })
              .find("is not a list of [start, end) pairs with start < end") != std::string::npos);
  }
}

// Issue 17 item 1: the cache hierarchy replaced the page-table line cache
// and the flat data-access cost; their keys name what replaced them.
TEST_CASE("removed keys name their replacement", "[config][hierarchy]") {
  Config c = rmpsim::default_config();
  CHECK(error_of([&] { c.apply_set("memory.ptcache.lines=1024"); }) ==
        "--set memory.ptcache.lines=1024: error: unknown key 'memory.ptcache.lines' (did you "
        "mean 'memory.l2.lines'?)");
  CHECK(error_of([&] { c.apply_set("memory.ptcache.hit_cycles=3"); }) ==
        "--set memory.ptcache.hit_cycles=3: error: unknown key 'memory.ptcache.hit_cycles' (did "
        "you mean 'memory.l2.hit_cycles'?)");
  CHECK(error_of([&] { c.apply_set("cpu.access_cycles=4"); }) ==
        "--set cpu.access_cycles=4: error: unknown key 'cpu.access_cycles' (did you mean "
        "'memory.l1d.hit_cycles'?)");
}
