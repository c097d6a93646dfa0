#include "traces/text_writer.hpp"

#include <stdexcept>

#include "traces/event_checks.hpp"
#include "traces/numbers.hpp"

namespace rmpsim::trace {
using namespace text;

namespace {

constexpr std::size_t kBufBytes = 256 * 1024;
// The longest line: a 253-entry PSC is about 253 * 23 + 40 bytes.
constexpr std::size_t kMaxLineBytes = 8 * 1024;

// Writes `ev` without the newline; returns the end.
char* put_event(char* o, const Event& ev) {
  o = put_dec(o, ev.vcpu);
  *o++ = ' ';
  o = put_str(o, op_name(ev.op));
  *o++ = ' ';
  switch (ev.op) {
    case Op::HostRead:
    case Op::HostWrite:
    case Op::HostMemRead:
    case Op::HostMemWrite:
      *o++ = ev.op == Op::HostRead || ev.op == Op::HostMemRead ? 'R' : 'W';
      *o++ = ' ';
      [[fallthrough]];
    case Op::Read:
    case Op::Write:
    case Op::Exec:
    case Op::Modify:
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      return put_dec(o, ev.size);
    case Op::Delay:
      return put_dec(o, ev.len);
    case Op::Map:
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      o = put_hex(o, ev.gpa);
      *o++ = ' ';
      o = put_hex(o, ev.len);
      *o++ = ' ';
      o = put_str(o, ev.attrs & kMapShared ? "shared," : "private,");
      o = put_str(o, page_size_name(attr_page_size(ev.attrs)));
      o = put_str(o, ev.attrs & kMapReadOnly ? ",ro," : ",rw,");
      return put_str(o, ev.attrs & kMapExec ? "x" : "nx");
    case Op::Unmap:
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      return put_hex(o, ev.len);
    case Op::Pvalidate:
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      o = put_str(o, page_size_name(attr_page_size(ev.attrs)));
      return put_str(o, ev.attrs & kPvalidateValidate ? " validate" : " rescind");
    case Op::Rmpadjust: {
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      o = put_str(o, page_size_name(attr_page_size(ev.attrs)));
      *o++ = ' ';
      o = put_dec(o, rmpadjust_vmpl(ev.attrs));
      *o++ = ' ';
      if (!(ev.attrs & kPermMask)) return put_str(o, "none");
      static constexpr std::pair<std::uint32_t, std::string_view> kPerms[] = {
          {kPermR, "r"}, {kPermW, "w"}, {kPermXu, "xu"}, {kPermXs, "xs"}, {kPermVmsa, "vmsa"}};
      bool first = true;
      for (auto [bit, name] : kPerms) {
        if (!(ev.attrs & bit)) continue;
        if (!first) *o++ = ',';
        o = put_str(o, name);
        first = false;
      }
      return o;
    }
    case Op::Vmpl:
      return put_dec(o, ev.addr);
    case Op::Psc: {
      static constexpr std::string_view kOps[] = {"?", "private", "shared", "psmash", "unsmash"};
      o = put_str(o, psc_proto(ev.attrs) == PscProto::Msr ? "msr " : "ghcb ");
      o = put_str(o, kOps[unsigned(psc_op(ev.attrs))]);
      for (unsigned i = 0; i < ev.psc_count; ++i) {
        *o++ = ' ';
        o = put_hex(o, ev.psc[i].gpa);
        *o++ = ':';
        o = put_str(o, page_size_name(ev.psc[i].size));
      }
      return o;
    }
    case Op::Convert:
      o = put_hex(o, ev.addr);
      *o++ = ' ';
      o = put_hex(o, ev.len);
      return put_str(o, ev.attrs & kConvertToPrivate ? " private" : " shared");
    case Op::Roi:
      return put_str(o, ev.attrs & kRoiEnd ? "end" : "begin");
    case Op::Rmpopt:
      return put_str(o, ev.attrs & kRmpoptNow ? "now" : "rescan");
  }
  return o;
}

void require_valid(const Event& ev) {
  if (is_sized_access(ev.op) ? access_ok(ev) : check_event(ev).empty())
    return;
  std::string why = check_event(ev);
  throw std::invalid_argument("cannot write invalid trace event: " + why);
}

}  // namespace

TextWriter::TextWriter(std::unique_ptr<ByteSink> sink, std::string name)
    : m_sink(std::move(sink)), m_name(std::move(name)), m_buf(kBufBytes) {
  static constexpr std::string_view kMagic = "#!rmpsim-trace v1\n";
  put_str(m_buf.data(), kMagic);
  m_used = kMagic.size();
}

void TextWriter::write(const Event& ev) {
  require_valid(ev);
  if (m_buf.size() - m_used < kMaxLineBytes) flush();
  char* o = put_event(m_buf.data() + m_used, ev);
  *o++ = '\n';
  m_used = std::size_t(o - m_buf.data());
}

void TextWriter::flush() {
  m_sink->write(m_buf.data(), m_used);
  m_used = 0;
}

void TextWriter::finish() {
  flush();
  m_sink->finish();
}

std::string format_event(const Event& ev) {
  require_valid(ev);
  std::string out(kMaxLineBytes, '\0');
  out.resize(std::size_t(put_event(out.data(), ev) - out.data()));
  return out;
}

}  // namespace rmpsim::trace
