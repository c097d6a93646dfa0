#include "traces/binary_reader.hpp"

#include <fmt/format.h>

#include <cstring>

#include "traces/binary_format.hpp"
#include "traces/event_checks.hpp"
#include "traces/input_error.hpp"

namespace rmpsim::trace {
using namespace binfmt;

namespace {

constexpr std::size_t kBufBytes = 256 * 1024;

std::string hex_bytes(const unsigned char* p, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{}{:02x}", i ? " " : "", p[i]);
  return out;
}

// The fast path: an access record (16 bytes, x = size >= 1, reserved 0).
inline bool decode_access(const unsigned char* p, Event& ev) {
  unsigned op = p[0];
  std::uint32_t size = load32(p + 4);
  if (op >= 32 || !((kAccessOpMask >> op) & 1) || p[1] != 0 || size == 0) return false;
  ev = Event{};
  ev.op = Op(op);
  ev.vcpu = load16(p + 2);
  ev.size = size;
  ev.addr = load64(p + 8);
  return access_ok(ev);  // else the slow path names what is wrong
}

}  // namespace

BinaryReader::BinaryReader(std::unique_ptr<ByteSource> src, std::string name)
    : m_src(std::move(src)), m_name(std::move(name)), m_buf(new unsigned char[kBufBytes]) {
  m_cur = m_end = m_buf.get();
  std::size_t have = fill(kHeaderBytes);
  const unsigned char* h = m_cur;
  if (have < kHeaderBytes)
    throw InputError(
        m_name, 0, fmt::format("truncated header (expected {} bytes, got {})", kHeaderBytes, have));
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0)
    throw InputError(
        m_name, 0,
        fmt::format("not an rmpsim binary trace (expected magic {}, got {})",
                    hex_bytes(reinterpret_cast<const unsigned char*>(kMagic), 8), hex_bytes(h, 8)));
  if (std::uint16_t v = load16(h + 8); v != kVersion)
    throw InputError(m_name, 0,
                     fmt::format("unsupported binary trace version {} (expected {})", v, kVersion));
  if (std::uint16_t f = load16(h + 10); f != 0)
    throw InputError(m_name, 0,
                     fmt::format("unsupported binary trace flags {:#x} (expected 0)", f));
  if (std::uint32_t r = load32(h + 12); r != 0)
    throw InputError(m_name, 0, fmt::format("expected header bytes 12..15 to be 0, got {:#x}", r));
  m_cur += kHeaderBytes;
}

void BinaryReader::fail(const std::string& what) const {
  throw InputError(m_name, m_record + 1, what);
}

// Makes [m_cur, m_end) hold at least `need` bytes if the input has them;
// returns how many it holds.
std::size_t BinaryReader::fill(std::size_t need) {
  return refill_at_least(*m_src, m_buf.get(), kBufBytes, m_cur, m_end, need);
}

bool BinaryReader::next(Event& ev) {
  if (m_end - m_cur >= std::ptrdiff_t(kHeadBytes) && decode_access(m_cur, ev)) {
    m_cur += kHeadBytes;
    ++m_record;
    return true;
  }
  return next_slow(ev);
}

std::size_t BinaryReader::next_batch(Event* out, std::size_t max) {
  std::size_t n = 0;
  while (n < max) {
    // Decode access records straight out of the buffer; leave everything
    // else (other ops, buffer ends, errors) to next_slow().
    const unsigned char* p = m_cur;
    const unsigned char* end = m_end;
    std::size_t start = n;
    while (n < max && end - p >= std::ptrdiff_t(kHeadBytes) && decode_access(p, out[n])) {
      p += kHeadBytes;
      ++n;
    }
    m_cur = p;
    m_record += n - start;
    if (n == max) break;
    if (!next_slow(out[n])) break;
    if (out[n++].op == Op::Psc) break;  // PSC entries: see trace_io.hpp
  }
  return n;
}

std::size_t BinaryReader::next_run(Event* out, std::uint64_t* lines, std::size_t max) {
  // A run of access records decoded straight out of the buffer (they have
  // passed every check once decoded); anything else, including a record
  // that would fail, ends the run and is read alone by the next call.
  std::size_t n = 0;
  const unsigned char* p = m_cur;
  const unsigned char* end = m_end;
  while (n < max && end - p >= std::ptrdiff_t(kHeadBytes) && decode_access(p, out[n])) {
    p += kHeadBytes;
    ++n;
    lines[n - 1] = m_record + n;
  }
  m_cur = p;
  m_record += n;
  if (n || max == 0) return n;
  if (!next_slow(out[0])) return 0;
  lines[0] = m_record;
  return 1;
}

bool BinaryReader::next_slow(Event& ev) {
  std::size_t have = fill(kHeadBytes);
  if (have == 0) return false;
  if (have < kHeadBytes)
    fail(fmt::format("truncated record (expected {} bytes, got {})", kHeadBytes, have));
  const unsigned char* p = m_cur;
  unsigned op_byte = p[0];
  if (op_byte >= unsigned(kOpCount))
    fail(fmt::format("unknown op byte {:#04x} (expected 0x00..{:#04x})", op_byte, kOpCount - 1));
  if (p[1] != 0) fail(fmt::format("expected record byte 1 (reserved) to be 0, got {:#04x}", p[1]));
  Op op = Op(op_byte);
  std::uint32_t x = load32(p + 4);
  std::uint64_t a = load64(p + 8);

  std::size_t need = kHeadBytes + tail_bytes(op);
  if (op == Op::Psc) {
    // The count comes from the file: bound it before it sizes anything.
    if (a < 1 || a > kPscMaxEntries) {
      if (psc_proto(x) == PscProto::Msr)
        fail(fmt::format("expected exactly one PSC entry for msr, got {}", a));
      fail(fmt::format("expected 1..{} PSC entries for ghcb, got {}", kPscMaxEntries, a));
    }
    need += 8 * std::size_t(a);
  }
  have = fill(need);
  if (have < need) fail(fmt::format("truncated record (expected {} bytes, got {})", need, have));
  p = m_cur;
  const unsigned char* tail = p + kHeadBytes;

  ev = Event{};
  ev.op = op;
  ev.vcpu = load16(p + 2);
  auto zero_x = [&] {
    if (x != 0)
      fail(fmt::format("expected record bytes 4..7 of {} to be 0, got {:#x}", op_name(op), x));
  };
  switch (op) {
    case Op::Read:
    case Op::Write:
    case Op::Exec:
    case Op::Modify:
    case Op::HostRead:
    case Op::HostWrite:
    case Op::HostMemRead:
    case Op::HostMemWrite:
      ev.size = x;
      ev.addr = a;
      break;
    case Op::Delay:
      zero_x();
      ev.len = a;
      break;
    case Op::Vmpl:
      zero_x();
      ev.addr = a;
      break;
    case Op::Pvalidate:
    case Op::Rmpadjust:
      ev.attrs = x;
      ev.addr = a;
      break;
    case Op::Unmap:
      zero_x();
      ev.addr = a;
      ev.len = load64(tail);
      break;
    case Op::Convert:
      ev.attrs = x;
      ev.addr = a;
      ev.len = load64(tail);
      break;
    case Op::Map:
      ev.attrs = x;
      ev.addr = a;
      ev.gpa = load64(tail);
      ev.len = load64(tail + 8);
      break;
    case Op::Roi:
    case Op::Rmpopt:
      if (a != 0)
        fail(fmt::format("expected record bytes 8..15 of {} to be 0, got {:#x}", op_name(op), a));
      ev.attrs = x;
      break;
    case Op::Psc:
      ev.attrs = x;
      ev.psc_count = std::uint16_t(a);
      ev.psc = m_psc.data();
      for (std::size_t i = 0; i < a; ++i) {
        std::uint64_t e = load64(tail + 8 * i);
        if (e & kEntryReservedMask)
          fail(fmt::format("expected bits 2..11 of PSC entry {} to be 0, got {:#x}", i + 1, e));
        m_psc[i] = PscEntry{e & ~std::uint64_t(0xfff), PageSize(e & kEntrySizeMask)};
      }
      break;
  }
  if (std::string e = check_event(ev); !e.empty()) fail(e);
  m_cur += need;
  ++m_record;
  return true;
}

}  // namespace rmpsim::trace
