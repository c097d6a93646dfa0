#include "traces/text_reader.hpp"

#include <fmt/format.h>

#include <cstring>

#include "traces/event_checks.hpp"
#include "traces/input_error.hpp"
#include "traces/numbers.hpp"

namespace rmpsim::trace {
using namespace text;

namespace {

constexpr std::string_view kMagic = "#!rmpsim-trace v1";
constexpr std::string_view kMagicPrefix = "#!rmpsim-trace ";

// The line shape that dominates real traces, "<vcpu> <R|W|X|M> 0x<hex>[ <size>]\n"
// with single spaces, parsed with as few branches as possible. Returns the
// start of the next line, or nullptr for anything else (other ops, other
// spacing, CRLF, decimal addresses, errors), which parse_line() then handles
// in full. Every number is length-limited, so no line taken here can exceed
// LineBuffer::kMaxLine.
struct AccessLetters {
  std::uint8_t op[256] = {};
  constexpr AccessLetters() {
    for (auto& o : op) o = 0xff;
    op['R'] = std::uint8_t(Op::Read);
    op['W'] = std::uint8_t(Op::Write);
    op['X'] = std::uint8_t(Op::Exec);
    op['M'] = std::uint8_t(Op::Modify);
  }
};
constexpr AccessLetters kAccessLetter{};

__attribute__((always_inline)) inline const char* parse_fast_access(const char* s, Event& ev) {
  unsigned vcpu = unsigned(static_cast<unsigned char>(*s)) - '0';
  if (vcpu > 9) return nullptr;
  ++s;
  for (int i = 0; i < 4; ++i, ++s) {
    unsigned d = unsigned(static_cast<unsigned char>(*s)) - '0';
    if (d > 9) break;
    vcpu = vcpu * 10 + d;
  }
  if (s[0] != ' ' || s[2] != ' ' || s[3] != '0' || s[4] != 'x' || vcpu > 0xffff) return nullptr;
  // A table, not a switch: R and W interleave unpredictably in real traces.
  std::uint8_t op = kAccessLetter.op[static_cast<unsigned char>(s[1])];
  if (op == 0xff) return nullptr;
  s += 5;
  std::uint64_t addr;
  const char* digits = s;
  if (scan_hex_digits_fast(s, addr) != NumStatus::Ok || s - digits > 15) return nullptr;
  std::uint64_t size = 8;
  if (*s == ' ') {
    ++s;
    size = unsigned(static_cast<unsigned char>(*s)) - '0';
    if (size > 9) return nullptr;
    ++s;
    for (int i = 0; i < 9; ++i, ++s) {  // 10 digits at most
      unsigned d = unsigned(static_cast<unsigned char>(*s)) - '0';
      if (d > 9) break;
      size = size * 10 + d;
    }
    if (size - 1 >= 0xffffffffull) return nullptr;  // 0 or over 32 bits
  }
  if (*s != '\n') return nullptr;
  // At most 15 hex digits and a 32-bit size: the bytes end below 2^61, so
  // the address limits (event_checks.hpp) come down to ending below 2^56;
  // anything else goes to the slow path, which names the error.
  if ((addr + (size - 1)) >> 56) return nullptr;
  ev = Event{};
  ev.op = Op(op);
  ev.vcpu = std::uint16_t(vcpu);
  ev.size = std::uint32_t(size);
  ev.addr = addr;
  return s + 1;
}

}  // namespace

TextReader::TextReader(std::unique_ptr<ByteSource> src, std::string name)
    : m_src(std::move(src)), m_name(std::move(name)), m_buf(*m_src, m_name) {
  read_magic();
}

void TextReader::fail(const std::string& what) const { throw InputError(m_name, m_line, what); }

void TextReader::fail_number(const char* tok, const char* what, int status, unsigned bits) const {
  if (NumStatus(status) == NumStatus::Bad)
    fail(fmt::format("expected {} as a decimal or 0x hex number, got '{}'", what, show_token(tok)));
  if (bits >= 64)
    fail(fmt::format("expected {} to fit in 64 bits, got '{}'", what, show_token(tok)));
  fail(fmt::format("expected {} to fit in {} bits (at most {}), got '{}'", what, bits,
                   (std::uint64_t(1) << bits) - 1, show_token(tok)));
}

void TextReader::read_magic() {
  for (;;) {
    if (m_buf.cur == m_buf.end && !m_buf.fill(m_line + 1))
      throw InputError(m_name, 0,
                       fmt::format("expected '{}' as the first line, got an empty file", kMagic));
    const char* start = m_buf.cur;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', m_buf.end - start));
    ++m_line;
    m_buf.cur = nl + 1;
    m_buf.check_length(start, m_buf.cur, m_line);
    const char* e = nl;  // trailing blanks and the CR of CRLF are tolerated
    while (e > start && (is_blank(e[-1]) || e[-1] == '\r')) --e;
    if (e == start) continue;  // the magic is the first non-empty line
    std::string_view l(start, std::size_t(e - start));
    if (l == kMagic) return;
    if (l.substr(0, kMagicPrefix.size()) == kMagicPrefix)
      fail(fmt::format("unsupported trace version '{}' (expected '{}')",
                       show_line(start + kMagicPrefix.size()), kMagic));
    fail(fmt::format("expected '{}' as the first line, got '{}'", kMagic, show_line(start)));
  }
}

std::uint64_t TextReader::number_token(const char*& s, const char* what, unsigned bits) {
  const char* tok = s;
  std::uint64_t v;
  NumStatus st = scan_number(s, v);
  if (st != NumStatus::Ok) fail_number(tok, what, int(st), bits);
  if (bits < 64 && (v >> bits)) fail_number(tok, what, int(NumStatus::Overflow), bits);
  return v;
}

std::uint64_t TextReader::need_number(const char*& s, const char* what, unsigned bits,
                                      const char* use) {
  s = skip_blanks(s);
  if (is_sep(*s)) fail(fmt::format("expected {} (usage: {}), got end of line", what, use));
  return number_token(s, what, bits);
}

std::string_view TextReader::need_word(const char*& s, const char* what, const char* use) {
  s = skip_blanks(s);
  if (is_sep(*s)) fail(fmt::format("expected {} (usage: {}), got end of line", what, use));
  std::string_view w = token(s);
  s += w.size();
  return w;
}

bool TextReader::need_either(const char*& s, const char* first, const char* second,
                             const char* use) {
  s = skip_blanks(s);
  if (is_sep(*s))
    fail(fmt::format("expected <{}|{}> (usage: {}), got end of line", first, second, use));
  const std::string_view w = token(s);
  s += w.size();
  if (w == second) return true;
  if (w != first)
    fail(fmt::format("expected {} or {}, got '{}'", first, second, show_token(s - w.size())));
  return false;
}

// One line in full: blank, comment or event of any op, with every check and
// error message. The loops below try parse_fast_access() first.
bool TextReader::parse_line(const char*& p, Event& ev) {
  const char* start = p;
  const char* s = skip_blanks(p);
  char c = *s;
  if (c == '\n' || c == '#' || (c == '\r' && s[1] == '\n')) {  // blank line or comment
    p = static_cast<const char*>(std::memchr(s, '\n', std::size_t(m_buf.end - s))) + 1;
    m_buf.check_length(start, p, m_line);
    return false;
  }
  std::uint64_t vcpu;
  {
    const char* tok = s;
    NumStatus st = scan_number(s, vcpu);
    if (st != NumStatus::Ok || vcpu > 0xffff)
      fail_number(tok, "<vcpu>", int(st == NumStatus::Ok ? NumStatus::Overflow : st), 16);
  }
  ev = Event{};
  ev.vcpu = std::uint16_t(vcpu);
  const char* op = skip_blanks(s);
  std::uint8_t letter = 0xff;  // a one-letter access op, else parse_other() sorts it out
  if (!is_sep(op[0]) && is_sep(op[1])) letter = kAccessLetter.op[static_cast<unsigned char>(op[0])];
  if (letter != 0xff) {
    ev.op = Op(letter);
    s = parse_access(op + 1, ev, usage(ev.op));
  } else {
    s = parse_other(op, ev);
  }
  p = end_of_line(s, start, ev.op);
  return true;
}

const char* TextReader::end_of_line(const char* s, const char* start, Op op) {
  s = skip_blanks(s);
  if (*s == '\r' && s[1] == '\n') ++s;  // CRLF
  if (*s != '\n')
    fail(fmt::format("expected end of line (usage: {}), got '{}'", usage(op), show_token(s)));
  m_buf.check_length(start, s + 1, m_line);
  return s + 1;
}

const char* TextReader::parse_access(const char* s, Event& ev, const char* use) {
  ev.addr = need_number(s, address_name(ev.op), 64, use);
  s = skip_blanks(s);
  if (is_sep(*s)) {
    ev.size = 8;  // the default access size (docs/trace-format.md)
    if (!access_ok(ev)) fail(check_event(ev));
    return s;
  }
  ev.size = std::uint32_t(number_token(s, "<size>", 32));
  if (std::string e = check_event(ev); !e.empty()) fail(e);
  return s;
}

bool TextReader::next(Event& ev) {
  for (;;) {
    if (m_buf.cur == m_buf.end && !m_buf.fill(m_line + 1)) return false;
    const char* p = m_buf.cur;
    ++m_line;
    if (const char* q = parse_fast_access(p, ev)) {
      m_buf.cur = q;
      m_event_line = m_line;
      return true;
    }
    bool got = parse_line(p, ev);
    m_buf.cur = p;
    if (got) {
      m_event_line = m_line;
      return true;
    }
  }
}

std::size_t TextReader::next_batch(Event* out, std::size_t max) {
  std::size_t n = 0;
  const char* p = m_buf.cur;
  std::uint64_t line = m_line;  // kept local in the loop; m_line is synced for errors
  std::uint64_t event_line = m_event_line;
  while (n < max) {
    if (p == m_buf.end) {
      m_buf.cur = p;
      bool more = m_buf.fill(line + 1);
      p = m_buf.cur;
      if (!more) break;
    }
    ++line;
    if (const char* q = parse_fast_access(p, out[n])) {
      p = q;
      ++n;
      event_line = line;
      continue;
    }
    m_line = line;
    if (parse_line(p, out[n])) {
      event_line = line;
      if (out[n++].op == Op::Psc) break;  // PSC entries: see trace_io.hpp
    }
  }
  m_buf.cur = p;
  m_line = line;
  m_event_line = event_line;
  return n;
}

std::size_t TextReader::next_run(Event* out, std::uint64_t* lines, std::size_t max) {
  // Plain access lines are taken while they come; any other line (comment,
  // other op, malformed) ends the run once it holds events, and the next
  // call parses it on its own, so its error comes in trace order.
  std::size_t n = 0;
  const char* p = m_buf.cur;
  std::uint64_t line = m_line;
  while (n < max) {
    if (p == m_buf.end) {
      if (n) break;
      m_buf.cur = p;
      bool more = m_buf.fill(line + 1);
      p = m_buf.cur;
      if (!more) break;
    }
    if (const char* q = parse_fast_access(p, out[n])) {
      p = q;
      lines[n++] = ++line;
      continue;
    }
    if (n) break;
    m_line = ++line;
    const bool got = parse_line(p, out[0]);
    if (got) {
      lines[n++] = line;
      break;
    }
  }
  m_buf.cur = p;
  m_line = line;
  if (n) m_event_line = lines[n - 1];
  return n;
}

}  // namespace rmpsim::trace
