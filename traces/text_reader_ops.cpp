// The text reader's ops other than the four accesses (docs/trace-format.md):
// their operand parsers and the keyword tables they use. The reader loop,
// the access fast path and the operand helpers are in text_reader.cpp.
#include <fmt/format.h>

#include "traces/event_checks.hpp"
#include "traces/numbers.hpp"
#include "traces/text_reader.hpp"

namespace rmpsim::trace {
using namespace text;

namespace {

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

}  // namespace

const char* TextReader::usage(Op op) { return kUsage[int(op)]; }

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

}  // namespace rmpsim::trace
