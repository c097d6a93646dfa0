#pragma once
// Shared pieces of the fuzz targets (fuzz/README.md).
//
// A target reports anything that is not a crash but still wrong -- a broken
// invariant, two code paths disagreeing -- through finding(): it prints what
// went wrong and aborts, and libFuzzer treats the abort like a crash (it
// saves the input as crash-<sha1> and exits non-zero).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace rmpsim::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\nrmpsim fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void require(bool ok, const std::string& what) {
  if (!ok) finding(what);
}

// Whether an InputError's message has the project's shape:
// "file:line: error: ..." (line > 0) or "file: error: ..." (line 0).
inline bool well_formed_error(const std::string& message, const std::string& file,
                              std::uint64_t line) {
  const std::string prefix =
      line ? file + ":" + std::to_string(line) + ": error: " : file + ": error: ";
  return message.size() > prefix.size() && message.compare(0, prefix.size(), prefix) == 0;
}

// A small deterministic generator seeded from the input itself, for choices
// (read sizes, batch sizes) that must not change the input's meaning but
// must be the same every time the input is replayed.
class InputRng {
 public:
  InputRng(const std::uint8_t* data, std::size_t size) {
    m_state = 0x9e3779b97f4a7c15ull ^ size;
    for (std::size_t i = 0; i < size && i < 64; ++i) m_state = (m_state ^ data[i]) * 0x100000001b3ull;
  }
  // Uniform enough in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    m_state = m_state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (m_state >> 33) % (hi - lo + 1);
  }

 private:
  std::uint64_t m_state;
};

}  // namespace rmpsim::fuzz
