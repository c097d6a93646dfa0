// Issue 16 (what a new user trips over), items 4-9: compare's columns, its
// --out and standard input, hex shared ranges, errors that name what the
// user set, cpu.count hints and trace stat's address regions. Each test
// runs the binary as a user does.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "support/cli_runner.hpp"

using rmpsim::test::run_cli;
using rmpsim::test::slurp;
using rmpsim::test::spit;
using rmpsim::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
// One shared write under a private attribute: a conversion under every
// policy but terminate.
const char* kShared =
    "#!rmpsim-trace v1\n0 MAP 0x700000 0x98000000 0x1000 shared\n0 W 0x700000\n";

// compare --csv is one row per column (docs/analysis.md): the first cell of
// each row after the header is the column's label.
std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) {
    rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) rows.back().push_back(cell);
  }
  return rows;
}
std::string columns(const std::string& csv) {
  std::string out;
  const auto rows = csv_rows(csv);
  for (std::size_t i = 1; i < rows.size(); ++i) out += (i > 1 ? "," : "") + rows[i].at(0);
  return out;
}
// One summary key of every column, in column order.
std::string column_values(const std::string& csv, const std::string& key) {
  const auto rows = csv_rows(csv);
  const auto& head = rows.at(0);
  const std::size_t k = std::find(head.begin(), head.end(), key) - head.begin();
  std::string out;
  for (std::size_t i = 1; i < rows.size(); ++i) out += (i > 1 ? "," : "") + rows[i].at(k);
  return out;
}
}  // namespace

TEST_CASE("item 4: compare keeps the base columns and crosses variants with policies",
          "[cli][compare][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kShared);
  const std::string cmp = "compare " + tmp.file("t.rmpt") + " --csv";
  // One policy: base column, then one column per variant, named LABEL.
  auto r = run_cli(cmp + " --policies auto-convert --variant slow:hypervisor.exit_roundtrip_ns=9000",
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(columns(r.out) == "auto-convert,slow");
  // Two policies: every variant under each, LABEL/POLICY.
  r = run_cli(cmp + " --policies auto-convert,terminate --variant slow:hypervisor.exit_roundtrip_ns=9000",
              tmp);
  REQUIRE(r.status == 0);
  CHECK(columns(r.out) == "auto-convert,terminate,slow/auto-convert,slow/terminate");
  // A variant that names its policy is one column, not crossed.
  r = run_cli(cmp + " --policies auto-convert,terminate --variant kvm:hypervisor.policy=exit-to-userspace",
              tmp);
  REQUIRE(r.status == 0);
  CHECK(columns(r.out) == "auto-convert,terminate,kvm");
  CHECK(column_values(r.out, "userspace_exits") == "0,0,1");
  // Two columns with one label are refused.
  r = run_cli(cmp + " --policies auto-convert --variant auto-convert:cpu.count=2", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("expected a label no other column has") != std::string::npos);
}

TEST_CASE("item 4: a variant value may contain commas, and its errors name the --variant",
          "[cli][compare][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kShared);
  const std::string cmp = "compare " + tmp.file("t.rmpt") + " --csv --policies auto-convert";
  auto r = run_cli(cmp + " --variant 'x:guest.shared_ranges=[[4096,8192],[12288,16384]],cpu.count=2'",
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(columns(r.out) == "auto-convert,x");
  r = run_cli(cmp + " --variant 'x:mmu.l2.wayz=4'", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("--variant x:mmu.l2.wayz=4: error: unknown key 'mmu.l2.wayz'", 0) == 0);
  r = run_cli(cmp + " --variant 'x:mmu.l2.ways=7'", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("--variant x:mmu.l2.ways=7: error: mmu.l2.entries (3072) must be a multiple "
                    "of mmu.l2.ways (7)",
                    0) == 0);
}

TEST_CASE("item 4: compare --variant config=FILE and --out DIR", "[cli][compare][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kShared);
  spit(tmp.file("slow.json"), R"({"hypervisor": {"exit_roundtrip_ns": 9000}})");
  auto r = run_cli("compare " + tmp.file("t.rmpt") + " --json --policies auto-convert,terminate" +
                       " --variant slow:config=" + tmp.file("slow.json") + " --out " +
                       tmp.file("cmp"),
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Json j = Json::parse(r.out);
  for (const char* col : {"auto-convert", "terminate", "slow/auto-convert", "slow/terminate"}) {
    INFO(col);
    const std::string dir = tmp.file("cmp") + "/" + col;
    REQUIRE(fs::exists(dir + "/stats.json"));
    CHECK(fs::exists(dir + "/stats.txt"));
    const Json stats = Json::parse(slurp(dir + "/stats.json"));
    CHECK(stats["summary"]["cycles"] == j[col]["cycles"]);
    const Json cfg = Json::parse(slurp(dir + "/config.json"));
    CHECK(cfg["hypervisor"]["exit_roundtrip_ns"] ==
          (std::string(col).rfind("slow", 0) == 0 ? 9000.0 : 3860.0));
  }
  CHECK(j["slow/auto-convert"]["cycles"] > j["auto-convert"]["cycles"]);
  // A bad column leaves no --out directory behind.
  r = run_cli("compare " + tmp.file("t.rmpt") + " --policies auto-convert --variant 'x:cpu.count=0'" +
                  " --out " + tmp.file("none"),
              tmp);
  CHECK(r.status == 2);
  CHECK_FALSE(fs::exists(tmp.file("none")));
}

TEST_CASE("item 5: compare reads the trace from standard input", "[cli][compare][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kShared);
  const auto from_file = run_cli("compare " + tmp.file("t.rmpt") + " --json", tmp);
  REQUIRE(from_file.status == 0);
  const auto from_stdin = run_cli("compare - --json < " + tmp.file("t.rmpt"), tmp);
  INFO(from_stdin.err);
  REQUIRE(from_stdin.status == 0);
  // Host timings differ from run to run; everything simulated is the same.
  Json a = Json::parse(from_file.out), b = Json::parse(from_stdin.out);
  for (Json* j : {&a, &b})
    for (auto& [column, summary] : j->items()) {
      summary.erase("host_seconds");
      summary.erase("accesses_per_host_second");
    }
  CHECK(a == b);
}

TEST_CASE("item 6: shared ranges take hex, and 2M demand pages refuse unaligned ones",
          "[cli][config][issue16]") {
  TempDir tmp;
  auto r = run_cli("config dump --set 'guest.shared_ranges=[[0x1000,0x2000],[\"0x3000\",16384]]'",
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(Json::parse(r.out)["guest"]["shared_ranges"] ==
        Json::parse("[[4096, 8192], [12288, 16384]]"));
  spit(tmp.file("t.rmpt"), "#!rmpsim-trace v1\n0 W 0x201000\n");
  r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out") +
                  " --set guest.demand_page_size=2m --set 'guest.shared_ranges=[[0x200000,0x201000]]'",
              tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("rmpsim: error: guest.shared_ranges [0x200000, 0x201000) is not 2M-aligned", 0) ==
        0);
  CHECK_FALSE(fs::exists(tmp.file("out")));
  r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out") +
                  " --set guest.demand_page_size=2m --set 'guest.shared_ranges=[[0x200000,0x400000]]'",
              tmp);
  CHECK(r.status == 0);
}

TEST_CASE("item 7: a broken relation names the key the user set and both keys",
          "[cli][config][issue16]") {
  TempDir tmp;
  auto r = run_cli("config dump --set mmu.l2.entries=100", tmp);
  CHECK(r.status == 2);
  CHECK(r.err ==
        "--set mmu.l2.entries=100: error: mmu.l2.entries (100) must be a multiple of mmu.l2.ways "
        "(12): a set-associative structure has mmu.l2.entries / mmu.l2.ways sets; change either "
        "key\n");
  r = run_cli("config dump --set mmu.l2.ways=7 --set cpu.count=2", tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind("--set mmu.l2.ways=7: error: ", 0) == 0);
}

TEST_CASE("item 7: trace convert suggests --from lackey for a lackey file", "[cli][trace][issue16]") {
  TempDir tmp;
  spit(tmp.file("x.lackey"), "==42== Lackey, an example Valgrind tool\nI  04012345,3\n S 7ff000,8\n");
  auto r = run_cli("trace convert " + tmp.file("x.lackey") + " " + tmp.file("y.rmpt"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("looks like valgrind lackey output: add --from lackey") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.file("y.rmpt")));
  // Not lackey: no suggestion.
  spit(tmp.file("x.txt"), "hello\n");
  r = run_cli("trace convert " + tmp.file("x.txt") + " " + tmp.file("y.rmpt"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.find("--from lackey") == std::string::npos);
  r = run_cli("trace convert " + tmp.file("x.lackey") + " " + tmp.file("y.rmpt") + " --from lackey",
              tmp);
  CHECK(r.status == 0);
}

TEST_CASE("item 8: a vCPU beyond cpu.count gives the exact --set cpu.count", "[cli][errors][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), "#!rmpsim-trace v1\n0 R 0x1000\n3 R 0x2000\n5 W 0x3000\n1 R 0x1000\n");
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err == tmp.file("t.rmpt") +
                     ":3: error: event for vCPU 3 but cpu.count is 1 (expected a vCPU number "
                     "below cpu.count; the trace's highest vCPU needs --set cpu.count=6)\n");
  CHECK_FALSE(fs::exists(tmp.file("out")));
  r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out") + " --set cpu.count=6",
              tmp);
  CHECK(r.status == 0);
}

TEST_CASE("item 9: trace stat prints the guest address regions", "[cli][trace][issue16]") {
  TempDir tmp;
  // Two clusters: 0x1000-0x3fff (3 pages, 4 accesses, one crossing into
  // 0x3000) and the stack far above.
  spit(tmp.file("t.rmpt"), "#!rmpsim-trace v1\n0 R 0x1000\n0 W 0x1008\n0 R 0x2ffc 8\n"
                           "0 R 0x3000\n0 W 0x7ffff000\n");
  auto r = run_cli("trace stat " + tmp.file("t.rmpt"), tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("guest.regions                               2  #") != std::string::npos);
  CHECK(r.out.find("guest.region0                 [0x1000,0x4000)  # [start,end): 3 pages touched, "
                   "4 accesses\n") != std::string::npos);
  CHECK(r.out.find("guest.region1            [0x7ffff000,0x80000000)  # [start,end): 1 pages "
                   "touched, 1 accesses\n") != std::string::npos);
}

TEST_CASE("item 11: psc and conversion events count pages in the same unit (4K)",
          "[cli][events][issue16]") {
  TempDir tmp;
  // 4 MiB (two 2M entries = 1024 4K pages) to shared under the GHCB protocol.
  spit(tmp.file("t.rmpt"), "#!rmpsim-trace v1\n0 MAP 0x40000000 0x80000000 0x400000 private,2m\n"
                           "0 CONVERT 0x40000000 0x400000 shared\n");
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --quiet --out " + tmp.file("out") +
                       " --set hypervisor.backing_page_size=2m --events " + tmp.file("e.jsonl"),
                   tmp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::uint64_t psc_pages = 0, psc_entries = 0, conv_pages = 0;
  std::istringstream in(slurp(tmp.file("e.jsonl")));
  for (std::string line; std::getline(in, line);) {
    const Json e = Json::parse(line);
    if (e["type"] == "psc") {
      psc_pages += e["pages"].get<std::uint64_t>();
      psc_entries += e["entries"].get<std::uint64_t>();
    }
    if (e["type"] == "conversion") conv_pages += e["pages"].get<std::uint64_t>();
  }
  CHECK(psc_entries == 2);
  CHECK(psc_pages == 1024);
  CHECK(conv_pages == 1024);
}

TEST_CASE("item 12: the VCD says how to read its time unit and what the states mean",
          "[cli][events][issue16]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kShared);
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --quiet --out " + tmp.file("out") + " --vcd " +
                       tmp.file("w.vcd"),
                   tmp);
  REQUIRE(r.status == 0);
  const std::string vcd = slurp(tmp.file("w.vcd"));
  CHECK(vcd.find("$comment 1 time unit = 1 core cycle at 2.7 GHz (370.37 ps); the $timescale of "
                 "1 ps is a placeholder") != std::string::npos);
  CHECK(vcd.find("$comment cpuN_state: b00 running guest code, b01 in a VM exit (hypervisor), b10 "
                 "in userspace") != std::string::npos);
}
