// The ChampSim importer, its xz and gzip decoding, and per-vCPU manifests
// (docs/trace-format.md, "ChampSim traces" and "One trace per vCPU"). The
// end-to-end check against an independent count is tests/traces/test-champsim.
#include <cstring>

#include "trace_test_util.hpp"
#include "traces/champsim_reader.hpp"
#include "traces/per_vcpu_reader.hpp"
#include "traces/xz_gzip_stream.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

// One input_instr record (ChampSim inc/trace_instruction.h): ip, is_branch,
// branch_taken, 2 + 4 register ids, 2 destination and 4 source addresses.
std::string record(std::uint64_t ip, std::vector<std::uint64_t> dst,
                   std::vector<std::uint64_t> src) {
  std::string r(ChampSimReader::kRecordBytes, '\0');
  auto put = [&](std::size_t at, std::uint64_t v) { std::memcpy(&r[at], &v, 8); };
  put(0, ip);
  r[8] = 1;  // a branch, taken, with registers: all ignored
  r[9] = 1;
  r[10] = 26;
  for (std::size_t i = 0; i < dst.size(); ++i) put(16 + 8 * i, dst[i]);
  for (std::size_t i = 0; i < src.size(); ++i) put(32 + 8 * i, src[i]);
  return r;
}

std::vector<Owned> champsim(const std::string& bytes) {
  ChampSimReader r(memory_source(bytes), "t.champsim");
  return read_all(r);
}

std::string unhex(const char* hex) {
  std::string out;
  for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2)
    out += char(std::stoi(std::string(hex + i, 2), nullptr, 16));
  return out;
}

// record(0x401000, {0x7ffd0000, 0}, {0x601000, 0, 0x602000, 0}), compressed
// by Python's gzip.compress(mtime=0) and lzma.compress().
const char* kGzipHex = "1f8b08000000000002036310706040057feb51b80209a8d20aa87c00a3498c8640000000";
const char* kXzHex =
    "fd377a585a000004e6d6b4460200210116000000742fe5a3e0003f00145d0000048f9f1aad3e7877f04f18994d"
    "859c072d634000e1fed8d3846ba0a20001304048c21c891fb6f37d010000000004595a";

Event access(Op op, std::uint64_t addr, std::uint16_t vcpu = 0) {
  Event e;
  e.op = op;
  e.addr = addr;
  e.size = 1;
  e.vcpu = vcpu;
  return e;
}

}  // namespace

TEST_CASE("champsim: a fetch, a load per source, a store per destination", "[champsim]") {
  std::vector<Owned> evs = champsim(record(0x401000, {0x7ffd0000, 0}, {0x601000, 0, 0x602000, 0}) +
                                    record(0x401004, {}, {}));
  REQUIRE(evs.size() == 5);
  CHECK(evs[0].view() == access(Op::Exec, 0x401000));
  CHECK(evs[1].view() == access(Op::Read, 0x601000));
  CHECK(evs[2].view() == access(Op::Read, 0x602000));
  CHECK(evs[3].view() == access(Op::Write, 0x7ffd0000));
  CHECK(evs[4].view() == access(Op::Exec, 0x401004));
  CHECK(champsim("").empty());
}

TEST_CASE("champsim: line() is the record number", "[champsim]") {
  ChampSimReader r(memory_source(record(1, {2}, {3}) + record(4, {}, {})), "t.champsim");
  Event ev;
  std::vector<std::uint64_t> lines;
  while (r.next(ev)) lines.push_back(r.line());
  CHECK(lines == std::vector<std::uint64_t>{1, 1, 1, 2});
}

TEST_CASE("champsim: errors name the record", "[champsim][errors]") {
  const std::string two = record(1, {}, {}) + record(2, {}, {});
  CHECK(error_of([&] { champsim(two + two.substr(0, 10)); }) ==
        "t.champsim:3: error: truncated record (expected 64 bytes, got 10)");
  // A record with a bad address is refused whole: none of its events comes out.
  ChampSimReader r(memory_source(record(1, {}, {}) + record(2, {}, {0x10, 1ull << 60})),
                   "t.champsim");
  Event ev;
  CHECK(r.next(ev));
  CHECK(error_of([&] { r.next(ev); }) ==
        "t.champsim:2: error: expected <gva> range [0x1000000000000000, 0x1000000000000001) to be "
        "canonical (bits 63..56 of every address equal; x86-64 with 5-level paging)");
}

TEST_CASE("champsim: xz and gzip by magic, truncated and corrupt streams", "[champsim][xz]") {
  const std::vector<Owned> plain =
      champsim(record(0x401000, {0x7ffd0000, 0}, {0x601000, 0, 0x602000, 0}));
  for (const char* hex : {kGzipHex, kXzHex}) {
    const std::string data = unhex(hex);
    CHECK(read_all(*open_reader(memory_source(data), "t", {Format::ChampSim, false})) == plain);
    // Two streams back to back are one input, as with xz -d / gzip -d.
    CHECK(
        read_all(*open_reader(memory_source(data + data), "t", {Format::ChampSim, false})).size() ==
        2 * plain.size());
  }
  const std::string gz = unhex(kGzipHex), xz = unhex(kXzHex);
  CHECK(
      error_of([&] {
        read_all(*open_reader(memory_source(gz.substr(0, 20)), "t.gz", {Format::ChampSim, false}));
      }) == "t.gz: error: truncated gzip stream (expected more compressed data)");
  CHECK(
      error_of([&] {
        read_all(*open_reader(memory_source(xz.substr(0, 40)), "t.xz", {Format::ChampSim, false}));
      }) == "t.xz: error: truncated xz stream (expected more compressed data)");
  std::string bad = gz;
  bad[12] = char(0xff);
  CHECK(error_of([&] {
          read_all(*open_reader(memory_source(bad), "t.gz", {Format::ChampSim, false}));
        }).rfind("t.gz: error: corrupt gzip stream (", 0) == 0);
  bad = xz;
  bad[40] ^= 0x55;
  CHECK(error_of([&] {
          read_all(*open_reader(memory_source(bad), "t.xz", {Format::ChampSim, false}));
        }).rfind("t.xz: error: corrupt xz stream (", 0) == 0);
  // A bare .champsim is read as it is: an address may start like a magic number.
  TempDir dir;
  const std::string looks_gzip = record(0x8b1f, {}, {});
  spit(dir.file("a.champsim"), looks_gzip);
  CHECK(read_file(dir.file("a.champsim")).size() == 1);
}

TEST_CASE("champsim: recognised by name, or by xz/gzip content", "[champsim]") {
  FileKind k{};
  CHECK(input_kind_from_path("600.perlbench_s-210B.champsimtrace.xz", k));
  CHECK((k.format == Format::ChampSim && !k.zstd && !k.plain));
  CHECK(input_kind_from_path("x.champsim", k));
  CHECK((k.format == Format::ChampSim && k.plain));
  CHECK(input_kind_from_path("x.champsim.zst", k));
  CHECK((k.format == Format::ChampSim && k.zstd));
  CHECK(input_kind_from_path("cores.vcpus", k));
  CHECK(k.format == Format::PerVcpu);
  CHECK(input_kind_from_path("t.rmpb.zst", k));
  CHECK((k.format == Format::Binary && k.zstd));
  CHECK_FALSE(input_kind_from_path("bfs-3.trace.gz", k));
  CHECK_FALSE(input_kind_from_path("t.rmpt.gz", k));

  TempDir dir;
  spit(dir.file("bfs-3.trace.gz"), unhex(kGzipHex));
  CHECK(read_file(dir.file("bfs-3.trace.gz")).size() == 4);
  spit(dir.file("notes.txt"), "hello\n");
  CHECK(error_of([&] {
          read_file(dir.file("notes.txt"));
        }).find("error: expected a trace file name ending in .rmpt") != std::string::npos);
}

TEST_CASE("per-vCPU manifest: one trace per vCPU, round-robin", "[champsim][vcpus]") {
  TempDir dir;
  spit(dir.file("a.champsim"), record(0x1000, {}, {0x2000}) + record(0x1004, {}, {}));
  spit(dir.file("b.rmpt"), "#!rmpsim-trace v1\n0 W 0x3000 8\n");
  spit(dir.file("m.vcpus"), "# core 0, core 1\n\na.champsim\r\n  b.rmpt  \n");
  auto r = open_reader(dir.file("m.vcpus"));
  std::vector<Owned> evs = read_all(*r);
  REQUIRE(evs.size() == 4);
  CHECK(evs[0].view() == access(Op::Exec, 0x1000, 0));
  Event w = access(Op::Write, 0x3000, 1);
  w.size = 8;
  CHECK(evs[1].view() == w);
  CHECK(evs[2].view() == access(Op::Read, 0x2000, 0));
  CHECK(evs[3].view() == access(Op::Exec, 0x1004, 0));
  CHECK(r->name_for(0) == dir.file("a.champsim"));
  CHECK(r->name_for(1) == dir.file("b.rmpt"));

  spit(dir.file("c.rmpt"), "#!rmpsim-trace v1\n0 R 0x10 1\n1 R 0x10 1\n");
  spit(dir.file("bad.vcpus"), "a.champsim\nc.rmpt\n");
  CHECK(error_of([&] { read_file(dir.file("bad.vcpus")); }) ==
        dir.file("c.rmpt") +
            ":3: error: expected vCPU 0 only in a trace of a per-vCPU manifest (the manifest "
            "gives the vCPU), got vCPU 1");
  spit(dir.file("nested.vcpus"), "a.champsim\nm.vcpus\n");
  CHECK(error_of([&] { read_file(dir.file("nested.vcpus")); }) ==
        dir.file("nested.vcpus") + ":2: error: expected a trace file, got the manifest 'm.vcpus'");
  spit(dir.file("empty.vcpus"), "# nothing\n");
  CHECK(error_of([&] { read_file(dir.file("empty.vcpus")); }) ==
        dir.file("empty.vcpus") +
            ": error: expected one trace file name per line (one per vCPU), got none");
  std::string many;
  for (std::size_t i = 0; i <= kMaxPerVcpuTraces; ++i) many += "a.champsim\n";
  spit(dir.file("many.vcpus"), many);
  CHECK(error_of([&] { read_file(dir.file("many.vcpus")); }) ==
        dir.file("many.vcpus") + ":257: error: expected at most 256 traces (one per vCPU)");
}
