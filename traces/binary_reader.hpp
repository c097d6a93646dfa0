#pragma once
// Reader for the binary form (.rmpb), layout in binary_format.hpp. Nothing in
// the file is trusted: every op byte, reserved field, count and length is
// checked before it is used, and the result obeys the same rules as a parsed
// text line (event_checks.hpp). Errors name the 1-based record number.
#include <array>
#include <memory>
#include <string>

#include "traces/byte_io.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class BinaryReader final : public Reader {
 public:
  // Reads and checks the header (InputError at line 0 if it is wrong).
  BinaryReader(std::unique_ptr<ByteSource> src, std::string name);

  bool next(Event& ev) override;
  std::size_t next_batch(Event* out, std::size_t max) override;
  std::size_t next_run(Event* out, std::uint64_t* lines, std::size_t max) override;
  std::uint64_t bytes_read() const override { return m_src->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_src->bytes_total(); }

  std::uint64_t line() const override { return m_record; }  // record number of the last event
  const std::string& name() const override { return m_name; }

 private:
  bool next_slow(Event& ev);
  std::size_t fill(std::size_t need);
  [[noreturn]] void fail(const std::string& what) const;

  std::unique_ptr<ByteSource> m_src;
  std::string m_name;
  std::unique_ptr<unsigned char[]> m_buf;
  const unsigned char* m_cur;
  const unsigned char* m_end;
  std::uint64_t m_record = 0;
  std::array<PscEntry, kPscMaxEntries> m_psc{};
};

}  // namespace rmpsim::trace
