#include "traces/lackey_reader.hpp"

#include <fmt/format.h>

#include <cstring>

#include "traces/event_checks.hpp"
#include "traces/input_error.hpp"
#include "traces/numbers.hpp"

namespace rmpsim::trace {
using namespace text;

namespace {

// Lackey prints "I  addr,size" for instruction fetches and " L", " S", " M"
// for loads, stores and modifies (a load and a store to the same address).
bool lackey_op(char c, Op& op) {
  switch (c) {
    case 'I':
      op = Op::Exec;
      return true;
    case 'L':
      op = Op::Read;
      return true;
    case 'S':
      op = Op::Write;
      return true;
    case 'M':
      op = Op::Modify;
      return true;
    default:
      return false;
  }
}

}  // namespace

LackeyReader::LackeyReader(std::unique_ptr<ByteSource> src, std::string name)
    : m_src(std::move(src)), m_name(std::move(name)), m_buf(*m_src, m_name) {}

void LackeyReader::fail(const std::string& what) const { throw InputError(m_name, m_line, what); }

bool LackeyReader::parse_line(const char*& p, Event& ev) {
  const char* start = p;
  const char* s = skip_blanks(p);
  if ((p[0] == '=' && p[1] == '=') || *s == '\n' || (*s == '\r' && s[1] == '\n')) {
    p = static_cast<const char*>(std::memchr(s, '\n', std::size_t(m_buf.end - s))) + 1;
    m_buf.check_length(start, p, m_line);
    return false;
  }
  Op op = Op::Read;
  bool access = lackey_op(*s, op);
  std::uint64_t addr = 0, size = 0;
  NumStatus st = NumStatus::Bad;
  const char* num = nullptr;
  bool in_size = false;  // which number an overflow is in
  if (access && is_blank(s[1])) {
    num = skip_blanks(s + 1);
    const char* q = num;
    st = scan_hex_digits_fast(q, addr);
    if (st == NumStatus::Ok) {
      if (*q == ',') {
        num = ++q;
        in_size = true;
        st = scan_number(q, size);
        if (st == NumStatus::Ok && size >> 32) st = NumStatus::Overflow;
        if (*q == '\r' && q[1] == '\n') ++q;
        if (st == NumStatus::Ok && *q != '\n') st = NumStatus::Bad;
      } else {
        st = NumStatus::Bad;
      }
    }
    s = q;
  }
  if (st == NumStatus::Overflow)
    fail(fmt::format("expected {} to fit in {}, got '{}'", in_size ? "<size>" : "<addr>",
                     in_size ? "32 bits (at most 4294967295)" : "64 bits", show_token(num)));
  if (st != NumStatus::Ok)
    fail(
        fmt::format("expected a lackey line ('I  addr,size', ' L addr,size', ' S addr,size', "
                    "' M addr,size' or '==...'), got '{}'",
                    show_line(start)));
  ev = Event{};
  ev.op = op;
  ev.addr = addr;
  ev.size = std::uint32_t(size);
  if (!access_ok(ev)) fail(check_event(ev));
  p = s + 1;
  m_buf.check_length(start, p, m_line);
  return true;
}

bool LackeyReader::next(Event& ev) {
  for (;;) {
    if (m_buf.cur == m_buf.end && !m_buf.fill(m_line + 1)) return false;
    const char* p = m_buf.cur;
    ++m_line;
    bool got = parse_line(p, ev);
    m_buf.cur = p;
    if (got) {
      m_event_line = m_line;
      return true;
    }
  }
}

}  // namespace rmpsim::trace
