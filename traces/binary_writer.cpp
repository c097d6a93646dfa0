#include "traces/binary_writer.hpp"

#include <cstring>
#include <stdexcept>

#include "traces/binary_format.hpp"
#include "traces/event_checks.hpp"

namespace rmpsim::trace {
using namespace binfmt;

namespace {
constexpr std::size_t kBufBytes = 256 * 1024;
}

BinaryWriter::BinaryWriter(std::unique_ptr<ByteSink> sink, std::string name)
    : m_sink(std::move(sink)), m_name(std::move(name)), m_buf(kBufBytes) {
  unsigned char* p = m_buf.data();
  std::memcpy(p, kMagic, sizeof kMagic);
  p = store16(p + sizeof kMagic, kVersion);
  p = store16(p, 0);  // flags
  p = store32(p, 0);  // reserved
  m_used = kHeaderBytes;
}

void BinaryWriter::write(const Event& ev) {
  bool access = is_sized_access(ev.op);
  if (access ? !access_ok(ev) : !check_event(ev).empty())
    throw std::invalid_argument("cannot write invalid trace event: " + check_event(ev));
  if (m_buf.size() - m_used < kMaxRecordBytes) flush();

  // The head: op, reserved, vcpu, x, a (binary_format.hpp).
  std::uint32_t x = 0;
  std::uint64_t a = ev.addr;
  switch (ev.op) {
    case Op::Read:
    case Op::Write:
    case Op::Exec:
    case Op::Modify:
    case Op::HostRead:
    case Op::HostWrite:
    case Op::HostMemRead:
    case Op::HostMemWrite:
      x = ev.size;
      break;
    case Op::Delay:
      a = ev.len;
      break;
    case Op::Vmpl:
    case Op::Unmap:
      break;
    case Op::Pvalidate:
    case Op::Rmpadjust:
    case Op::Convert:
    case Op::Map:
      x = ev.attrs;
      break;
    case Op::Psc:
      x = ev.attrs;
      a = ev.psc_count;
      break;
    case Op::Roi:
    case Op::Rmpopt:
      x = ev.attrs;
      a = 0;
      break;
  }
  unsigned char* p = m_buf.data() + m_used;
  p[0] = static_cast<unsigned char>(ev.op);
  p[1] = 0;
  p = store16(p + 2, ev.vcpu);
  p = store32(p, x);
  p = store64(p, a);
  switch (ev.op) {
    case Op::Map:
      p = store64(p, ev.gpa);
      p = store64(p, ev.len);
      break;
    case Op::Unmap:
    case Op::Convert:
      p = store64(p, ev.len);
      break;
    case Op::Psc:
      for (unsigned i = 0; i < ev.psc_count; ++i)
        p = store64(p, ev.psc[i].gpa | std::uint64_t(ev.psc[i].size));
      break;
    default:
      break;
  }
  m_used = std::size_t(p - m_buf.data());
}

void BinaryWriter::flush() {
  m_sink->write(reinterpret_cast<const char*>(m_buf.data()), m_used);
  m_used = 0;
}

void BinaryWriter::finish() {
  flush();
  m_sink->finish();
}

}  // namespace rmpsim::trace
