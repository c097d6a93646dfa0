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
constexpr const char* kOpList =
    "R, W, X, M, D, MAP, UNMAP, PVALIDATE, RMPADJUST, VMPL, PSC, CONVERT, HOST, ROI, HMEM or "
    "RMPOPT";
constexpr const char* kMapAttrList = "private, shared, 4k, 2m, 1g, ro, rw, x or nx";

// Operand syntax per op, quoted in "expected ... (usage: ...)" messages.
constexpr const char* kUsage[kOpCount] = {
    "R <gva> [size]",
    "W <gva> [size]",
    "X <gva> [size]",
    "M <gva> [size]",
    "D <cycles>",
    "MAP <gva> <gpa> <len> [attrs]",
    "UNMAP <gva> <len>",
    "PVALIDATE <gva> <4k|2m> <validate|rescind>",
    "RMPADJUST <gva> <4k|2m> <vmpl> <perms>",
    "VMPL <vmpl>",
    "PSC <msr|ghcb> <op> <gpa>[:<4k|2m>] ...",
    "CONVERT <gva> <len> <private|shared>",
    "HOST <R|W> <gpa> [size]",
    "HOST <R|W> <gpa> [size]",
    "ROI <begin|end>",
    "HMEM <R|W> <spa> [size]",
    "HMEM <R|W> <spa> [size]",
    "RMPOPT <rescan|now>",
};
const char* usage(Op op) { return kUsage[int(op)]; }

std::string_view token(const char* s) { return {s, std::size_t(token_end(s) - s)}; }

// MAP attribute keywords: each sets one of four groups (C-bit, page size,
// writability, executability); the first name in each group is the default.
struct MapAttr {
  std::string_view name;
  int group;
  std::uint32_t bits;
};
constexpr MapAttr kMapAttrs[] = {
    {"private", 0, 0},
    {"shared", 0, kMapShared},
    {"4k", 1, std::uint32_t(PageSize::k4K)},
    {"2m", 1, std::uint32_t(PageSize::k2M)},
    {"1g", 1, std::uint32_t(PageSize::k1G)},
    {"rw", 2, 0},
    {"ro", 2, kMapReadOnly},
    {"nx", 3, 0},
    {"x", 3, kMapExec},
};

struct Perm {
  std::string_view name;
  std::uint32_t bit;
};
constexpr Perm kPerms[] = {
    {"r", kPermR}, {"w", kPermW}, {"xu", kPermXu}, {"xs", kPermXs}, {"vmsa", kPermVmsa},
};

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

const char* TextReader::parse_other(const char* op, Event& ev) {
  std::string_view name = token(op);
  if (name.empty()) fail(fmt::format("expected an op ({}), got end of line", kOpList));
  const char* s = op + name.size();
  if (name == "D") {
    ev.op = Op::Delay;
    ev.len = need_number(s, "<cycles>", 64, usage(Op::Delay));
    return s;
  }
  if (name == "MAP") {
    s = parse_map(s, ev);
  } else if (name == "UNMAP") {
    ev.op = Op::Unmap;
    ev.addr = need_number(s, "<gva>", 64, usage(ev.op));
    ev.len = need_number(s, "<len>", 64, usage(ev.op));
  } else if (name == "PVALIDATE") {
    ev.op = Op::Pvalidate;
    ev.addr = need_number(s, "<gva>", 64, usage(ev.op));
    ev.attrs =
        std::uint32_t(need_either(s, "4k", "2m", usage(ev.op)) ? PageSize::k2M : PageSize::k4K);
    if (!need_either(s, "validate", "rescind", usage(ev.op))) ev.attrs |= kPvalidateValidate;
  } else if (name == "RMPADJUST") {
    s = parse_rmpadjust(s, ev);
  } else if (name == "VMPL") {
    ev.op = Op::Vmpl;
    ev.addr = need_number(s, "<vmpl>", 64, usage(ev.op));
  } else if (name == "PSC") {
    s = parse_psc(s, ev);
  } else if (name == "CONVERT") {
    ev.op = Op::Convert;
    ev.addr = need_number(s, "<gva>", 64, usage(ev.op));
    ev.len = need_number(s, "<len>", 64, usage(ev.op));
    if (!need_either(s, "private", "shared", usage(ev.op))) ev.attrs = kConvertToPrivate;
  } else if (name == "HOST" || name == "HMEM") {
    // HOST: guest memory by GPA; HMEM: the host's own memory by SPA.
    const bool mem = name == "HMEM";
    ev.op = mem ? Op::HostMemRead : Op::HostRead;
    if (need_either(s, "R", "W", usage(ev.op))) ev.op = mem ? Op::HostMemWrite : Op::HostWrite;
    return parse_access(s, ev, usage(ev.op));
  } else if (name == "RMPOPT") {
    ev.op = Op::Rmpopt;
    if (need_either(s, "rescan", "now", usage(ev.op))) ev.attrs = kRmpoptNow;
  } else if (name == "ROI") {
    ev.op = Op::Roi;
    if (need_either(s, "begin", "end", usage(ev.op))) ev.attrs = kRoiEnd;
  } else {
    fail(fmt::format("unknown op '{}' (expected {})", show_token(op), kOpList));
  }
  if (std::string e = check_event(ev); !e.empty()) fail(e);
  return s;
}

const char* TextReader::parse_map(const char* s, Event& ev) {
  ev.op = Op::Map;
  const char* use = usage(ev.op);
  ev.addr = need_number(s, "<gva>", 64, use);
  ev.gpa = need_number(s, "<gpa>", 64, use);
  ev.len = need_number(s, "<len>", 64, use);
  s = skip_blanks(s);
  if (is_sep(*s)) return s;  // attrs omitted: private,4k,rw,nx
  const MapAttr* chosen[4] = {};
  const char* end = token_end(s);
  while (s < end) {
    const char* comma = static_cast<const char*>(std::memchr(s, ',', std::size_t(end - s)));
    const char* stop = comma ? comma : end;
    std::string_view item(s, std::size_t(stop - s));
    const MapAttr* a = nullptr;
    for (const MapAttr& m : kMapAttrs)
      if (m.name == item) a = &m;
    if (!a)
      fail(fmt::format("unknown MAP attribute '{}' (expected {})", show_text(item), kMapAttrList));
    if (chosen[a->group] && chosen[a->group] != a)
      fail(
          fmt::format("conflicting MAP attributes '{}' and '{}'", chosen[a->group]->name, a->name));
    chosen[a->group] = a;
    ev.attrs |= a->bits;
    s = comma ? comma + 1 : end;
    if (comma && s == end)  // a trailing comma names an empty attribute
      fail(fmt::format("unknown MAP attribute '' (expected {})", kMapAttrList));
  }
  return end;
}

const char* TextReader::parse_rmpadjust(const char* s, Event& ev) {
  ev.op = Op::Rmpadjust;
  const char* use = usage(ev.op);
  ev.addr = need_number(s, "<gva>", 64, use);
  ev.attrs = std::uint32_t(need_either(s, "4k", "2m", use) ? PageSize::k2M : PageSize::k4K);
  std::uint64_t vmpl = need_number(s, "<vmpl>", 64, use);
  if (vmpl > 3) fail(fmt::format("expected <vmpl> to be 0..3, got {}", vmpl));
  ev.attrs |= std::uint32_t(vmpl) << kRmpadjustVmplShift;
  std::string_view perms = need_word(s, "<perms>", use);
  if (perms == "none") return s;
  std::size_t pos = 0;
  for (;;) {
    std::size_t comma = perms.find(',', pos);
    std::string_view item = perms.substr(pos, comma == perms.npos ? perms.npos : comma - pos);
    if (item == "none")
      fail(fmt::format("expected RMPADJUST permission 'none' alone, got '{}'",
                       show_token(s - perms.size())));
    const Perm* found = nullptr;
    for (const Perm& p : kPerms)
      if (p.name == item) found = &p;
    if (!found)
      fail(fmt::format("unknown RMPADJUST permission '{}' (expected r, w, xu, xs, vmsa or none)",
                       show_text(item)));
    ev.attrs |= found->bit;
    if (comma == perms.npos) break;
    pos = comma + 1;
  }
  return s;
}

const char* TextReader::parse_psc(const char* s, Event& ev) {
  ev.op = Op::Psc;
  const char* use = usage(ev.op);
  const PscProto proto = need_either(s, "msr", "ghcb", use) ? PscProto::Ghcb : PscProto::Msr;
  std::string_view op_word = need_word(s, "<op>", use);
  PscOp op;
  if (op_word == "private")
    op = PscOp::Private;
  else if (op_word == "shared")
    op = PscOp::Shared;
  else if (op_word == "psmash")
    op = PscOp::Psmash;
  else if (op_word == "unsmash")
    op = PscOp::Unsmash;
  else
    fail(fmt::format("expected private, shared, psmash or unsmash, got '{}'",
                     show_token(s - op_word.size())));
  ev.attrs = psc_attrs(proto, op);

  std::uint64_t count = 0;
  for (;;) {
    s = skip_blanks(s);
    if (is_sep(*s)) break;
    const char* tok = s;
    std::uint64_t gpa;
    NumStatus st = scan_number_prefix(s, gpa);
    if (st == NumStatus::Overflow)
      fail(fmt::format("expected <gpa> to fit in 64 bits, got '{}'", show_token(tok)));
    PageSize ps = PageSize::k4K;  // the default entry size
    if (st == NumStatus::Ok && *s == ':') {
      if (s[1] == '4' && s[2] == 'k')
        ps = PageSize::k4K;
      else if (s[1] == '2' && s[2] == 'm')
        ps = PageSize::k2M;
      else
        st = NumStatus::Bad;
      s += 3;
    }
    if (st != NumStatus::Ok || !is_sep(*s))
      fail(fmt::format("expected a PSC entry <gpa>[:4k|2m], got '{}'", show_token(tok)));
    if (count < kPscMaxEntries) m_psc[count] = PscEntry{gpa, ps};
    ++count;
  }
  if (count == 0) fail(fmt::format("expected <gpa>[:<4k|2m>] (usage: {}), got end of line", use));
  if (count > kPscMaxEntries) {  // reported here: m_psc holds only the first 253
    if (proto == PscProto::Msr)
      fail(fmt::format("expected exactly one PSC entry for msr, got {}", count));
    fail(fmt::format("expected 1..{} PSC entries for ghcb, got {}", kPscMaxEntries, count));
  }
  ev.psc_count = std::uint16_t(count);
  ev.psc = m_psc.data();
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
