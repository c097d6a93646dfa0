#pragma once
// Writer for the binary form (.rmpb), layout in binary_format.hpp.
#include <memory>
#include <string>
#include <vector>

#include "traces/byte_io.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class BinaryWriter final : public Writer {
 public:
  BinaryWriter(std::unique_ptr<ByteSink> sink, std::string name);
  // Throws std::invalid_argument for an event check_event() rejects.
  void write(const Event& ev) override;
  void finish() override;

 private:
  void flush();
  std::unique_ptr<ByteSink> m_sink;
  std::string m_name;
  std::vector<unsigned char> m_buf;
  std::size_t m_used = 0;
};

}  // namespace rmpsim::trace
