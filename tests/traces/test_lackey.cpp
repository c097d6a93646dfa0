// The valgrind lackey importer (TRACE-FORMAT.md "Importers").
#include "trace_test_util.hpp"
#include "traces/lackey_reader.hpp"
#include "traces/zstd_stream.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

std::vector<Owned> lackey(const std::string& text) {
  LackeyReader r(memory_source(text), "raw.lackey");
  return read_all(r);
}
std::string lackey_error(const std::string& text) {
  return error_of([&] { lackey(text); });
}

// Shaped like real `valgrind --tool=lackey --trace-mem=yes` output.
const std::string kSample =
    "==4242== Lackey, an example Valgrind tool\n"
    "==4242== Command: /bin/true\n"
    "==4242== \n"
    "I  04001100,3\n"
    " S 1ffefffc88,8\n"
    " L 04222cb8,8\n"
    " M 0421d008,4\n"
    "I  0040119a,10\n"
    "\n"
    "==4242== \n"
    "==4242== Counted 1 call to main()\n";

const std::string kExpected =
    "expected a lackey line ('I  addr,size', ' L addr,size', ' S addr,size', ' M addr,size' or "
    "'==...'), got ";

}  // namespace

TEST_CASE("lackey lines map to X, W, R, M on vCPU 0", "[lackey]") {
  std::vector<Owned> evs = lackey(kSample);
  REQUIRE(evs.size() == 5);
  CHECK(evs[0].ev == access(Op::Exec, 0, 0x4001100, 3));
  CHECK(evs[1].ev == access(Op::Write, 0, 0x1ffefffc88, 8));
  CHECK(evs[2].ev == access(Op::Read, 0, 0x4222cb8, 8));
  CHECK(evs[3].ev == access(Op::Modify, 0, 0x421d008, 4));
  CHECK(evs[4].ev == access(Op::Exec, 0, 0x40119a, 10));
  // CRLF and a missing final newline are tolerated too.
  CHECK(lackey(" L ffffffff00000000,4294967295\r\n L 10,1").size() == 2);
}

TEST_CASE("lackey: line() names the source line", "[lackey]") {
  LackeyReader r(memory_source(kSample), "raw.lackey");
  Event ev;
  REQUIRE(r.next(ev));
  CHECK(r.line() == 4);
  REQUIRE(r.next(ev));
  CHECK(r.line() == 5);
}

TEST_CASE("lackey: anything else is an error with its line number", "[lackey][errors]") {
  CHECK(lackey_error("==1== hi\nhello from the program\n") ==
        "raw.lackey:2: error: " + kExpected + "'hello from the program'");
  CHECK(lackey_error("--1-- warning: something\n") ==
        "raw.lackey:1: error: " + kExpected + "'--1-- warning: something'");
  CHECK(lackey_error(" L 0x10,8\n") == "raw.lackey:1: error: " + kExpected + "' L 0x10,8'");
  CHECK(lackey_error(" L 10 8\n") == "raw.lackey:1: error: " + kExpected + "' L 10 8'");
  CHECK(lackey_error(" L 10,8,\n") == "raw.lackey:1: error: " + kExpected + "' L 10,8,'");
  CHECK(lackey_error(" X 10,8\n") == "raw.lackey:1: error: " + kExpected + "' X 10,8'");
  CHECK(lackey_error("IL 10,8\n") == "raw.lackey:1: error: " + kExpected + "'IL 10,8'");
  CHECK(lackey_error(" L 10,0\n") ==
        "raw.lackey:1: error: expected <size> to be at least 1, got 0");
  CHECK(lackey_error(" L 10000000000000000,8\n") ==
        "raw.lackey:1: error: expected <addr> to fit in 64 bits, got '10000000000000000,8'");
  CHECK(lackey_error(" S 10,4294967296\n") ==
        "raw.lackey:1: error: expected <size> to fit in 32 bits (at most 4294967295), got "
        "'4294967296'");
}

TEST_CASE("lackey through open_reader, plain and zstd", "[lackey][zstd]") {
  TempDir dir;
  std::string raw = dir.file("raw.txt");
  spit(raw, kSample);
  auto r = open_reader(raw, FileKind{Format::Lackey, false});
  std::vector<Owned> plain = read_all(*r);
  CHECK(plain.size() == 5);

  // Compress it with the library's own zstd writer path: a .rmpt.zst text
  // trace is just a zstd stream, so write the raw bytes through a sink.
  std::string zst = dir.file("raw.txt.zst");
  {
    auto sink = zstd_sink(open_file_sink(zst), zst);
    sink->write(kSample.data(), kSample.size());
    sink->finish();
  }
  CHECK(read_all(*open_reader(zst, FileKind{Format::Lackey, true})) == plain);
  // zstd is recognised by its magic even when the caller does not say so.
  CHECK(read_all(*open_reader(zst, FileKind{Format::Lackey, false})) == plain);
}
