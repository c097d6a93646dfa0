// The text form, op by op, against hand-written expectations
// (TRACE-FORMAT.md / docs/trace-format.md), and every class of malformed line
// with its exact message and line number.
#include "trace_test_util.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

const std::string kMagic = "#!rmpsim-trace v1\n";

// The single event of a one-line trace.
Owned one(const std::string& line) {
  std::vector<Owned> evs = parse(kMagic + line + "\n");
  REQUIRE(evs.size() == 1);
  return evs[0];
}

// The message for a trace whose line 2 is `line`.
std::string err(const std::string& line) { return parse_error(kMagic + line + "\n"); }
std::string at2(const std::string& what) { return "t.rmpt:2: error: " + what; }

const char* kOps =
    "R, W, X, M, D, MAP, UNMAP, PVALIDATE, RMPADJUST, VMPL, PSC, CONVERT, HOST, ROI, HMEM or "
    "RMPOPT";

}  // namespace

TEST_CASE("guest accesses parse with explicit and default sizes", "[text]") {
  CHECK(one("0 R 0x7fff1234 8").ev == access(Op::Read, 0, 0x7fff1234, 8));
  CHECK(one("3 W 0x1000 4").ev == access(Op::Write, 3, 0x1000, 4));
  CHECK(one("1 X 0x401000 15").ev == access(Op::Exec, 1, 0x401000, 15));
  CHECK(one("65535 M 0x10 1").ev == access(Op::Modify, 65535, 0x10, 1));
  // Default size 8.
  CHECK(one("0 R 0x2000").ev == access(Op::Read, 0, 0x2000, 8));
  // The largest size, and the last canonical bytes below 2^64; a
  // page-crossing access stays one event (the simulator splits it).
  CHECK(one("0 W 0xffffffff00000000 4294967295").ev ==
        access(Op::Write, 0, 0xffffffff00000000ull, 4294967295u));
  CHECK(one("0 R 0xfffffffffffffff8").ev == access(Op::Read, 0, 0xfffffffffffffff8ull, 8));
  CHECK(one("0 R 0xffe 8").ev == access(Op::Read, 0, 0xffe, 8));
}

TEST_CASE("numbers are decimal or 0x hex, either case", "[text]") {
  CHECK(one("0 R 4096 16").ev == access(Op::Read, 0, 4096, 16));
  CHECK(one("0x1f R 0XABCdef 0x10").ev == access(Op::Read, 31, 0xabcdef, 16));
  CHECK(one("0 R 0x0000000000000000000001000").ev == access(Op::Read, 0, 0x1000, 8));
  CHECK(one("0 R 18446744073709551608").ev == access(Op::Read, 0, ~0ull - 7, 8));
  CHECK(one("00 R 0 1").ev == access(Op::Read, 0, 0, 1));
}

TEST_CASE("blank lines, comments, blank runs, tabs and CRLF are tolerated", "[text]") {
  std::string t =
      "\n   \n#!rmpsim-trace v1  \r\n"
      "# a comment\n"
      "   # an indented comment\n"
      "\t\n"
      "  2 \t W\t\t0x40   2  \r\n"
      "\r\n"
      "1 R 0x50\r\n"
      "0 D 7";  // no newline at the end
  std::vector<Owned> evs = parse(t);
  REQUIRE(evs.size() == 3);
  CHECK(evs[0].ev == access(Op::Write, 2, 0x40, 2));
  CHECK(evs[1].ev == access(Op::Read, 1, 0x50, 8));
  Event d;
  d.op = Op::Delay;
  d.len = 7;
  CHECK(evs[2].ev == d);
}

TEST_CASE("D carries cycles in len", "[text]") {
  Event e;
  e.op = Op::Delay;
  e.vcpu = 2;
  e.len = 123456789012ull;
  CHECK(one("2 D 123456789012").ev == e);
  e.len = 0;
  CHECK(one("2 D 0").ev == e);
}

TEST_CASE("MAP attributes and defaults", "[text]") {
  Event e;
  e.op = Op::Map;
  e.addr = 0x400000;
  e.gpa = 0x100000;
  e.len = 0x4000;
  e.attrs = 0;  // private,4k,rw,nx
  CHECK(one("0 MAP 0x400000 0x100000 0x4000").ev == e);
  CHECK(one("0 MAP 0x400000 0x100000 0x4000 private,4k,rw,nx").ev == e);
  CHECK(one("0 MAP 0x400000 0x100000 16384 4k").ev == e);

  e.attrs = kMapShared;
  CHECK(one("0 MAP 0x400000 0x100000 0x4000 shared").ev == e);

  Event big;
  big.op = Op::Map;
  big.vcpu = 1;
  big.addr = 0x40000000;
  big.gpa = 0x80000000;
  big.len = 0x400000;
  big.attrs = std::uint32_t(PageSize::k2M) | kMapReadOnly | kMapExec;
  CHECK(one("1 MAP 0x40000000 0x80000000 0x400000 x,ro,2m,private").ev == big);

  big.len = 0x40000000;
  big.attrs = std::uint32_t(PageSize::k1G) | kMapShared | kMapExec;
  CHECK(one("1 MAP 0x40000000 0x80000000 0x40000000 shared,1g,rw,x").ev == big);
  // Repeating an attribute is harmless.
  CHECK(one("1 MAP 0x40000000 0x80000000 0x40000000 1g,shared,1g,x").ev == big);
}

TEST_CASE("UNMAP, PVALIDATE, RMPADJUST, VMPL, CONVERT", "[text]") {
  Event u;
  u.op = Op::Unmap;
  u.addr = 0x400000;
  u.len = 0x2000;
  CHECK(one("0 UNMAP 0x400000 0x2000").ev == u);

  Event pv;
  pv.op = Op::Pvalidate;
  pv.addr = 0x200000;
  pv.attrs = std::uint32_t(PageSize::k2M) | kPvalidateValidate;
  CHECK(one("0 PVALIDATE 0x200000 2m validate").ev == pv);
  pv.attrs = std::uint32_t(PageSize::k4K);
  pv.addr = 0x1000;
  CHECK(one("0 PVALIDATE 0x1000 4k rescind").ev == pv);

  Event ra;
  ra.op = Op::Rmpadjust;
  ra.addr = 0x5000;
  ra.attrs = std::uint32_t(PageSize::k4K) | (1u << kRmpadjustVmplShift) | kPermR | kPermW | kPermXu;
  CHECK(one("0 RMPADJUST 0x5000 4k 1 r,w,xu").ev == ra);
  CHECK(rmpadjust_vmpl(one("0 RMPADJUST 0x5000 4k 1 r,w,xu").ev.attrs) == 1);
  ra.attrs = std::uint32_t(PageSize::k2M) | (3u << kRmpadjustVmplShift);
  ra.addr = 0x200000;
  CHECK(one("0 RMPADJUST 0x200000 2m 3 none").ev == ra);
  ra.attrs = std::uint32_t(PageSize::k4K) | (2u << kRmpadjustVmplShift) | kPermXs | kPermVmsa;
  ra.addr = 0x6000;
  CHECK(one("0 RMPADJUST 0x6000 4k 2 vmsa,xs").ev == ra);

  Event v;
  v.op = Op::Vmpl;
  v.vcpu = 4;
  v.addr = 2;
  CHECK(one("4 VMPL 2").ev == v);

  Event c;
  c.op = Op::Convert;
  c.addr = 0x10000;
  c.len = 0x3000;
  c.attrs = 0;
  CHECK(one("0 CONVERT 0x10000 0x3000 shared").ev == c);
  c.attrs = kConvertToPrivate;
  CHECK(one("0 CONVERT 0x10000 0x3000 private").ev == c);
}

TEST_CASE("HOST reads and writes guest physical memory", "[text]") {
  CHECK(one("0 HOST R 0x103000 64").ev == access(Op::HostRead, 0, 0x103000, 64));
  CHECK(one("2 HOST W 0x103000").ev == access(Op::HostWrite, 2, 0x103000, 8));
}

TEST_CASE("issue 19 item 1: HMEM reads and writes host memory, RMPOPT asks for a pass",
          "[text]") {
  CHECK(one("1 HMEM R 0x200000000 4096").ev == access(Op::HostMemRead, 1, 0x200000000, 4096));
  CHECK(one("3 HMEM W 0x200000000").ev == access(Op::HostMemWrite, 3, 0x200000000, 8));
  Event r;
  r.op = Op::Rmpopt;
  CHECK(one("0 RMPOPT rescan").ev == r);
  r.attrs = kRmpoptNow;
  r.vcpu = 2;
  CHECK(one("2 RMPOPT now").ev == r);
  // Bad input names the line and what was expected.
  CHECK(err("0 HMEM X 0x1000") == at2("expected R or W, got 'X'"));
  CHECK(err("0 HMEM W") ==
        at2("expected <spa> (usage: HMEM <R|W> <spa> [size]), got end of line"));
  CHECK(err("0 HMEM W 0x1000 0") == at2("expected <size> to be at least 1, got 0"));
  CHECK(err("0 HMEM W 0x7fffffffffff8 16") ==
        at2("expected <spa> range [0x7fffffffffff8, 0x8000000000008) to lie below 2^51 (the "
            "simulated system-physical address space)"));
  CHECK(err("0 RMPOPT later") == at2("expected rescan or now, got 'later'"));
  CHECK(err("0 RMPOPT") == at2("expected <rescan|now> (usage: RMPOPT <rescan|now>), got end of line"));
  CHECK(err("0 RMPOPT now 1") == at2("expected end of line (usage: RMPOPT <rescan|now>), got '1'"));
}

TEST_CASE("PSC over msr and ghcb", "[text]") {
  Owned m = one("0 PSC msr shared 0x102000");
  CHECK(m.ev.op == Op::Psc);
  CHECK(m.ev.attrs == psc_attrs(PscProto::Msr, PscOp::Shared));
  REQUIRE(m.psc.size() == 1);
  CHECK(m.psc[0] == PscEntry{0x102000, PageSize::k4K});
  CHECK(one("0 PSC msr private 0x102000:4k").ev.attrs == psc_attrs(PscProto::Msr, PscOp::Private));

  Owned g = one("1 PSC ghcb private 0x100000 0x200000:2m 0x301000:4k");
  CHECK(g.ev.vcpu == 1);
  CHECK(g.ev.attrs == psc_attrs(PscProto::Ghcb, PscOp::Private));
  CHECK(g.ev.psc_count == 3);
  CHECK(g.psc == std::vector<PscEntry>{{0x100000, PageSize::k4K},
                                       {0x200000, PageSize::k2M},
                                       {0x301000, PageSize::k4K}});
  CHECK(psc_op(one("0 PSC ghcb psmash 0x200000:2m").ev.attrs) == PscOp::Psmash);
  CHECK(psc_op(one("0 PSC ghcb unsmash 0x200000:2m").ev.attrs) == PscOp::Unsmash);

  std::string many = "0 PSC ghcb shared";
  for (int i = 0; i < 253; ++i) many += " " + std::to_string(0x1000 * (i + 1));
  Owned full = one(many);
  REQUIRE(full.psc.size() == 253);
  CHECK(full.psc[252] == PscEntry{0x1000 * 253, PageSize::k4K});
}

TEST_CASE("PSC entries stay valid until the next call", "[text]") {
  TextReader r(memory_source(kMagic + "0 PSC ghcb private 0x1000 0x2000\n0 R 0x10\n"), "t.rmpt");
  Event ev;
  REQUIRE(r.next(ev));
  REQUIRE(ev.psc_count == 2);
  CHECK(ev.psc[1] == PscEntry{0x2000, PageSize::k4K});
  CHECK(r.line() == 2);
  REQUIRE(r.next(ev));
  CHECK(r.line() == 3);
  CHECK_FALSE(r.next(ev));
}

TEST_CASE("the magic line is required and versioned", "[text][errors]") {
  CHECK(parse_error("0 R 0x10\n") ==
        "t.rmpt:1: error: expected '#!rmpsim-trace v1' as the first line, got '0 R 0x10'");
  CHECK(parse_error("\n\n# comment\n") ==
        "t.rmpt:3: error: expected '#!rmpsim-trace v1' as the first line, got '# comment'");
  CHECK(parse_error("#!rmpsim-trace v2\n0 R 0x10\n") ==
        "t.rmpt:1: error: unsupported trace version 'v2' (expected '#!rmpsim-trace v1')");
  CHECK(parse_error("") ==
        "t.rmpt: error: expected '#!rmpsim-trace v1' as the first line, got an empty file");
  CHECK(parse_error(" \n\n") ==
        "t.rmpt: error: expected '#!rmpsim-trace v1' as the first line, got an empty file");
  CHECK(parse_error("#!rmpsim-trace v1").empty());
}

TEST_CASE("unknown and missing ops", "[text][errors]") {
  CHECK(err("0 RD 0x10") == at2(std::string("unknown op 'RD' (expected ") + kOps + ")"));
  CHECK(err("0 r 0x10") == at2(std::string("unknown op 'r' (expected ") + kOps + ")"));
  CHECK(err("0") == at2(std::string("expected an op (") + kOps + "), got end of line"));
}

TEST_CASE("bad numbers", "[text][errors]") {
  CHECK(err("0 R 0xZZ") == at2("expected <gva> as a decimal or 0x hex number, got '0xZZ'"));
  CHECK(err("0 R 12ab") == at2("expected <gva> as a decimal or 0x hex number, got '12ab'"));
  CHECK(err("0 R -5") == at2("expected <gva> as a decimal or 0x hex number, got '-5'"));
  CHECK(err("0 R 0x") == at2("expected <gva> as a decimal or 0x hex number, got '0x'"));
  CHECK(err("x R 0x10") == at2("expected <vcpu> as a decimal or 0x hex number, got 'x'"));
  CHECK(err("R 0x10") == at2("expected <vcpu> as a decimal or 0x hex number, got 'R'"));
  CHECK(err("0 R 0x10 eight") == at2("expected <size> as a decimal or 0x hex number, got 'eight'"));
  CHECK(err("0 D lots") == at2("expected <cycles> as a decimal or 0x hex number, got 'lots'"));
  CHECK(err("0 R 0x10 0") == at2("expected <size> to be at least 1, got 0"));
}

TEST_CASE("number overflow", "[text][errors]") {
  CHECK(err("0 R 0x10000000000000000") ==
        at2("expected <gva> to fit in 64 bits, got '0x10000000000000000'"));
  CHECK(err("0 R 18446744073709551616") ==
        at2("expected <gva> to fit in 64 bits, got '18446744073709551616'"));
  CHECK(err("65536 R 0x10") ==
        at2("expected <vcpu> to fit in 16 bits (at most 65535), got '65536'"));
  CHECK(err("0 R 0x10 4294967296") ==
        at2("expected <size> to fit in 32 bits (at most 4294967295), got '4294967296'"));
  CHECK(err("0 HOST W 0x10 0x100000000") ==
        at2("expected <size> to fit in 32 bits (at most 4294967295), got '0x100000000'"));
}

TEST_CASE("missing operands", "[text][errors]") {
  CHECK(err("0 R") == at2("expected <gva> (usage: R <gva> [size]), got end of line"));
  CHECK(err("0 W  \t") == at2("expected <gva> (usage: W <gva> [size]), got end of line"));
  CHECK(err("0 D") == at2("expected <cycles> (usage: D <cycles>), got end of line"));
  CHECK(err("0 MAP 0x1000 0x1000") ==
        at2("expected <len> (usage: MAP <gva> <gpa> <len> [attrs]), got end of line"));
  CHECK(err("0 UNMAP 0x1000") == at2("expected <len> (usage: UNMAP <gva> <len>), got end of line"));
  CHECK(err("0 PVALIDATE 0x1000 4k") ==
        at2("expected <validate|rescind> (usage: PVALIDATE <gva> <4k|2m> <validate|rescind>), "
            "got end of line"));
  CHECK(err("0 RMPADJUST 0x1000 4k 1") ==
        at2("expected <perms> (usage: RMPADJUST <gva> <4k|2m> <vmpl> <perms>), got end of line"));
  CHECK(err("0 VMPL") == at2("expected <vmpl> (usage: VMPL <vmpl>), got end of line"));
  CHECK(err("0 PSC ghcb private") ==
        at2("expected <gpa>[:<4k|2m>] (usage: PSC <msr|ghcb> <op> <gpa>[:<4k|2m>] ...), got end "
            "of line"));
  CHECK(err("0 CONVERT 0x1000 0x1000") ==
        at2("expected <private|shared> (usage: CONVERT <gva> <len> <private|shared>), got end of "
            "line"));
  CHECK(err("0 HOST R") == at2("expected <gpa> (usage: HOST <R|W> <gpa> [size]), got end of line"));
  CHECK(err("0 HOST") == at2("expected <R|W> (usage: HOST <R|W> <gpa> [size]), got end of line"));
}

TEST_CASE("extra operands", "[text][errors]") {
  CHECK(err("0 R 0x10 8 9") == at2("expected end of line (usage: R <gva> [size]), got '9'"));
  CHECK(err("0 R 0x10 8 # no trailing comments") ==
        at2("expected end of line (usage: R <gva> [size]), got '#'"));
  CHECK(err("0 D 5 5") == at2("expected end of line (usage: D <cycles>), got '5'"));
  CHECK(err("0 VMPL 1 2") == at2("expected end of line (usage: VMPL <vmpl>), got '2'"));
  CHECK(err("0 UNMAP 0x1000 0x1000 private") ==
        at2("expected end of line (usage: UNMAP <gva> <len>), got 'private'"));
  CHECK(err("0 MAP 0x1000 0x1000 0x1000 4k rw") ==
        at2("expected end of line (usage: MAP <gva> <gpa> <len> [attrs]), got 'rw'"));
  CHECK(err("0 HOST R 0x10 8 8") ==
        at2("expected end of line (usage: HOST <R|W> <gpa> [size]), got '8'"));
}

TEST_CASE("bad keywords", "[text][errors]") {
  CHECK(err("0 MAP 0x1000 0x1000 0x1000 private,big") ==
        at2("unknown MAP attribute 'big' (expected private, shared, 4k, 2m, 1g, ro, rw, x or nx)"));
  CHECK(err("0 MAP 0x1000 0x1000 0x1000 private,") ==
        at2("unknown MAP attribute '' (expected private, shared, 4k, 2m, 1g, ro, rw, x or nx)"));
  CHECK(err("0 MAP 0x1000 0x1000 0x1000 private,shared") ==
        at2("conflicting MAP attributes 'private' and 'shared'"));
  CHECK(err("0 MAP 0x1000 0x1000 0x1000 4k,2m") == at2("conflicting MAP attributes '4k' and '2m'"));
  CHECK(err("0 PVALIDATE 0x1000 1g validate") == at2("expected 4k or 2m, got '1g'"));
  CHECK(err("0 PVALIDATE 0x1000 4k accept") == at2("expected validate or rescind, got 'accept'"));
  CHECK(err("0 RMPADJUST 0x1000 4k 1 r,rx") ==
        at2("unknown RMPADJUST permission 'rx' (expected r, w, xu, xs, vmsa or none)"));
  CHECK(err("0 RMPADJUST 0x1000 4k 1 r,none") ==
        at2("expected RMPADJUST permission 'none' alone, got 'r,none'"));
  CHECK(err("0 RMPADJUST 0x1000 4k 4 r") == at2("expected <vmpl> to be 0..3, got 4"));
  CHECK(err("0 VMPL 4") == at2("expected <vmpl> to be 0..3, got 4"));
  CHECK(err("0 PSC tdx private 0x1000") == at2("expected msr or ghcb, got 'tdx'"));
  CHECK(err("0 PSC msr accept 0x1000") ==
        at2("expected private, shared, psmash or unsmash, got 'accept'"));
  CHECK(err("0 PSC ghcb private 0x1000:1g") ==
        at2("expected a PSC entry <gpa>[:4k|2m], got '0x1000:1g'"));
  CHECK(err("0 PSC ghcb private 0x1000:") ==
        at2("expected a PSC entry <gpa>[:4k|2m], got '0x1000:'"));
  CHECK(err("0 CONVERT 0x1000 0x1000 public") == at2("expected private or shared, got 'public'"));
  CHECK(err("0 HOST X 0x1000") == at2("expected R or W, got 'X'"));
}

TEST_CASE("MAP, UNMAP and CONVERT alignment", "[text][errors]") {
  CHECK(err("0 MAP 0x1000 0x200000 0x200000 2m") ==
        at2("expected <gva> to be aligned to 2m (0x200000), got 0x1000"));
  CHECK(err("0 MAP 0x200000 0x201000 0x200000 2m") ==
        at2("expected <gpa> to be aligned to 2m (0x200000), got 0x201000"));
  CHECK(err("0 MAP 0x200000 0x200000 0x1000 2m") ==
        at2("expected <len> to be a non-zero multiple of 2m (0x200000), got 0x1000"));
  CHECK(err("0 MAP 0x1000 0x1000 0") ==
        at2("expected <len> to be a non-zero multiple of 4k (0x1000), got 0x0"));
  CHECK(err("0 MAP 0x40000000 0x0 0x40000000 1g").empty());
  CHECK(err("0 MAP 0x40000000 0x200000 0x40000000 1g") ==
        at2("expected <gpa> to be aligned to 1g (0x40000000), got 0x200000"));
  CHECK(err("0 MAP 0xfffffffffffff000 0x0 0x2000") ==
        at2("expected <gva> + <len> to be at most 2^64, got 0xfffffffffffff000 + 0x2000"));
  CHECK(err("0 MAP 0xfffffffffffff000 0x0 0x1000").empty());  // ends exactly at 2^64
  CHECK(err("0 UNMAP 0x1800 0x1000") ==
        at2("expected <gva> to be aligned to 4k (0x1000), got 0x1800"));
  CHECK(err("0 CONVERT 0x1000 0x1001 shared") ==
        at2("expected <len> to be a non-zero multiple of 4k (0x1000), got 0x1001"));
  CHECK(err("0 PSC ghcb private 0x201000:2m") ==
        at2("expected PSC entry <gpa> to be aligned to 2m (0x200000), got 0x201000"));
  CHECK(err("0 PSC ghcb private 0x1800") ==
        at2("expected PSC entry <gpa> to be aligned to 4k (0x1000), got 0x1800"));
}

TEST_CASE("PSC entry counts", "[text][errors]") {
  CHECK(err("0 PSC msr private 0x1000 0x2000") ==
        at2("expected exactly one PSC entry for msr, got 2"));
  CHECK(err("0 PSC msr private 0x200000:2m") == at2("expected a 4k PSC entry for msr, got 2m"));
  std::string many = "0 PSC ghcb shared";
  for (int i = 0; i < 254; ++i) many += " " + std::to_string(0x1000 * (i + 1));
  CHECK(err(many) == at2("expected 1..253 PSC entries for ghcb, got 254"));
}

TEST_CASE("errors name the right line", "[text][errors]") {
  std::string t = kMagic + "# c\n0 R 0x10\n\n0 R 0x20\n0 R 0x30 0\n0 R 0x40\n";
  CHECK(parse_error(t) == "t.rmpt:6: error: expected <size> to be at least 1, got 0");
  // Long tokens are cut, unprintable bytes escaped.
  CHECK(err("0 R 0x\x01\x7f") ==
        at2("expected <gva> as a decimal or 0x hex number, got '0x\\x01\\x7f'"));
  CHECK(err("0 " + std::string(50, 'Q')) ==
        at2("unknown op '" + std::string(40, 'Q') + "...' (expected " + kOps + ")"));
}

TEST_CASE("lines longer than 64 KiB are an error, shorter ones are fine", "[text][errors]") {
  std::string ok = "0 R 0x10" + std::string(60000, ' ');
  CHECK(err(ok).empty());
  std::string comment = "#" + std::string(70000, 'c');
  CHECK(parse_error(kMagic + "0 R 0x10\n" + comment + "\n") ==
        "t.rmpt:3: error: expected a line of at most 65536 bytes");
}

TEST_CASE("next_batch returns the same events as next", "[text]") {
  std::string t = kMagic;
  for (int i = 0; i < 5000; ++i) {
    t += std::to_string(i % 3) + " R " + std::to_string(i * 8) + "\n";
    if (i % 1000 == 7) t += "0 PSC ghcb private 0x1000 0x2000\n# c\n0 D 5\n";
  }
  std::vector<Owned> one_by_one = parse(t);
  TextReader r(memory_source(t), "t.rmpt");
  std::vector<Owned> batched;
  std::vector<Event> buf(64);
  while (std::size_t n = r.next_batch(buf.data(), buf.size())) {
    for (std::size_t i = 0; i < n; ++i) {
      // A PSC event is always the last of its batch.
      if (buf[i].op == Op::Psc) CHECK(i == n - 1);
      batched.push_back(own(buf[i]));
    }
  }
  CHECK(batched.size() == 5010);
  CHECK(batched == one_by_one);
}

TEST_CASE("next_run matches next, with lines, and stops before bad lines", "[text]") {
  std::string t = kMagic;
  for (int i = 0; i < 5000; ++i) {
    t += std::to_string(i % 3) + " R " + std::to_string(i * 8) + "\n";
    if (i % 1000 == 7) t += "0 PSC ghcb private 0x1000 0x2000\n# c\n\n0 D 5\n";
  }
  std::vector<std::pair<Owned, std::uint64_t>> expect, got;
  {
    TextReader r(memory_source(t), "t.rmpt");
    Event ev;
    while (r.next(ev)) expect.emplace_back(own(ev), r.line());
  }
  TextReader r(memory_source(t), "t.rmpt");
  std::vector<Event> buf(64);
  std::vector<std::uint64_t> lines(64);
  while (std::size_t n = r.next_run(buf.data(), lines.data(), buf.size())) {
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i].op == Op::Psc) CHECK(n == 1);
      got.emplace_back(own(buf[i]), lines[i]);
    }
    CHECK(r.line() == lines[n - 1]);
  }
  CHECK(got.size() == 5010);
  CHECK(got == expect);

  TextReader rb(memory_source(kMagic + "0 R 0x10\n# c\n0 R 0x20\n0 R 0x30 0\n0 R 0x40\n"), "t.rmpt");
  REQUIRE(rb.next_run(buf.data(), lines.data(), buf.size()) == 1);
  CHECK(lines[0] == 2);
  REQUIRE(rb.next_run(buf.data(), lines.data(), buf.size()) == 1);
  CHECK(lines[0] == 4);
  CHECK(error_of([&] { rb.next_run(buf.data(), lines.data(), buf.size()); }) ==
        "t.rmpt:5: error: expected <size> to be at least 1, got 0");
}

TEST_CASE("addresses that would alias a lower one are refused", "[text][errors][reliability]") {
  // Issue 14, item 4: a non-canonical GVA, a GPA at or above 2^51 (bit 51 of
  // a guest PTE is the C-bit), an access past 2^64 and a PSC entry beyond
  // the guest-physical limit used to be accepted and alias lower addresses.
  CHECK(err("0 R 0x0100000000000000") ==
        at2("expected <gva> range [0x100000000000000, 0x100000000000008) to be canonical "
            "(bits 63..56 of every address equal; x86-64 with 5-level paging)"));
  CHECK(err("0 W 0x00fffffffffffffc 8") ==
        at2("expected <gva> range [0xfffffffffffffc, 0x100000000000004) to be canonical "
            "(bits 63..56 of every address equal; x86-64 with 5-level paging)"));
  CHECK(err("0 X 0xfffffffffffffffc 8") ==
        at2("expected <gva> + <size> to be at most 2^64, got 0xfffffffffffffffc + 8"));
  CHECK(err("0 HOST W 0x8000000000000 8") ==
        at2("expected <gpa> range [0x8000000000000, 0x8000000000008) to lie below 2^51 "
            "(guest-physical addresses have 51 bits: bit 51 of a guest PTE is the C-bit)"));
  CHECK(err("0 PSC ghcb private 0x7ffffffe00000:2m 0x8000000000000") ==
        at2("expected PSC entry <gpa> range [0x8000000000000, 0x8000000001000) to lie below "
            "2^51 (guest-physical addresses have 51 bits: bit 51 of a guest PTE is the C-bit)"));
  CHECK(err("0 MAP 0x400000 0x7fffffffff000 0x2000") ==
        at2("expected <gpa> range [0x7fffffffff000, 0x8000000001000) to lie below 2^51 "
            "(guest-physical addresses have 51 bits: bit 51 of a guest PTE is the C-bit)"));
  CHECK(err("0 UNMAP 0x00fffffffffff000 0x2000") ==
        at2("expected <gva> range [0xfffffffffff000, 0x100000000001000) to be canonical "
            "(bits 63..56 of every address equal; x86-64 with 5-level paging)"));
  CHECK(err("0 PVALIDATE 0x8000000000000000 4k validate") ==
        at2("expected <gva> range [0x8000000000000000, 0x8000000000000001) to be canonical "
            "(bits 63..56 of every address equal; x86-64 with 5-level paging)"));
  // The edges that stay valid.
  CHECK(err("0 R 0x00fffffffffffff8").empty());
  CHECK(err("0 R 0xff00000000000000").empty());
  CHECK(err("0 HOST R 0x7fffffffffff8 8").empty());
  CHECK(err("0 MAP 0x400000 0x7fffffffff000 0x1000").empty());
}

TEST_CASE("issue 17 item 4: ROI begin/end lines", "[text]") {
  const Owned b = one("0 ROI begin");
  CHECK(b.ev.op == Op::Roi);
  CHECK(b.ev.attrs == 0);
  const Owned e = one("7\tROI   end  ");
  CHECK(e.ev.op == Op::Roi);
  CHECK(e.ev.vcpu == 7);
  CHECK(e.ev.attrs == kRoiEnd);
  CHECK(err("0 ROI") == at2("expected <begin|end> (usage: ROI <begin|end>), got end of line"));
  CHECK(err("0 ROI start") == at2("expected begin or end, got 'start'"));
  CHECK(err("0 ROI Begin") == at2("expected begin or end, got 'Begin'"));
  CHECK(err("0 ROI end 1") == at2("expected end of line (usage: ROI <begin|end>), got '1'"));
  CHECK(err("0 roi begin").find("unknown op 'roi'") != std::string::npos);
}
