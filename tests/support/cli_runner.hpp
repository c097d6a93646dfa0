#pragma once
// Runs the rmpsim binary the way a user does and captures what it printed.
// End-to-end tests assert exit status, messages and files, not internals.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace rmpsim::test {

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rmpsim-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// In AddressSanitizer builds, an error thrown inside a SystemC thread makes
// ASan print a three-line warning about stack switching first ("ASan is
// ignoring requested __asan_handle_no_return ... False positive error
// reports may follow ... For details see ..."). It is the sanitizer's, not
// rmpsim's output: drop exactly that block so the tests check what rmpsim
// printed. Any real ASan report still fails the run's exit status.
inline std::string without_asan_fiber_warning(const std::string& err) {
  const std::string marker = "WARNING: ASan is ignoring requested __asan_handle_no_return";
  const std::size_t hit = err.find(marker);
  if (hit == std::string::npos) return err;
  const std::size_t nl = err.rfind('\n', hit);
  const std::size_t start = nl == std::string::npos ? 0 : nl + 1;  // the "==PID==" line
  const std::string last = "For details see https://github.com/google/sanitizers/issues/189\n";
  const std::size_t end = err.find(last, hit);
  if (end == std::string::npos) return err;
  return err.substr(0, start) + err.substr(end + last.size());
}

// `args` is appended to the binary path as a shell command line.
inline CliResult run_cli(const std::string& args, const TempDir& tmp) {
  const std::string out = tmp.file(".cli-stdout"), err = tmp.file(".cli-stderr");
  const std::string cmd = std::string("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ") + RMPSIM_BIN + " " +
                          args + " >" + out + " 2>" + err;
  int raw = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = without_asan_fiber_warning(slurp(err));
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace rmpsim::test
