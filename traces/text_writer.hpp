#pragma once
// Writer for the canonical text form: the magic line, then one event a line,
// addresses and lengths in 0x hex, sizes, cycles, vCPUs and VMPLs in decimal,
// every optional operand spelled out. Reading it back gives the same events.
#include <memory>
#include <string>
#include <vector>

#include "traces/byte_io.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class TextWriter final : public Writer {
 public:
  TextWriter(std::unique_ptr<ByteSink> sink, std::string name);
  // Throws std::invalid_argument for an event check_event() rejects: no
  // reader would read it back.
  void write(const Event& ev) override;
  void finish() override;

 private:
  void flush();
  std::unique_ptr<ByteSink> m_sink;
  std::string m_name;
  std::vector<char> m_buf;
  std::size_t m_used = 0;
};

// One event in canonical text, without the newline (messages, tests).
std::string format_event(const Event& ev);

}  // namespace rmpsim::trace
