#include "traces/champsim_reader.hpp"

#include <fmt/format.h>

#include "traces/binary_format.hpp"
#include "traces/event_checks.hpp"
#include "traces/input_error.hpp"

namespace rmpsim::trace {

namespace {
constexpr std::size_t kBufBytes = 64 * 1024;  // a multiple of the record size
constexpr std::size_t kDestOffset = 16;
constexpr std::size_t kSourceOffset = 32;
}  // namespace

ChampSimReader::ChampSimReader(std::unique_ptr<ByteSource> src, std::string name)
    : m_src(std::move(src)), m_name(std::move(name)), m_buf(new unsigned char[kBufBytes]) {
  m_cur = m_end = m_buf.get();
}

// Makes [m_cur, m_end) hold a whole record if the input has one; returns how
// many bytes it holds.
std::size_t ChampSimReader::fill() {
  return refill_at_least(*m_src, m_buf.get(), kBufBytes, m_cur, m_end, kRecordBytes);
}

bool ChampSimReader::decode_next_record() {
  const std::size_t have = fill();
  if (have == 0) return false;
  const std::uint64_t record = m_record + 1;
  if (have < kRecordBytes)
    throw InputError(
        m_name, record,
        fmt::format("truncated record (expected {} bytes, got {})", kRecordBytes, have));
  const unsigned char* p = m_cur;
  std::size_t n = 0;
  auto add = [&](Op op, std::uint64_t addr) {
    Event& ev = m_events[n++];
    ev = Event{};
    ev.op = op;
    ev.addr = addr;
    ev.size = 1;
    if (!access_ok(ev)) throw InputError(m_name, record, check_event(ev));
  };
  add(Op::Exec, binfmt::load64(p));
  for (std::size_t i = 0; i < kSources; ++i)
    if (std::uint64_t a = binfmt::load64(p + kSourceOffset + 8 * i)) add(Op::Read, a);
  for (std::size_t i = 0; i < kDestinations; ++i)
    if (std::uint64_t a = binfmt::load64(p + kDestOffset + 8 * i)) add(Op::Write, a);
  m_cur += kRecordBytes;
  m_record = record;
  m_next = 0;
  m_count = n;
  return true;
}

bool ChampSimReader::next(Event& ev) {
  if (m_next == m_count && !decode_next_record()) return false;
  ev = m_events[m_next++];
  return true;
}

}  // namespace rmpsim::trace
