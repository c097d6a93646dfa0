// Opening and publishing trace files: suffixes, missing and unreadable files,
// atomic writes, standard input, zstd (round trip, corrupt, truncated), and
// that readers stream instead of reading a file whole.
#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "trace_test_util.hpp"
#include "traces/generator.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

const std::string kHello = "#!rmpsim-trace v1\n0 R 0x1000 8\n1 W 0x2000 4\n";

// Reads `path` through "-" with standard input redirected from it.
std::vector<Owned> read_via_stdin(const std::string& path) {
  int saved = ::dup(STDIN_FILENO);
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  std::vector<Owned> evs;
  std::string error;
  try {
    evs = read_file("-");
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  CHECK(error == "");
  return evs;
}

std::vector<std::string> listing(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("kind_from_path knows the four suffixes and stdin", "[io]") {
  auto kind = [](const std::string& p) {
    FileKind k = kind_from_path(p);
    return std::make_pair(k.format, k.zstd);
  };
  CHECK(kind("a.rmpt") == std::make_pair(Format::Text, false));
  CHECK(kind("dir.x/a.rmpt.zst") == std::make_pair(Format::Text, true));
  CHECK(kind("a.rmpb") == std::make_pair(Format::Binary, false));
  CHECK(kind("a.rmpb.zst") == std::make_pair(Format::Binary, true));
  CHECK(kind("-") == std::make_pair(Format::Text, false));
  CHECK(error_of([] { kind_from_path("trace.txt"); }) ==
        "trace.txt: error: expected a trace file name ending in .rmpt, .rmpb, .rmpt.zst or "
        ".rmpb.zst");
  CHECK(error_of([] { kind_from_path("a.zst"); }) != "");
}

TEST_CASE("missing and unreadable inputs are InputErrors", "[io][errors]") {
  TempDir dir;
  std::string missing = dir.file("nope.rmpt");
  CHECK(error_of([&] { open_reader(missing); }) ==
        missing + ": error: cannot open trace: No such file or directory");
  std::string sub = dir.file("sub.rmpt");
  fs::create_directory(sub);
  CHECK(error_of([&] { open_reader(sub); }) == sub + ": error: cannot read trace: is a directory");
}

TEST_CASE("writers publish atomically and clean up when abandoned", "[io]") {
  TempDir dir;
  std::string path = dir.file("out.rmpt");
  {
    auto w = open_writer(path);
    w->write(access(Op::Read, 0, 0x10, 8));
    CHECK_FALSE(fs::exists(path));  // only the temporary exists so far
    CHECK(listing(dir).size() == 1);
  }  // destroyed without finish()
  CHECK(listing(dir).empty());

  auto w = open_writer(path);
  w->write(access(Op::Read, 0, 0x10, 8));
  w->finish();
  CHECK(listing(dir) == std::vector<std::string>{"out.rmpt"});
  CHECK(slurp(path) == "#!rmpsim-trace v1\n0 R 0x10 8\n");

  CHECK(error_of([&] {
          open_writer(dir.file("no/such/dir/x.rmpt"));
        }).rfind(dir.file("no/such/dir/x.rmpt") + ": error: cannot create the output trace: ", 0) == 0);
  CHECK(error_of([&] { open_writer(dir.file("x.lackey")); }) != "");
}

TEST_CASE("writers refuse events no reader would accept", "[io]") {
  TempDir dir;
  auto w = open_writer(dir.file("bad.rmpb"));
  CHECK_THROWS_AS(w->write(access(Op::Read, 0, 0x10, 0)), std::invalid_argument);
  Event map;
  map.op = Op::Map;
  map.addr = 0x1000;
  map.gpa = 0x1000;
  map.len = 0;
  CHECK_THROWS_AS(w->write(map), std::invalid_argument);
  CHECK_THROWS_AS(format_event(map), std::invalid_argument);
}

TEST_CASE("zstd round trips and is detected by magic as well as suffix", "[io][zstd]") {
  TempDir dir;
  std::string plain = dir.file("a.rmpt");
  spit(plain, kHello);
  std::vector<Owned> want = read_file(plain);
  REQUIRE(want.size() == 2);
  for (const char* name : {"b.rmpt.zst", "c.rmpb.zst", "d.rmpb"}) {
    write_events(dir.file(name), want);
    CHECK(read_file(dir.file(name)) == want);
  }
  CHECK(slurp(dir.file("b.rmpt.zst")).substr(0, 4) == "\x28\xb5\x2f\xfd");
  // A compressed file without the suffix still reads.
  fs::copy_file(dir.file("b.rmpt.zst"), dir.file("renamed.rmpt"));
  CHECK(read_file(dir.file("renamed.rmpt")) == want);
  // Concatenated frames are one stream (the second magic line reads as a
  // comment).
  spit(dir.file("twice.rmpt.zst"), slurp(dir.file("b.rmpt.zst")) + slurp(dir.file("b.rmpt.zst")));
  std::vector<Owned> twice = want;
  twice.insert(twice.end(), want.begin(), want.end());
  CHECK(read_file(dir.file("twice.rmpt.zst")) == twice);
}

TEST_CASE("corrupt and truncated zstd streams", "[io][zstd][errors]") {
  TempDir dir;
  GenSpec spec;
  spec.accesses = 20000;
  std::string good = dir.file("g.rmpt.zst");
  {
    auto w = open_writer(good);
    generate(spec, *w);
    w->finish();
  }
  std::string bytes = slurp(good);
  REQUIRE(bytes.size() > 1000);

  std::string trunc = dir.file("t.rmpt.zst");
  spit(trunc, bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] { read_file(trunc); }) ==
        trunc + ": error: truncated zstd stream (expected more compressed data)");

  std::string empty = dir.file("e.rmpt.zst");
  spit(empty, "");
  CHECK(error_of([&] { read_file(empty); }) ==
        empty + ": error: truncated zstd stream (expected more compressed data)");

  std::string corrupt = dir.file("c.rmpt.zst");
  std::string flipped = bytes;
  for (std::size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i) flipped[i] ^= 0x5a;
  spit(corrupt, flipped);
  CHECK(error_of([&] {
          read_file(corrupt);
        }).rfind(corrupt + ": error: corrupt zstd stream (", 0) == 0);

  std::string not_zstd = dir.file("n.rmpt.zst");
  spit(not_zstd, kHello);
  CHECK(error_of([&] { read_file(not_zstd); }) ==
        not_zstd + ": error: corrupt zstd stream (Unknown frame descriptor)");
}

TEST_CASE("standard input: text, binary and zstd are recognised", "[io]") {
  TempDir dir;
  std::string plain = dir.file("a.rmpt");
  spit(plain, kHello);
  std::vector<Owned> want = read_file(plain);
  CHECK(read_via_stdin(plain) == want);
  for (const char* name : {"b.rmpb", "c.rmpt.zst", "d.rmpb.zst"}) {
    write_events(dir.file(name), want);
    CHECK(read_via_stdin(dir.file(name)) == want);
  }
  spit(dir.file("bad.rmpt"), "0 R 0x10\n");
  int saved = ::dup(STDIN_FILENO);
  int fd = ::open(dir.file("bad.rmpt").c_str(), O_RDONLY);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  std::string error = error_of([] { read_file("-"); });
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  CHECK(error ==
        "<stdin>:1: error: expected '#!rmpsim-trace v1' as the first line, got '0 R 0x10'");
}

TEST_CASE("readers stream: bytes_read grows as events are taken", "[io][streaming]") {
  TempDir dir;
  GenSpec spec;
  spec.accesses = 600000;  // ~12 MB of text, several reader buffers
  spec.vcpus = 2;
  for (const char* name : {"s.rmpt", "s.rmpb", "s.rmpt.zst"}) {
    CAPTURE(name);
    std::string path = dir.file(name);
    {
      auto w = open_writer(path);
      generate(spec, *w);
      w->finish();
    }
    auto r = open_reader(path);
    const std::uint64_t total = fs::file_size(path);
    CHECK(r->bytes_total() == total);
    Event ev;
    REQUIRE(r->next(ev));
    // After one event at most a couple of buffers have been read.
    CHECK(r->bytes_read() <= 2 * 1024 * 1024);
    CHECK(r->bytes_read() < total);
    std::uint64_t last = r->bytes_read(), steps = 0, events = 1;
    while (r->next(ev)) {
      ++events;
      CHECK(r->bytes_read() >= last);
      if (r->bytes_read() != last) ++steps;
      last = r->bytes_read();
    }
    CHECK(events == spec.accesses);
    CHECK(last == total);
    CHECK(steps >= 3);  // consumed in several chunks, not at once
  }
}
