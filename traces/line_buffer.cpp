#include "traces/line_buffer.hpp"

#include <cstring>

#include "traces/input_error.hpp"

namespace rmpsim::trace {

LineBuffer::LineBuffer(ByteSource& src, std::string name)
    : m_src(src), m_name(std::move(name)), m_buf(new char[kCapacity + 1 + kPadding]()) {
  cur = end = m_buf.get();
}

void LineBuffer::too_long(std::uint64_t line) const {
  throw InputError(m_name, line,
                   "expected a line of at most " + std::to_string(kMaxLine) + " bytes");
}

bool LineBuffer::fill(std::uint64_t line) {
  char* buf = m_buf.get();
  // Carry the partial line after the last '\n' to the front.
  std::size_t tail = std::size_t(buf + m_data - end);
  std::memmove(buf, end, tail);
  m_data = tail;
  std::size_t scanned = tail;  // bytes known to hold no '\n'
  for (;;) {
    if (!m_eof && m_data < kCapacity) {
      std::size_t got = m_src.read(buf + m_data, kCapacity - m_data);
      if (got == 0) m_eof = true;
      m_data += got;
    }
    if (m_data > scanned) {
      const void* nl = memrchr(buf + scanned, '\n', m_data - scanned);
      if (nl) {
        cur = buf;
        end = static_cast<const char*>(nl) + 1;
        return true;
      }
      scanned = m_data;
    }
    if (m_data > kMaxLine) too_long(line);
    if (m_eof) {
      if (m_data == 0) {
        cur = end = buf;  // stays at the end if called again
        return false;
      }
      buf[m_data++] = '\n';  // the last line had no newline
      cur = buf;
      end = buf + m_data;
      return true;
    }
  }
}

}  // namespace rmpsim::trace
