// The binary form: its byte layout (checked against hand-assembled bytes, not
// against the writer), and that nothing read from the file is trusted.
#include <cstring>

#include "trace_test_util.hpp"
#include "traces/binary_reader.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

// Little-endian byte assembly, independent of binary_format.hpp.
struct Bytes {
  std::string s;
  Bytes& u8(unsigned v) {
    s += char(v & 0xff);
    return *this;
  }
  Bytes& u16(unsigned v) { return u8(v).u8(v >> 8); }
  Bytes& u32(std::uint32_t v) { return u16(v & 0xffff).u16(v >> 16); }
  Bytes& u64(std::uint64_t v) { return u32(std::uint32_t(v)).u32(std::uint32_t(v >> 32)); }
  Bytes& raw(const std::string& r) {
    s += r;
    return *this;
  }
};

Bytes header(unsigned version = 1, unsigned flags = 0) {
  Bytes b;
  b.raw(std::string("\x89RMPB\r\n\x1a", 8)).u16(version).u16(flags).u32(0);
  return b;
}

// head: op, reserved, vcpu, x, a
Bytes& head(Bytes& b, unsigned op, unsigned vcpu, std::uint32_t x, std::uint64_t a,
            unsigned reserved = 0) {
  return b.u8(op).u8(reserved).u16(vcpu).u32(x).u64(a);
}

std::vector<Owned> decode(const std::string& bytes) {
  BinaryReader r(memory_source(bytes), "b.rmpb");
  return read_all(r);
}

std::string decode_error(const std::string& bytes) {
  return error_of([&] { decode(bytes); });
}

}  // namespace

TEST_CASE("binary layout of every op, byte by byte", "[binary]") {
  TempDir dir;
  std::string text =
      "#!rmpsim-trace v1\n"
      "258 R 0x0022334455667788 4\n"
      "1 W 0x10 8\n"
      "2 X 0x20 1\n"
      "3 M 0x30 2\n"
      "4 HOST R 0x40 64\n"
      "5 HOST W 0x50 3\n"
      "6 D 1000000\n"
      "7 VMPL 3\n"
      "8 PVALIDATE 0x200000 2m validate\n"
      "9 RMPADJUST 0x3000 4k 2 r,vmsa\n"
      "10 UNMAP 0x4000 0x2000\n"
      "11 CONVERT 0x5000 0x1000 private\n"
      "12 MAP 0x200000 0x600000 0x400000 shared,2m,ro,x\n"
      "13 PSC ghcb unsmash 0x200000:2m 0x7000\n";
  std::string in = dir.file("in.rmpt"), out = dir.file("out.rmpb");
  spit(in, text);
  write_events(out, read_file(in));

  Bytes want = header();
  head(want, 0, 258, 4, 0x0022334455667788ull);
  head(want, 1, 1, 8, 0x10);
  head(want, 2, 2, 1, 0x20);
  head(want, 3, 3, 2, 0x30);
  head(want, 12, 4, 64, 0x40);
  head(want, 13, 5, 3, 0x50);
  head(want, 4, 6, 0, 1000000);
  head(want, 9, 7, 0, 3);
  head(want, 7, 8, 1 | 4, 0x200000);                               // 2m | validate
  head(want, 8, 9, 0 | (2 << 8) | (1 << 16) | (1 << 20), 0x3000);  // 4k | vmpl 2 | r | vmsa
  head(want, 6, 10, 0, 0x4000).u64(0x2000);
  head(want, 11, 11, 4, 0x5000).u64(0x1000);  // to private
  head(want, 5, 12, 1 | 4 | 8 | 16, 0x200000).u64(0x600000).u64(0x400000);
  head(want, 10, 13, 1 | (4 << 4), 2).u64(0x200000 | 1).u64(0x7000 | 0);
  CHECK(slurp(out) == want.s);

  // And back: binary -> events -> text is the same text.
  std::string back = dir.file("back.rmpt");
  write_events(back, read_file(out));
  CHECK(read_file(back) == read_file(in));
}

TEST_CASE("binary header errors", "[binary][errors]") {
  CHECK(decode_error("") == "b.rmpb: error: truncated header (expected 16 bytes, got 0)");
  CHECK(decode_error(header().s.substr(0, 10)) ==
        "b.rmpb: error: truncated header (expected 16 bytes, got 10)");
  CHECK(decode_error("#!rmpsim-trace v1\n0 R 0x10\n") ==
        "b.rmpb: error: not an rmpsim binary trace (expected magic 89 52 4d 50 42 0d 0a 1a, got "
        "23 21 72 6d 70 73 69 6d)");
  CHECK(decode_error(header(2).s) ==
        "b.rmpb: error: unsupported binary trace version 2 (expected 1)");
  CHECK(decode_error(header(1, 1).s) ==
        "b.rmpb: error: unsupported binary trace flags 0x1 (expected 0)");
  Bytes reserved;
  reserved.raw(std::string("\x89RMPB\r\n\x1a", 8)).u16(1).u16(0).u32(7);
  CHECK(decode_error(reserved.s) == "b.rmpb: error: expected header bytes 12..15 to be 0, got 0x7");
  CHECK(decode(header().s).empty());
}

TEST_CASE("binary record errors name the record", "[binary][errors]") {
  Bytes ok = header();
  head(ok, 0, 0, 8, 0x1000);  // record 1 is fine

  Bytes trunc = ok;
  trunc.raw(std::string("\x01\x00\x00\x00\x08", 5));
  CHECK(decode_error(trunc.s) == "b.rmpb:2: error: truncated record (expected 16 bytes, got 5)");

  Bytes map = ok;
  head(map, 5, 0, 0, 0x1000).u64(0x1000);  // MAP without its len
  CHECK(decode_error(map.s) == "b.rmpb:2: error: truncated record (expected 32 bytes, got 24)");

  Bytes bad_op = ok;
  head(bad_op, 18, 0, 8, 0x1000);
  CHECK(decode_error(bad_op.s) == "b.rmpb:2: error: unknown op byte 0x12 (expected 0x00..0x11)");

  // Issue 19 item 1: HMEM (ops 15, 16) is an access record; RMPOPT (op 17)
  // holds rescan (0) or now (1) in x, and a must be 0.
  Bytes hmem = ok;
  head(hmem, 16, 2, 64, 0x200000000);
  REQUIRE(decode(hmem.s).size() == 2);
  CHECK(decode(hmem.s)[1].ev == access(Op::HostMemWrite, 2, 0x200000000, 64));
  Bytes hmem0 = ok;
  head(hmem0, 15, 0, 0, 0x1000);
  CHECK(decode_error(hmem0.s) == "b.rmpb:2: error: expected <size> to be at least 1, got 0");
  Bytes opt = ok;
  head(opt, 17, 1, 1, 0);
  REQUIRE(decode(opt.s).size() == 2);
  CHECK(decode(opt.s)[1].ev.op == Op::Rmpopt);
  CHECK(decode(opt.s)[1].ev.attrs == kRmpoptNow);
  Bytes opt_a = ok;
  head(opt_a, 17, 0, 0, 5);
  CHECK(decode_error(opt_a.s) ==
        "b.rmpb:2: error: expected record bytes 8..15 of RMPOPT to be 0, got 0x5");
  Bytes opt_x = ok;
  head(opt_x, 17, 0, 2, 0);
  CHECK(decode_error(opt_x.s).find("RMPOPT attribute") != std::string::npos);

  // ROI (op 14): x holds begin (0) or end (1), a must be 0.
  Bytes roi = ok;
  head(roi, 14, 3, 1, 0);
  REQUIRE(decode(roi.s).size() == 2);
  CHECK(decode(roi.s)[1].ev.op == Op::Roi);
  CHECK(decode(roi.s)[1].ev.attrs == kRoiEnd);
  CHECK(decode(roi.s)[1].ev.vcpu == 3);
  Bytes roi_a = ok;
  head(roi_a, 14, 0, 0, 5);
  CHECK(decode_error(roi_a.s) == "b.rmpb:2: error: expected record bytes 8..15 of ROI to be 0, got 0x5");
  Bytes roi_x = ok;
  head(roi_x, 14, 0, 2, 0);
  CHECK(decode_error(roi_x.s).find("b.rmpb:2: error: ") == 0);
  CHECK(decode_error(roi_x.s).find("ROI attribute") != std::string::npos);
  Bytes bad_op2 = header();
  head(bad_op2, 0xff, 0, 8, 0x1000);
  CHECK(decode_error(bad_op2.s) == "b.rmpb:1: error: unknown op byte 0xff (expected 0x00..0x11)");

  Bytes reserved = ok;
  head(reserved, 0, 0, 8, 0x1000, 1);
  CHECK(decode_error(reserved.s) ==
        "b.rmpb:2: error: expected record byte 1 (reserved) to be 0, got 0x01");

  Bytes zero_size = ok;
  head(zero_size, 1, 0, 0, 0x1000);
  CHECK(decode_error(zero_size.s) == "b.rmpb:2: error: expected <size> to be at least 1, got 0");

  Bytes delay_x = ok;
  head(delay_x, 4, 0, 5, 100);
  CHECK(decode_error(delay_x.s) ==
        "b.rmpb:2: error: expected record bytes 4..7 of D to be 0, got 0x5");

  Bytes vmpl = ok;
  head(vmpl, 9, 0, 0, 4);
  CHECK(decode_error(vmpl.s) == "b.rmpb:2: error: expected <vmpl> to be 0..3, got 4");

  Bytes misaligned = ok;
  head(misaligned, 5, 0, 1, 0x1000).u64(0).u64(0x200000);  // 2m MAP at 0x1000
  CHECK(decode_error(misaligned.s) ==
        "b.rmpb:2: error: expected <gva> to be aligned to 2m (0x200000), got 0x1000");

  Bytes attrs = ok;
  head(attrs, 7, 0, 0x100, 0x1000);  // PVALIDATE with an unknown attribute bit
  CHECK(decode_error(attrs.s) ==
        "b.rmpb:2: error: expected no PVALIDATE attribute bits outside 0x7, got 0x100");
}

TEST_CASE("binary PSC counts are bounded before use", "[binary][errors]") {
  Bytes too_many = header();
  head(too_many, 10, 0, 1 | (1 << 4), 254);
  for (int i = 0; i < 254; ++i) too_many.u64(0x1000 * i);
  CHECK(decode_error(too_many.s) ==
        "b.rmpb:1: error: expected 1..253 PSC entries for ghcb, got 254");

  Bytes huge = header();  // a count that would overflow any size computation
  head(huge, 10, 0, 1 | (1 << 4), 0xffffffffffffffffull);
  CHECK(decode_error(huge.s) ==
        "b.rmpb:1: error: expected 1..253 PSC entries for ghcb, got 18446744073709551615");

  Bytes none = header();
  head(none, 10, 0, 1 | (1 << 4), 0);
  CHECK(decode_error(none.s) == "b.rmpb:1: error: expected 1..253 PSC entries for ghcb, got 0");

  Bytes msr = header();
  head(msr, 10, 0, 0 | (2 << 4), 2).u64(0x1000).u64(0x2000);
  CHECK(decode_error(msr.s) == "b.rmpb:1: error: expected exactly one PSC entry for msr, got 2");

  Bytes short_entries = header();
  head(short_entries, 10, 0, 1 | (1 << 4), 3).u64(0x1000);
  CHECK(decode_error(short_entries.s) ==
        "b.rmpb:1: error: truncated record (expected 40 bytes, got 24)");

  Bytes entry_bits = header();
  head(entry_bits, 10, 0, 1 | (1 << 4), 1).u64(0x1000 | 0x4);
  CHECK(decode_error(entry_bits.s) ==
        "b.rmpb:1: error: expected bits 2..11 of PSC entry 1 to be 0, got 0x1004");

  Bytes entry_size = header();
  head(entry_size, 10, 0, 1 | (1 << 4), 1).u64(0x40000000 | 2);  // 1g: no such RMP page
  CHECK(decode_error(entry_size.s) == "b.rmpb:1: error: expected page size 4k or 2m, got code 2");

  Bytes proto = header();
  head(proto, 10, 0, 2 | (1 << 4), 1).u64(0x1000);
  CHECK(decode_error(proto.s) ==
        "b.rmpb:1: error: expected PSC protocol msr (0) or ghcb (1), got 2");
}

TEST_CASE("binary next_batch matches next across buffer refills", "[binary]") {
  // Enough records to cross the reader's 256 KiB buffer several times, with
  // variable-length records straddling the refills.
  Bytes b = header();
  std::vector<Owned> expect;
  for (std::uint32_t i = 0; i < 60000; ++i) {
    if (i % 997 == 0) {
      head(b, 10, 1, 1 | (2 << 4), 3).u64(0x1000).u64(0x200000 | 1).u64(0x5000);
      Owned o;
      o.ev.op = Op::Psc;
      o.ev.vcpu = 1;
      o.ev.attrs = psc_attrs(PscProto::Ghcb, PscOp::Shared);
      o.ev.psc_count = 3;
      o.psc = {{0x1000, PageSize::k4K}, {0x200000, PageSize::k2M}, {0x5000, PageSize::k4K}};
      expect.push_back(o);
    }
    head(b, i % 2, i % 7, 1 + i % 64, std::uint64_t(i) * 8);
    expect.push_back(
        own(access(Op(i % 2), std::uint16_t(i % 7), std::uint64_t(i) * 8, 1 + i % 64)));
  }
  CHECK(decode(b.s) == expect);

  BinaryReader r(memory_source(b.s), "b.rmpb");
  std::vector<Owned> batched;
  std::vector<Event> buf(500);
  while (std::size_t n = r.next_batch(buf.data(), buf.size()))
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i].op == Op::Psc) CHECK(i == n - 1);
      batched.push_back(own(buf[i]));
    }
  CHECK(batched == expect);
  CHECK(r.line() == expect.size());
}

TEST_CASE("binary next_run matches next, with record numbers, and stops before bad records",
          "[binary]") {
  Bytes b = header();
  for (std::uint32_t i = 0; i < 40000; ++i) {
    if (i % 997 == 0) head(b, 10, 1, 1 | (2 << 4), 2).u64(0x1000).u64(0x5000);
    if (i % 1231 == 0) head(b, 4, 0, 0, 100 + i);  // D
    head(b, i % 2, i % 7, 1 + i % 64, std::uint64_t(i) * 8);
  }
  std::vector<std::pair<Owned, std::uint64_t>> expect, got;
  {
    BinaryReader r(memory_source(b.s), "b.rmpb");
    Event ev;
    while (r.next(ev)) expect.emplace_back(own(ev), r.line());
  }
  BinaryReader r(memory_source(b.s), "b.rmpb");
  std::vector<Event> buf(300);
  std::vector<std::uint64_t> lines(300);
  while (std::size_t n = r.next_run(buf.data(), lines.data(), buf.size()))
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i].op == Op::Psc) CHECK(n == 1);
      got.emplace_back(own(buf[i]), lines[i]);
    }
  CHECK(got == expect);

  // Good records before a bad one come first; the error comes on the next
  // call, with the bad record's number.
  Bytes bad = header();
  for (int i = 0; i < 3; ++i) head(bad, 0, 0, 8, 0x1000 * i);
  head(bad, 0x7f, 0, 8, 0);
  BinaryReader rb(memory_source(bad.s), "b.rmpb");
  REQUIRE(rb.next_run(buf.data(), lines.data(), buf.size()) == 3);
  CHECK(lines[2] == 3);
  CHECK(error_of([&] { rb.next_run(buf.data(), lines.data(), buf.size()); }) ==
        "b.rmpb:4: error: unknown op byte 0x7f (expected 0x00..0x11)");
}
