#pragma once
// The one error type for bad user input (traces, configs, options, PSC
// descriptors). Its message is always "file:line: error: what was expected",
// and the CLI turns it into exit status 2 (OUTPUTS.md, "Exit status").
#include <cstdint>
#include <stdexcept>
#include <string>

namespace rmpsim {

class InputError : public std::runtime_error {
 public:
  // line 0 means "the file as a whole" and prints as "file: error: ...".
  InputError(const std::string& file, std::uint64_t line, const std::string& what)
      : std::runtime_error(format(file, line, what)), m_file(file), m_line(line) {}

  const std::string& file() const { return m_file; }
  std::uint64_t line() const { return m_line; }

 private:
  static std::string format(const std::string& file, std::uint64_t line, const std::string& what) {
    return line ? file + ":" + std::to_string(line) + ": error: " + what
                : file + ": error: " + what;
  }
  std::string m_file;
  std::uint64_t m_line;
};

}  // namespace rmpsim
