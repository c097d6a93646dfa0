#pragma once
// Whole lines from a ByteSource, a fixed-size buffer at a time. After fill(),
// [cur, end) holds complete lines, each ending in '\n' (a last line without
// one gets one), so parsers can scan without bounds checks. The partial line
// at the end of a chunk is carried to the front of the buffer for the next
// fill.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "traces/byte_io.hpp"

namespace rmpsim::trace {

class LineBuffer {
 public:
  // Lines longer than this are an error: it is what keeps memory constant.
  static constexpr std::size_t kMaxLine = 64 * 1024;
  static constexpr std::size_t kCapacity = 1024 * 1024;
  // Readable bytes after the data, so number scanners can load 16 bytes at
  // a time without checking where the line ends.
  static constexpr std::size_t kPadding = 16;

  LineBuffer(ByteSource& src, std::string name);

  // Refills once [cur, end) is used up. False at the end of the input.
  // `line` is the number of the next line, for the too-long error.
  bool fill(std::uint64_t line);

  const char* cur = nullptr;
  const char* end = nullptr;

  // Parsers call this after each line they consume (p = just past its '\n').
  void check_length(const char* line_start, const char* p, std::uint64_t line) const {
    if (std::size_t(p - line_start) > kMaxLine + 1) too_long(line);
  }
  [[noreturn]] void too_long(std::uint64_t line) const;

 private:
  ByteSource& m_src;
  std::string m_name;
  std::unique_ptr<char[]> m_buf;  // kCapacity + 1 (a final '\n') + kPadding
  std::size_t m_data = 0;         // valid bytes in m_buf
  bool m_eof = false;
};

}  // namespace rmpsim::trace
