#pragma once
// Importer for `valgrind --tool=lackey --trace-mem=yes` output (which lackey
// writes to stderr): TRACE-FORMAT.md "Importers". "I  addr,size" becomes X,
// " L" R, " S" W, " M" M, all on vCPU 0; addresses are hex without 0x, sizes
// decimal. Lines starting with "==" (valgrind's own messages) are skipped, as
// are empty lines; anything else is an InputError with its line number, so
// that program output mixed into the capture is not silently taken as
// accesses.
#include <memory>
#include <string>

#include "traces/byte_io.hpp"
#include "traces/line_buffer.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class LackeyReader final : public Reader {
 public:
  LackeyReader(std::unique_ptr<ByteSource> src, std::string name);

  bool next(Event& ev) override;
  std::uint64_t bytes_read() const override { return m_src->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_src->bytes_total(); }
  std::uint64_t line() const override { return m_event_line; }
  const std::string& name() const override { return m_name; }

 private:
  bool parse_line(const char*& p, Event& ev);
  [[noreturn]] void fail(const std::string& what) const;

  std::unique_ptr<ByteSource> m_src;
  std::string m_name;
  LineBuffer m_buf;
  std::uint64_t m_line = 0;        // lines consumed so far
  std::uint64_t m_event_line = 0;  // line of the last event returned
};

}  // namespace rmpsim::trace
