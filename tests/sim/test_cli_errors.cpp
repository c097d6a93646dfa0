// Bad input through the CLI: "file:line: error: ...", exit status 2, and no
// output files left behind (OUTPUTS.md "Exit status").
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "support/cli_runner.hpp"

using rmpsim::test::run_cli;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
namespace fs = std::filesystem;

namespace {
const std::string kMagic = "#!rmpsim-trace v1\n";

// Files in `dir` (none expected after a failed run but what the test made).
std::size_t files_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  return n;
}

void expect_bad_run(const std::string& trace_text, const std::string& extra,
                    const std::string& expected_prefix_after_path, int line) {
  TempDir tmp;
  const std::string t = tmp.file("t.rmpt");
  spit(t, trace_text);
  auto r = run_cli("run " + t + " " + extra + " --out " + tmp.file("out"), tmp);
  INFO(r.err);
  CHECK(r.status == 2);
  const std::string where = line ? t + ":" + std::to_string(line) + ": error: " : t + ": error: ";
  CHECK(r.err.rfind(where + expected_prefix_after_path, 0) == 0);
  CHECK(!fs::exists(tmp.file("out/stats.json")));
  CHECK(files_in(tmp.file("out")) == 0);
  // The output directory rmpsim created for the run is gone again.
  CHECK(!fs::exists(tmp.file("out")));
}
}  // namespace

TEST_CASE("run: unknown op stops the run with file:line, status 2, no output", "[cli][errors]") {
  expect_bad_run(kMagic + "0 R 0x1000\n0 RD 0x2000\n", "", "unknown op 'RD'", 3);
}

TEST_CASE("run: bad number stops the run", "[cli][errors]") {
  expect_bad_run(kMagic + "0 R 0x10zz\n", "", "", 2);
}

TEST_CASE("run: missing operand stops the run", "[cli][errors]") {
  expect_bad_run(kMagic + "0 W\n", "", "", 2);
}

TEST_CASE("run: a vCPU beyond cpu.count is an error at its line", "[cli][errors]") {
  expect_bad_run(kMagic + "0 R 0x1000\n\n2 R 0x2000\n", "--set cpu.count=2",
                 "event for vCPU 2 but cpu.count is 2", 4);
}

TEST_CASE("run: wrong magic line", "[cli][errors]") {
  expect_bad_run("#!something-else\n0 R 0x1000\n", "", "", 1);
}

TEST_CASE("run: a bad line keeps an output directory that existed before, untouched",
          "[cli][errors]") {
  TempDir tmp;
  const std::string t = tmp.file("t.rmpt");
  spit(t, kMagic + "0 R 0x1000\n0 R 0xZZ\n");
  fs::create_directories(tmp.file("out"));
  spit(tmp.file("out/notes.txt"), "mine\n");
  auto r = run_cli("run " + t + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(t + ":3: error: ", 0) == 0);
  CHECK(files_in(tmp.file("out")) == 1);
  CHECK(fs::exists(tmp.file("out/notes.txt")));
}

TEST_CASE("run: missing trace file", "[cli][errors]") {
  TempDir tmp;
  auto r = run_cli("run " + tmp.file("nope.rmpt") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("nope.rmpt") + ": error: ", 0) == 0);
  CHECK(!fs::exists(tmp.file("out/stats.json")));
}

TEST_CASE("run: unknown config key names the closest one", "[cli][errors]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kMagic + "0 R 0x1000\n");
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --set cpu.cont=2 --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err == "--set cpu.cont=2: error: unknown key 'cpu.cont' (did you mean 'cpu.count'?)\n");
  CHECK(!fs::exists(tmp.file("out")));
}

TEST_CASE("run: an unusable output directory fails before simulating", "[cli][errors]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kMagic + "0 R 0x1000\n");
  spit(tmp.file("out"), "a file where the directory should be");
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("out") + ": error: ", 0) == 0);
}

TEST_CASE("run: truncated binary trace and corrupt zstd are input errors", "[cli][errors]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kMagic + "0 R 0x1000\n0 W 0x2000\n");
  REQUIRE(run_cli("trace convert " + tmp.file("t.rmpt") + " " + tmp.file("t.rmpb"), tmp).status ==
          0);
  auto bytes = rmpsim::test::slurp(tmp.file("t.rmpb"));
  spit(tmp.file("cut.rmpb"), bytes.substr(0, bytes.size() - 3));
  auto r = run_cli("run " + tmp.file("cut.rmpb") + " --out " + tmp.file("o1"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("cut.rmpb") + ":", 0) == 0);
  CHECK(!fs::exists(tmp.file("o1/stats.json")));

  spit(tmp.file("bad.rmpt.zst"), std::string("\x28\xb5\x2f\xfd", 4) + "garbage-not-zstd");
  r = run_cli("run " + tmp.file("bad.rmpt.zst") + " --out " + tmp.file("o2"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("bad.rmpt.zst") + ":", 0) == 0);
  CHECK(!fs::exists(tmp.file("o2/stats.json")));
}

TEST_CASE("unknown option and unknown subcommand exit 2", "[cli][errors]") {
  TempDir tmp;
  CHECK(run_cli("run --bogus x", tmp).status == 2);
  CHECK(run_cli("frobnicate", tmp).status == 2);
}

TEST_CASE("trace gen refuses negative counts instead of wrapping them to 2^64-1",
          "[cli][errors][reliability]") {
  // Issue 14, item 12: `--accesses -1` started writing 2^64-1 records.
  TempDir tmp;
  for (const std::string opt : {"--accesses -1", "--seed -1", "--vcpus -2", "--footprint -4096",
                                "--hot-pages -8"}) {
    INFO(opt);
    auto r = run_cli("trace gen " + tmp.file("g.rmpt") + " --pattern hot " + opt, tmp);
    CHECK(r.status == 2);
    CHECK(r.err.find("-") != std::string::npos);
    CHECK(!fs::exists(tmp.file("g.rmpt")));
  }
  CHECK(run_cli("trace gen " + tmp.file("g.rmpt") + " --pattern hot --accesses 10 --seed 0", tmp)
            .status == 0);
}

TEST_CASE("compare works in a private temporary directory and removes it",
          "[cli][reliability]") {
  // Issue 14, item 8: the directory was $TMPDIR/rmpsim-compare-<pid>, a
  // name another user could plant a symlink at. Now mkdtemp makes it; a
  // planted rmpsim-compare-<anything> is left alone and nothing is left.
  TempDir tmp;
  const std::string tmpdir = tmp.file("tmpdir");
  fs::create_directories(tmpdir + "/rmpsim-compare-planted");
  const std::string t = tmp.file("t.rmpt");
  spit(t, kMagic + "0 W 0x1000 8\n0 R 0x2000 8\n");
  ::setenv("TMPDIR", tmpdir.c_str(), 1);
  auto r = run_cli("compare " + t, tmp);
  ::unsetenv("TMPDIR");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(files_in(tmpdir) == 1);  // only the planted directory
  CHECK(files_in(tmpdir + "/rmpsim-compare-planted") == 0);
}
