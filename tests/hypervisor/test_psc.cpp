// GHCB Page State Change protocol core against snp-semantics §3, §4.2 and
// §6 rows 21-28. Expected values are written out by hand from the spec.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "models/hypervisor/psc.hpp"

using namespace rmpsim::hypervisor::psc;

namespace {

PscEntry ent(std::uint64_t gfn, unsigned op, bool huge, std::uint16_t cur_page = 0) {
  PscEntry e;
  e.gfn = gfn;
  e.op = static_cast<std::uint8_t>(op);
  e.huge = huge;
  e.cur_page = cur_page;
  return e;
}

PscBuffer make(std::vector<PscEntry> es, std::uint16_t cur_entry = 0) {
  PscBuffer b;
  b.header.cur_entry = cur_entry;
  b.header.end_entry = static_cast<std::uint16_t>(es.size() - 1);
  b.entries = std::move(es);
  return b;
}

// Runs a request to the end with userspace always succeeding; returns the
// exits and, in `cur_entries`, cur_entry as each exit was asked for.
std::vector<MapGpaRange> run_all(GhcbPscHandler& h, PscBuffer& b, Step& last,
                                 std::vector<unsigned>* cur_entries = nullptr) {
  std::vector<MapGpaRange> exits;
  Step s = h.begin(b);
  while (s.needs_exit()) {
    exits.push_back(s.exit);
    if (cur_entries) cur_entries->push_back(b.header.cur_entry);
    s = h.resume(0);
    REQUIRE(exits.size() <= kMaxEntries);
  }
  last = s;
  return exits;
}

std::vector<std::uint8_t> bytes_of(const PscBuffer& b) {
  std::vector<std::uint8_t> out(encoded_size(b));
  REQUIRE(encode(b, out.data(), out.size()) == out.size());
  return out;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<MapGpaRange> {
  static std::string convert(const MapGpaRange& x) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "{gpa %#llx, npages %llu, attrs %#llx}",
                  static_cast<unsigned long long>(x.gpa), static_cast<unsigned long long>(x.npages),
                  static_cast<unsigned long long>(x.attrs));
    return buf;
  }
};
}  // namespace Catch

// ---------------------------------------------------------------------------
// §6 rows 21-28

TEST_CASE("row 21: MSR PSC with an op other than 1/2 gets 0x8000_0000_0000_0015, no exit",
          "[psc][spec6]") {
  for (unsigned op : {0u, 3u, 4u, 5u, 15u}) {
    CAPTURE(op);
    const MsrPscOutcome o = kvm_msr_psc(msr_request(0x12345, op));
    CHECK(o.is_psc);
    CHECK_FALSE(o.needs_exit);
    CHECK(o.response == 0x8000'0000'0000'0015ull);
    CHECK_FALSE(linux_accepts_msr_response(o.response));
  }
  CHECK(kMsrPscRespError == 0x8000'0000'0000'0015ull);
  // Userspace did not enable MAP_GPA_RANGE exits: same error for a valid op (§4.2).
  const MsrPscOutcome off = kvm_msr_psc(msr_request(0x12345, 1), /*map_gpa_range_exits=*/false);
  CHECK_FALSE(off.needs_exit);
  CHECK(off.response == 0x8000'0000'0000'0015ull);
}

TEST_CASE("row 22: MSR PSC to private: one MAP_GPA_RANGE exit {g*4K, 1, 0x10}, then 0x015",
          "[psc][spec6]") {
  const std::uint64_t msr = msr_request(0x12345, 1);
  CHECK(msr == 0x0010'0000'1234'5014ull);  // op 1 in [55:52], GFN in [51:12], 0x014
  const MsrPscOutcome o = kvm_msr_psc(msr);
  CHECK(o.is_psc);
  REQUIRE(o.needs_exit);
  CHECK(o.exit == MapGpaRange{0x1234'5000, 1, 0x10});
  const std::uint64_t ok = kvm_msr_psc_complete(0);
  CHECK(ok == 0x015);
  CHECK(decode_msr_response(ok).is_psc_response);
  CHECK(decode_msr_response(ok).error == 0);
  CHECK(linux_accepts_msr_response(ok));
  // Userspace failure: 0x015 | bit 63.
  CHECK(kvm_msr_psc_complete(-22) == 0x8000'0000'0000'0015ull);
  CHECK(kvm_msr_psc_complete(1) == 0x8000'0000'0000'0015ull);
  // To shared: decrypted, 4K.
  const MsrPscOutcome sh = kvm_msr_psc(msr_request(0x12345, 2));
  REQUIRE(sh.needs_exit);
  CHECK(sh.exit == MapGpaRange{0x1234'5000, 1, 0x0});
}

TEST_CASE("row 23: 64 contiguous 2M to-shared entries: one exit {gpa0, 32768, 0x1}",
          "[psc][spec6]") {
  std::vector<PscEntry> es;
  for (unsigned i = 0; i < 64; ++i) es.push_back(ent(0x80000 + i * 512ull, 2, true));
  const PscBuffer guest = make(es);
  REQUIRE(guest.header.end_entry == 63);
  std::vector<std::uint8_t> scratch = bytes_of(guest);  // 8 + 64 * 8 bytes
  REQUIRE(scratch.size() == 520);

  DecodeResult d = decode(scratch.data(), scratch.size());
  REQUIRE(d.ok);
  GhcbPscHandler h;
  Step s = h.begin(d.buffer);
  REQUIRE(s.needs_exit());
  CHECK(s.exit == MapGpaRange{0x8000'0000, 32768, 0x1});
  s = h.resume(0);
  REQUIRE(s.done());
  CHECK(s.sw_exitinfo1 == 0);
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(h.stats().exits == 1);
  CHECK(h.stats().pages_forwarded == 32768);
  CHECK(h.stats().pages_done == 32768);

  // The guest sees the progress in its own bytes.
  REQUIRE(encode(d.buffer, scratch.data(), scratch.size()) == 520);
  CHECK(scratch[0] == 64);
  CHECK(scratch[1] == 0);
  CHECK(scratch[2] == 63);
  // Entry 0 word: 0x0120_0000_8000_0200 (cur_page 512, GFN 0x80000, op 2, 2M).
  const std::uint8_t e0[8] = {0x00, 0x02, 0x00, 0x80, 0x00, 0x00, 0x20, 0x01};
  CHECK(std::equal(e0, e0 + 8, scratch.begin() + 8));
  const DecodeResult after = decode(scratch.data(), scratch.size());
  REQUIRE(after.ok);
  CHECK(after.buffer.header.cur_entry == 64);
  for (const PscEntry& e : after.buffer.entries) CHECK(e.cur_page == 512);
  CHECK(linux_accepts(guest.header, after.buffer.header, s.sw_exitinfo2, s.sw_exitinfo1));
  CHECK_FALSE(linux_needs_another_vmgexit(after.buffer.header));
}

TEST_CASE("row 24: end_entry = 253 gives SW_EXITINFO2 0x1_0000_0001, nothing processed",
          "[psc][spec6]") {
  std::vector<std::uint8_t> scratch(2032, 0);
  scratch[2] = 253;  // end_entry
  for (std::size_t i = 0; i < 253; ++i) {
    const std::uint64_t w = pack(ent(i, 1, false));
    for (unsigned k = 0; k < 8; ++k)
      scratch[8 + i * 8 + k] = static_cast<std::uint8_t>(w >> (8 * k));
  }
  DecodeResult d = decode(scratch.data(), scratch.size());
  REQUIRE(d.ok);
  const PscBuffer before = d.buffer;
  GhcbPscHandler h;
  const Step s = h.begin(d.buffer);
  REQUIRE(s.done());
  CHECK(s.sw_exitinfo1 == 0);
  CHECK(s.sw_exitinfo2 == 0x1'0000'0001ull);
  CHECK(d.buffer.header == before.header);
  CHECK(d.buffer.entries == before.entries);
  CHECK(h.stats().exits == 0);

  // end_entry 0xffff with just a header: same answer.
  const std::uint8_t hdr[8] = {0, 0, 0xff, 0xff, 0, 0, 0, 0};
  DecodeResult d2 = decode(hdr, 8);
  REQUIRE(d2.ok);
  CHECK(h.begin(d2.buffer).sw_exitinfo2 == 0x1'0000'0001ull);
}

TEST_CASE("row 25: misaligned 2M GFN or cur_page beyond the entry: 0x1_0000_0002", "[psc][spec6]") {
  GhcbPscHandler h;
  Step s;
  SECTION("2M entry, GFN not 512-aligned") {
    PscBuffer b = make({ent(0x80001, 1, true)});
    CHECK(run_all(h, b, s).empty());
    CHECK(s.sw_exitinfo2 == 0x1'0000'0002ull);
    CHECK(b.header.cur_entry == 0);
    CHECK(b.entries[0].cur_page == 0);
  }
  SECTION("2M entry, cur_page 513") {
    PscBuffer b = make({ent(0x80000, 2, true, 513)});
    CHECK(run_all(h, b, s).empty());
    CHECK(s.sw_exitinfo2 == 0x1'0000'0002ull);
  }
  SECTION("4K entry, cur_page 2") {
    PscBuffer b = make({ent(0x10, 1, false, 2)});
    CHECK(run_all(h, b, s).empty());
    CHECK(s.sw_exitinfo2 == 0x1'0000'0002ull);
  }
  SECTION("2M entry misaligned even when partly processed") {
    PscBuffer b = make({ent(0x80100, 1, true, 0x100)});
    CHECK(run_all(h, b, s).empty());
    CHECK(s.sw_exitinfo2 == 0x1'0000'0002ull);
  }
  SECTION("a bad entry after a good run: the run is done, cur_entry stops at the bad one") {
    PscBuffer b = make({ent(0x10, 1, false), ent(0x11, 1, false), ent(0x201, 2, true)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 1);
    CHECK(exits[0] == MapGpaRange{0x10000, 2, 0x10});
    CHECK(s.sw_exitinfo2 == 0x1'0000'0002ull);
    CHECK(b.header.cur_entry == 2);
    CHECK(b.entries[0].cur_page == 1);
    CHECK(b.entries[1].cur_page == 1);
    CHECK(b.entries[2].cur_page == 0);
  }
  SECTION("cur_page equal to the page count is valid: the entry is skipped") {
    PscBuffer b = make({ent(0x80000, 1, true, 512), ent(0x10, 1, false, 1)});
    CHECK(run_all(h, b, s).empty());
    CHECK(s.sw_exitinfo2 == 0);
    CHECK(b.header.cur_entry == 2);
  }
}

TEST_CASE("row 26: only PSMASH/UNSMASH entries: marked complete, no exit, SW_EXITINFO2 0",
          "[psc][spec6]") {
  PscBuffer b =
      make({ent(0x200, 3, true), ent(0x400, 4, true), ent(0x5, 3, false), ent(0x7, 4, false)});
  GhcbPscHandler h;
  Step s;
  CHECK(run_all(h, b, s).empty());
  CHECK(s.sw_exitinfo1 == 0);
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(b.header.cur_entry == 4);
  CHECK(b.entries[0].cur_page == 512);
  CHECK(b.entries[1].cur_page == 512);
  CHECK(b.entries[2].cur_page == 1);
  CHECK(b.entries[3].cur_page == 1);
  CHECK(h.stats().exits == 0);
  CHECK(h.stats().noop_entries == 4);
  CHECK(h.stats().pages_forwarded == 0);
}

TEST_CASE("row 27: userspace fails a run: SW_EXITINFO2 0x100_0000_0000, the guest gives up",
          "[psc][spec6]") {
  GhcbPscHandler h;
  SECTION("first run fails") {
    PscBuffer b = make({ent(0x10, 1, false), ent(0x20, 2, false)});
    const PscHeader before = b.header;
    Step s = h.begin(b);
    REQUIRE(s.needs_exit());
    CHECK(s.exit == MapGpaRange{0x10000, 1, 0x10});
    s = h.resume(-22);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo2 == 0x100'0000'0000ull);
    CHECK(b.header.cur_entry == 0);
    CHECK(b.entries[0].cur_page == 0);
    CHECK_FALSE(linux_accepts(before, b.header, s.sw_exitinfo2));
    CHECK_FALSE(h.in_flight());
  }
  SECTION("second run fails: the first stays done") {
    PscBuffer b = make({ent(0x10, 1, false), ent(0x20, 2, false)});
    Step s = h.begin(b);
    REQUIRE(s.needs_exit());
    s = h.resume(0);
    REQUIRE(s.needs_exit());
    CHECK(s.exit == MapGpaRange{0x20000, 1, 0x0});
    s = h.resume(1);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo2 == 0x100'0000'0000ull);
    CHECK(b.header.cur_entry == 1);
    CHECK(b.entries[0].cur_page == 1);
    CHECK(b.entries[1].cur_page == 0);
    CHECK(h.stats().pages_done == 1);
  }
  SECTION("MAP_GPA_RANGE exits not enabled: generic error, nothing touched (§4.2)") {
    GhcbPscHandler off(/*map_gpa_range_exits=*/false);
    PscBuffer b = make({ent(0x10, 1, false)});
    const Step s = off.begin(b);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo2 == 0x100'0000'0000ull);
    CHECK(b.header.cur_entry == 0);
  }
}

TEST_CASE("row 28: Linux rejects cur_entry going back or end_entry growing", "[psc][spec6]") {
  const PscHeader before{2, 5, 0};
  CHECK(linux_accepts(before, PscHeader{6, 5, 0}, 0));
  CHECK(linux_accepts(before, PscHeader{2, 5, 0}, 0));        // no progress: the guest retries
  CHECK(linux_accepts(before, PscHeader{3, 4, 0}, 0));        // end_entry shrank: not checked
  CHECK_FALSE(linux_accepts(before, PscHeader{1, 5, 0}, 0));  // cur_entry decreased
  CHECK_FALSE(linux_accepts(before, PscHeader{6, 6, 0}, 0));  // end_entry increased
  CHECK_FALSE(linux_accepts(before, PscHeader{6, 5, 1}, 0));  // reserved set
  CHECK_FALSE(linux_accepts(before, PscHeader{6, 5, 0}, 0x1'0000'0002ull));
  CHECK_FALSE(linux_accepts(before, PscHeader{6, 5, 0}, 3, /*sw_exitinfo1=*/2));
  CHECK(linux_needs_another_vmgexit(PscHeader{5, 5, 0}));
  CHECK_FALSE(linux_needs_another_vmgexit(PscHeader{6, 5, 0}));
}

// ---------------------------------------------------------------------------
// Encoding and decoding

TEST_CASE("psc: header and entry byte layout, little-endian", "[psc]") {
  const std::uint8_t hdr[8] = {0x02, 0x01, 0x04, 0x03, 0x08, 0x07, 0x06, 0x05};
  const DecodeResult d = decode(hdr, 8);  // end_entry 0x0304 >= 253: decodes, no entries
  REQUIRE(d.ok);
  CHECK(d.buffer.header.cur_entry == 0x0102);
  CHECK(d.buffer.header.end_entry == 0x0304);
  CHECK(d.buffer.header.reserved == 0x0506'0708u);
  CHECK(d.buffer.entries.empty());

  // cur_page 3, GFN 0x12345, op 2, 2M: word 0x0120_0000_1234_5003.
  const std::uint8_t one[16] = {0,    0,    0,    0,    0,    0,    0,    0,
                                0x03, 0x50, 0x34, 0x12, 0x00, 0x00, 0x20, 0x01};
  const DecodeResult e = decode(one, 16);
  REQUIRE(e.ok);
  REQUIRE(e.buffer.entries.size() == 1);
  const PscEntry& x = e.buffer.entries[0];
  CHECK(x.cur_page == 3);
  CHECK(x.gfn == 0x12345);
  CHECK(x.op == 2);
  CHECK(x.huge);
  CHECK(x.reserved == 0);
  CHECK(pack(x) == 0x0120'0000'1234'5003ull);
}

TEST_CASE("psc: every field at its limits", "[psc]") {
  std::vector<std::uint8_t> all(16, 0xff);
  all[2] = 0;  // end_entry = 0; every other bit set
  all[3] = 0;
  const DecodeResult d = decode(all.data(), all.size());
  REQUIRE(d.ok);
  CHECK(d.buffer.header.cur_entry == 0xffff);
  CHECK(d.buffer.header.end_entry == 0);
  CHECK(d.buffer.header.reserved == 0xffff'ffffu);
  const PscEntry& x = d.buffer.entries.at(0);
  CHECK(x.cur_page == 0xfff);
  CHECK(x.gfn == 0xff'ffff'ffffull);
  CHECK(x.op == 15);
  CHECK(x.huge);
  CHECK(x.reserved == 0x7f);
  CHECK(pack(x) == ~0ull);
  std::vector<std::uint8_t> back(16, 0);
  REQUIRE(encode(d.buffer, back.data(), back.size()) == 16);
  CHECK(back == all);

  // pack() cuts oversized fields to their widths.
  PscEntry big;
  big.cur_page = 0xffff;
  big.gfn = ~0ull;
  big.op = 0xff;
  big.reserved = 0xff;
  CHECK(pack(big) == (0xfffull | 0xff'ffff'ffffull << 12 | 0xfull << 52 | 0x7full << 57));
  CHECK(unpack(0) == PscEntry{});

  // Highest GFN in an MSR request and in an exit.
  CHECK(msr_request(~0ull, 0xff) == 0x00ff'ffff'ffff'f014ull);
  const MsrRequest r = decode_msr_request(~0ull);
  CHECK_FALSE(r.is_psc);
  CHECK(r.info == 0xfff);
  CHECK(r.gfn == 0xff'ffff'ffffull);
  CHECK(r.op == 15);
  CHECK(r.reserved == 0xff);
  // Reserved bits [63:56] are ignored, as KVM does.
  const MsrPscOutcome o = kvm_msr_psc(0xff10'0000'1234'5014ull);
  REQUIRE(o.needs_exit);
  CHECK(o.exit == MapGpaRange{0x1234'5000, 1, 0x10});
  const MsrPscOutcome top = kvm_msr_psc(msr_request(0xff'ffff'ffffull, 2));
  REQUIRE(top.needs_exit);
  CHECK(top.exit.gpa == 0xf'ffff'ffff'f000ull);
  // Another GHCBInfo code is not a PSC request: no action, value unchanged.
  const MsrPscOutcome other = kvm_msr_psc(0x012);
  CHECK_FALSE(other.is_psc);
  CHECK_FALSE(other.needs_exit);
  CHECK(other.response == 0x012);

  // Largest GHCB-page descriptor: 253 entries, 2032 bytes, last entry processed.
  std::vector<PscEntry> es;
  for (unsigned i = 0; i < 253; ++i) es.push_back(ent(i * 2ull, 1, false));  // no coalescing
  PscBuffer b = make(es);
  REQUIRE(encoded_size(b) == 2032);
  GhcbPscHandler h;
  Step s;
  CHECK(run_all(h, b, s).size() == 253);
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(b.header.cur_entry == 253);
  CHECK(b.entries[252].cur_page == 1);
}

TEST_CASE("psc: decode/encode round trip", "[psc]") {
  std::mt19937_64 rng(20240501);
  for (int iter = 0; iter < 500; ++iter) {
    const std::size_t n = 1 + rng() % 253;
    std::vector<std::uint8_t> raw(8 + 8 * n);
    for (auto& v : raw) v = static_cast<std::uint8_t>(rng());
    raw[2] = static_cast<std::uint8_t>(rng() % n);  // end_entry inside the buffer
    raw[3] = 0;
    const DecodeResult d = decode(raw.data(), raw.size());
    REQUIRE(d.ok);
    REQUIRE(d.buffer.entries.size() == n);
    std::vector<std::uint8_t> back(raw.size());
    REQUIRE(encode(d.buffer, back.data(), back.size()) == raw.size());
    REQUIRE(back == raw);
  }
  // Guest-side: encode then decode gives the same structure.
  PscBuffer b = make({ent(0x200, 1, true, 17), ent(0x5, 2, false), ent(0x6, 4, false)}, 1);
  b.entries[1].reserved = 0x55;
  b.header.reserved = 9;
  const auto bytes = bytes_of(b);
  const DecodeResult d = decode(bytes.data(), bytes.size());
  REQUIRE(d.ok);
  CHECK(d.buffer.header == b.header);
  CHECK(d.buffer.entries == b.entries);
}

TEST_CASE("psc: scratch length checks (GHCB-level error 2/3)", "[psc]") {
  auto invalid = [](const DecodeResult& d) {
    return !d.ok && d.sw_exitinfo1 == 2 && d.sw_exitinfo2 == 3;
  };
  std::vector<std::uint8_t> buf(2100, 0);  // end_entry 0 unless set
  CHECK(invalid(decode(nullptr, 0)));
  CHECK(invalid(decode(nullptr, 16)));
  for (std::size_t len = 0; len < 8; ++len) CHECK(invalid(decode(buf.data(), len)));
  // end_entry 0 needs 16 bytes.
  for (std::size_t len = 8; len < 16; ++len) CHECK(invalid(decode(buf.data(), len)));
  CHECK(decode(buf.data(), 16).ok);
  // end_entry 1 needs 24; 17 bytes hold one entry and a stray byte.
  buf[2] = 1;
  CHECK(invalid(decode(buf.data(), 17)));
  CHECK(invalid(decode(buf.data(), 23)));
  CHECK(decode(buf.data(), 24).ok);
  buf[2] = 0;
  const DecodeResult odd = decode(buf.data(), 17);
  REQUIRE(odd.ok);
  CHECK(odd.buffer.entries.size() == 1);
  // end_entry 252 needs the whole 2032-byte shared buffer.
  buf[2] = 252;
  CHECK(invalid(decode(buf.data(), 2031)));
  const DecodeResult full = decode(buf.data(), 2032);
  REQUIRE(full.ok);
  CHECK(full.buffer.entries.size() == 253);
  // Larger than the shared buffer: invalid whatever the header says.
  buf[2] = 0;
  CHECK(invalid(decode(buf.data(), 2033)));
  CHECK(invalid(decode(buf.data(), 2100)));
  // end_entry far beyond the supplied length.
  buf[2] = 200;
  CHECK(invalid(decode(buf.data(), 64)));
  // end_entry >= 253 is the handler's to reject, with any length that holds a header.
  buf[2] = 253;
  CHECK(decode(buf.data(), 8).ok);
  // Encoding into too small a buffer writes nothing.
  PscBuffer b = make({ent(1, 1, false), ent(2, 1, false)});
  std::vector<std::uint8_t> out(23, 0xaa);
  CHECK(encode(b, out.data(), out.size()) == 0);
  CHECK(std::all_of(out.begin(), out.end(), [](std::uint8_t v) { return v == 0xaa; }));
  CHECK(encode(b, nullptr, 100) == 0);
}

// ---------------------------------------------------------------------------
// Handler: coalescing, partial entries, hostile changes

TEST_CASE("psc: coalescing across 4K and 2M entries, op changes, gaps and skips", "[psc]") {
  PscBuffer b = make({
      ent(0x100, 1, false), ent(0x101, 1, false), ent(0x102, 1, false),  // 0-2: one 4K run
      ent(0x200, 1, true), ent(0x400, 1, true),    // 3-4: size changes, then 2M run
      ent(0x600, 1, false),                        // 5: contiguous but 4K
      ent(0x601, 2, false), ent(0x602, 2, false),  // 6-7: op changes
      ent(0x604, 2, false),                        // 8: gap
      ent(0x605, 3, false),                        // 9: PSMASH, no exit
      ent(0x606, 2, false),                        // 10
      ent(0x800, 2, true, 1),                      // 11: partial 2M: by 4K, alone
      ent(0xa00, 2, true),                         // 12: contiguous, not merged
      ent(0xc00, 2, false, 1),                     // 13: already done
      ent(0xc01, 2, false),                        // 14
  });
  GhcbPscHandler h;
  Step s;
  std::vector<unsigned> at;
  const auto exits = run_all(h, b, s, &at);
  const std::vector<MapGpaRange> want = {
      {0x100000, 3, 0x10},  {0x200000, 1024, 0x11}, {0x600000, 1, 0x10},
      {0x601000, 2, 0x0},   {0x604000, 1, 0x0},     {0x606000, 1, 0x0},
      {0x801000, 511, 0x1}, {0xa00000, 512, 0x1},   {0xc01000, 1, 0x0},  // 2M flag: item 7
  };
  CHECK(exits == want);
  CHECK(at == std::vector<unsigned>{0, 3, 5, 6, 8, 10, 11, 12, 14});
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(b.header.cur_entry == 15);
  const std::vector<unsigned> pages = {1, 1, 1, 512, 512, 1, 1, 1, 1, 1, 1, 512, 512, 1, 1};
  for (std::size_t i = 0; i < pages.size(); ++i) {
    CAPTURE(i);
    CHECK(b.entries[i].cur_page == pages[i]);
  }
  CHECK(h.stats().exits == 9);
  CHECK(h.stats().pages_forwarded == 2056);
  CHECK(h.stats().pages_done == 2056);
  CHECK(h.stats().noop_entries == 1);
}

// The remainders below carry the 2M size flag: see "issue 15 item 7" below.
TEST_CASE("psc: a partly processed 2M entry is finished at 4K and not merged", "[psc]") {
  GhcbPscHandler h;
  Step s;
  SECTION("followed by a contiguous 2M entry") {
    PscBuffer b = make({ent(0x400, 1, true, 100), ent(0x600, 1, true)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 2);
    CHECK(exits[0] == MapGpaRange{0x464000, 412, 0x11});
    CHECK(exits[1] == MapGpaRange{0x600000, 512, 0x11});
    CHECK(b.entries[0].cur_page == 512);
    CHECK(b.entries[1].cur_page == 512);
    CHECK(b.header.cur_entry == 2);
    CHECK(s.sw_exitinfo2 == 0);
  }
  SECTION("followed by a 4K entry at its end") {
    PscBuffer b = make({ent(0x400, 2, true, 100), ent(0x600, 2, false)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 2);
    CHECK(exits[0] == MapGpaRange{0x464000, 412, 0x1});
    CHECK(exits[1] == MapGpaRange{0x600000, 1, 0x0});
  }
  SECTION("one page left") {
    PscBuffer b = make({ent(0x400, 1, true, 511)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 1);
    CHECK(exits[0] == MapGpaRange{0x5ff000, 1, 0x11});
    CHECK(b.entries[0].cur_page == 512);
  }
  SECTION("preceded by a 2M run that ends where it starts") {
    PscBuffer b = make({ent(0x200, 1, true), ent(0x400, 1, true, 3)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 2);
    CHECK(exits[0] == MapGpaRange{0x200000, 512, 0x11});
    CHECK(exits[1] == MapGpaRange{0x403000, 509, 0x11});
  }
}

TEST_CASE("issue 15 item 7: the remainder of a partly processed 2M entry keeps the 2M size flag",
          "[psc][issue15]") {
  // snp_begin_psc (arch/x86/kvm/svm/sev.c) finishes the remainder page by
  // page (its local `huge` is cleared, so nothing is merged with it), but
  // args[2] takes the size from entry_start.pagesize: KVM_MAP_GPA_RANGE_PAGE_SZ_2M.
  GhcbPscHandler h;
  Step s;
  SECTION("to private") {
    PscBuffer b = make({ent(0x800, 1, true, 7)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 1);
    CHECK(exits[0].gpa == 0x807000);
    CHECK(exits[0].npages == 505);
    CHECK(exits[0].attrs == (kMapGpaRangeEncrypted | kMapGpaRangePageSz2M));
  }
  SECTION("to shared, followed by a 4K entry that is not merged and keeps its 4K flag") {
    PscBuffer b = make({ent(0x800, 2, true, 511), ent(0xa00, 2, false)});
    const auto exits = run_all(h, b, s);
    REQUIRE(exits.size() == 2);
    CHECK(exits[0] == MapGpaRange{0x9ff000, 1, kMapGpaRangeDecrypted | kMapGpaRangePageSz2M});
    CHECK(exits[1] == MapGpaRange{0xa00000, 1, kMapGpaRangeDecrypted | kMapGpaRangePageSz4K});
  }
  CHECK(s.sw_exitinfo2 == kPscOk);
}

TEST_CASE("psc: cur_entry is honoured and nothing before it is touched", "[psc]") {
  GhcbPscHandler h;
  Step s;
  PscBuffer b =
      make({ent(0x10, 1, false), ent(0x11, 1, false), ent(0x12, 1, false), ent(0x13, 1, false)}, 2);
  const auto exits = run_all(h, b, s);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0] == MapGpaRange{0x12000, 2, 0x10});
  CHECK(b.entries[0].cur_page == 0);
  CHECK(b.entries[1].cur_page == 0);
  CHECK(b.header.cur_entry == 4);
  // cur_entry past end_entry: nothing to do, success, header unchanged.
  PscBuffer done = make({ent(0x10, 1, false)}, 7);
  CHECK(run_all(h, done, s).empty());
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(done.header.cur_entry == 7);
  CHECK(done.entries[0].cur_page == 0);
}

TEST_CASE("psc: a guest changing its buffer between exits cannot break the handler", "[psc]") {
  GhcbPscHandler h;
  PscBuffer b = make({ent(0x10, 1, false), ent(0x20, 1, false), ent(0x30, 1, false)});
  Step s = h.begin(b);
  REQUIRE(s.needs_exit());
  SECTION("end_entry raised to 300: the run completes, then invalid header") {
    b.header.end_entry = 300;
    s = h.resume(0);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo2 == 0x1'0000'0001ull);
    CHECK(b.entries[0].cur_page == 1);
  }
  SECTION("end_entry moved past the scratch area: invalid scratch") {
    b.header.end_entry = 3;
    s = h.resume(0);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo1 == 2);
    CHECK(s.sw_exitinfo2 == 3);
  }
  SECTION("entries vanish: no access outside them") {
    b.entries.clear();
    s = h.resume(0);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo1 == 2);
    CHECK(s.sw_exitinfo2 == 3);
  }
  SECTION("cur_entry rewound during an exit: completion sets it past the run") {
    s = h.resume(0);
    REQUIRE(s.needs_exit());  // entry 1
    b.header.cur_entry = 0;
    b.entries[0].cur_page = 0;
    s = h.resume(0);
    REQUIRE(s.needs_exit());
    CHECK(s.exit == MapGpaRange{0x30000, 1, 0x10});
    CHECK(b.header.cur_entry == 2);
    s = h.resume(0);
    REQUIRE(s.done());
    CHECK(s.sw_exitinfo2 == 0);
    CHECK(b.entries[0].cur_page == 0);  // the guest's rewrite stays
    // The guest asking again from entry 0 gets entry 0 redone only.
    b.header.cur_entry = 0;
    Step again;
    const auto exits = run_all(h, b, again);
    REQUIRE(exits.size() == 1);
    CHECK(exits[0] == MapGpaRange{0x10000, 1, 0x10});
    CHECK(b.header.cur_entry == 3);
  }
  SECTION("resume with no exit in flight: generic error, nothing changed") {
    s = h.resume(1);
    REQUIRE(s.done());
    const PscBuffer snap = b;
    s = h.resume(0);
    CHECK(s.done());
    CHECK(s.sw_exitinfo2 == 0x100'0000'0000ull);
    CHECK(b.entries == snap.entries);
    GhcbPscHandler fresh;
    CHECK(fresh.resume(0).sw_exitinfo2 == 0x100'0000'0000ull);
  }
}

TEST_CASE("psc: undefined ops 0 and 5..15 are completed like PSMASH, no exit", "[psc]") {
  PscBuffer b =
      make({ent(0x10, 0, false), ent(0x11, 5, false), ent(0x12, 15, false), ent(0x13, 1, false)});
  GhcbPscHandler h;
  Step s;
  const auto exits = run_all(h, b, s);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0] == MapGpaRange{0x13000, 1, 0x10});
  CHECK(s.sw_exitinfo2 == 0);
  CHECK(h.stats().noop_entries == 3);
}

// ---------------------------------------------------------------------------
// Randomized

TEST_CASE("psc: random valid requests against an independent page oracle", "[psc][random]") {
  std::mt19937_64 rng(77);
  for (int iter = 0; iter < 300; ++iter) {
    const std::size_t n = 1 + rng() % 64;
    std::vector<PscEntry> es;
    std::uint64_t gfn = (rng() % 1024) * 512;
    for (std::size_t i = 0; i < n; ++i) {
      const bool huge = rng() % 3 == 0;
      if (huge) gfn = (gfn + 511) & ~511ull;
      if (rng() % 4 == 0) gfn += huge ? 512 : 1 + rng() % 3;  // a gap
      const unsigned op = rng() % 8 == 0 ? 3 + rng() % 2 : 1 + rng() % 2;
      std::uint16_t cur = 0;
      if (rng() % 6 == 0) cur = static_cast<std::uint16_t>(rng() % ((huge ? 512 : 1) + 1));
      es.push_back(ent(gfn, op, huge, cur));
      gfn += huge ? 512 : 1;
    }
    const std::uint16_t start = static_cast<std::uint16_t>(rng() % (n + 1));
    PscBuffer b = make(es, start);
    // Oracle: every unprocessed page of an op 1/2 entry from cur_entry on,
    // exactly once, with its direction.
    std::vector<std::pair<std::uint64_t, bool>> want, got;
    for (std::size_t i = start; i < n; ++i) {
      const PscEntry& e = es[i];
      if (e.op != 1 && e.op != 2) continue;
      for (std::uint32_t p = e.cur_page; p < e.page_count(); ++p)
        want.push_back({e.gfn + p, e.op == 1});
    }
    GhcbPscHandler h;
    Step s;
    const auto exits = run_all(h, b, s);
    for (const MapGpaRange& x : exits) {
      REQUIRE((x.gpa & 0xfff) == 0);
      REQUIRE(x.npages >= 1);
      // A 2M-flagged exit is whole 2M entries, or the remainder of one
      // partly processed 2M entry, which ends at its 2M boundary (item 7).
      if (x.attrs & kMapGpaRangePageSz2M) {
        const std::uint64_t g = x.gpa >> 12;
        const bool whole = g % 512 == 0 && x.npages % 512 == 0;
        const bool remainder = g % 512 != 0 && g % 512 + x.npages == 512;
        REQUIRE((whole || remainder));
      }
      for (std::uint64_t p = 0; p < x.npages; ++p)
        got.push_back({(x.gpa >> 12) + p, x.to_private()});
    }
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    REQUIRE(got == want);
    REQUIRE(s.sw_exitinfo2 == 0);
    REQUIRE(b.header.cur_entry == n);
    for (std::size_t i = start; i < n; ++i)
      REQUIRE(b.entries[i].cur_page == b.entries[i].page_count());
    REQUIRE(h.stats().pages_forwarded == want.size());
    REQUIRE(exits.size() <= n - start);
  }
}

TEST_CASE("psc: random bytes and lengths never crash, never read outside, always terminate",
          "[psc][random]") {
  std::mt19937_64 rng(0x5eed'2024);
  int decoded = 0, exited = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::size_t len;
    switch (rng() % 3) {
      case 0:
        len = rng() % 2100;
        break;
      case 1:
        len = 8 + 8 * (rng() % 254);
        break;
      default:
        len = 8 + 8 * (rng() % 254) + rng() % 8;
        break;
    }
    std::vector<std::uint8_t> bytes(len);  // exactly len: ASan sees any overread
    for (auto& v : bytes) v = static_cast<std::uint8_t>(rng());
    if (len >= 8 && len <= kSharedBufferBytes && rng() % 4 != 0) {
      // Steer most buffers past the length checks into the handler.
      const std::size_t fit = (len - 8) / 8;
      const std::uint16_t end = fit ? static_cast<std::uint16_t>(rng() % fit) : 0;
      bytes[2] = static_cast<std::uint8_t>(end);
      bytes[3] = static_cast<std::uint8_t>(end >> 8);
      bytes[0] = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : 0);
      bytes[1] = 0;
      std::uint64_t gfn = rng() % 4096 * 512;
      for (std::size_t i = 0; i < fit && rng() % 8 != 0; ++i) {
        PscEntry e = unpack(0);
        e.huge = rng() % 2;
        e.op = static_cast<std::uint8_t>(rng() % 5 == 0 ? rng() % 16 : 1 + rng() % 2);
        e.gfn = rng() % 16 == 0 ? rng() & kGfnMask : gfn;
        e.cur_page = static_cast<std::uint16_t>(rng() % 4 == 0 ? rng() % 0x1000 : 0);
        e.reserved = static_cast<std::uint8_t>(rng() % 8 == 0 ? rng() : 0);
        gfn += e.huge ? 512 : 1;
        const std::uint64_t w = pack(e);
        for (unsigned k = 0; k < 8; ++k)
          bytes[8 + i * 8 + k] = static_cast<std::uint8_t>(w >> (8 * k));
      }
    }
    DecodeResult d = decode(len ? bytes.data() : nullptr, len);
    if (!d.ok) {
      REQUIRE(d.sw_exitinfo1 == 2);
      REQUIRE(d.sw_exitinfo2 == 3);
      continue;
    }
    ++decoded;
    const PscHeader before = d.buffer.header;
    const std::size_t n_entries = d.buffer.entries.size();
    GhcbPscHandler h;
    Step s = h.begin(d.buffer);
    int steps = 0, mutations = 0;
    while (s.needs_exit()) {
      ++exited;
      REQUIRE(s.exit.npages >= 1);
      REQUIRE(s.exit.npages <= kMaxEntries * 512);
      REQUIRE((s.exit.attrs & ~0x11ull) == 0);
      if (mutations < 3 && rng() % 16 == 0) {  // a hostile guest edits its buffer
        ++mutations;
        PscBuffer& b = d.buffer;
        switch (rng() % 4) {
          case 0:
            b.header.end_entry = static_cast<std::uint16_t>(rng());
            break;
          case 1:
            b.header.cur_entry = static_cast<std::uint16_t>(rng() % 300);
            break;
          case 2:
            if (!b.entries.empty()) b.entries[rng() % b.entries.size()] = unpack(rng());
            break;
          default:
            b.entries.resize(rng() % (b.entries.size() + 1));
            break;
        }
      }
      const std::int64_t ret = rng() % 10 == 0 ? static_cast<std::int64_t>(rng() % 200) - 100 : 0;
      s = h.resume(ret);
      REQUIRE(++steps <= 254 * 4);
    }
    const std::uint64_t x2 = s.sw_exitinfo2;
    if (s.sw_exitinfo1 == 2) {
      REQUIRE(x2 == 3);
    } else {
      REQUIRE(s.sw_exitinfo1 == 0);
      REQUIRE(
          (x2 == 0 || x2 == kPscInvalidHeader || x2 == kPscInvalidEntry || x2 == kPscGenericError));
    }
    if (mutations == 0) {
      if (x2 == 0 && before.end_entry < kMaxEntries)
        REQUIRE(d.buffer.header.cur_entry > d.buffer.header.end_entry);
      REQUIRE(linux_accepts(before, d.buffer.header, x2, s.sw_exitinfo1) ==
              (x2 == 0 && before.reserved == 0));
      // Writing the progress back fits the guest's scratch area.
      REQUIRE(d.buffer.entries.size() == n_entries);
      REQUIRE(encode(d.buffer, bytes.data(), len) == 8 + 8 * n_entries);
    }
  }
  // The generator must actually reach the handler and its exits.
  CHECK(decoded > 1000);
  CHECK(exited > 1000);
}
