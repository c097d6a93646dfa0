#pragma once
// Reader for the text form (.rmpt): docs/trace-format.md, "Text form", and
// the contract in TRACE-FORMAT.md. One pass over a fixed buffer, numbers
// scanned by hand, no allocation per line.
#include <array>
#include <memory>
#include <string>

#include "traces/byte_io.hpp"
#include "traces/line_buffer.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class TextReader final : public Reader {
 public:
  // Reads up to and including the magic line; throws InputError if it is
  // missing or names another version. `name` is the file name in errors.
  TextReader(std::unique_ptr<ByteSource> src, std::string name);

  bool next(Event& ev) override;
  std::size_t next_batch(Event* out, std::size_t max) override;
  std::size_t next_run(Event* out, std::uint64_t* lines, std::size_t max) override;
  std::uint64_t bytes_read() const override { return m_src->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_src->bytes_total(); }

  std::uint64_t line() const override { return m_event_line; }
  const std::string& name() const override { return m_name; }

 private:
  bool parse_line(const char*& p, Event& ev);
  const char* end_of_line(const char* s, const char* line_start, Op op);
  const char* parse_access(const char* s, Event& ev, const char* usage);
  const char* parse_other(const char* op, Event& ev);
  const char* parse_map(const char* s, Event& ev);
  const char* parse_rmpadjust(const char* s, Event& ev);
  const char* parse_psc(const char* s, Event& ev);
  void read_magic();
  // An op's operand syntax, for "(usage: ...)" in messages.
  static const char* usage(Op op);

  // Operand helpers: skip blanks, then read one operand or fail naming it.
  std::uint64_t need_number(const char*& s, const char* what, unsigned bits, const char* usage);
  std::string_view need_word(const char*& s, const char* what, const char* usage);
  // A word that must be `first` or `second` (an op's two-way choice, e.g.
  // `<R|W>`): true for `second`; anything else is a `file:line` error.
  bool need_either(const char*& s, const char* first, const char* second, const char* usage);
  std::uint64_t number_token(const char*& s, const char* what, unsigned bits);

  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void fail_number(const char* tok, const char* what, int status, unsigned bits) const;

  std::unique_ptr<ByteSource> m_src;
  std::string m_name;
  LineBuffer m_buf;
  std::uint64_t m_line = 0;        // lines consumed so far
  std::uint64_t m_event_line = 0;  // line of the last event returned
  std::array<PscEntry, kPscMaxEntries> m_psc{};
};

}  // namespace rmpsim::trace
