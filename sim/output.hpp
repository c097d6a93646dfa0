#pragma once
// Output directory handling: nothing half-written. Files are written under
// temporary names in the same directory and renamed into place only after
// every one of them was written (OUTPUTS.md: "A failed run leaves no partial
// stats.json behind").
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rmpsim {

// {file name, contents}
using OutputFile = std::pair<std::string, std::string>;

class OutputDir {
 public:
  // Creates `dir` (and parents) if needed and proves it writable by creating
  // and removing a probe file, so an unusable directory is reported before
  // any simulation starts. Throws InputError(dir, 0, ...).
  // Also refuses a file system with less than kMinFreeBytes free.
  explicit OutputDir(std::string dir);
  // A directory this object created and nothing was written to (the run
  // stopped on bad input, say) is removed again: a failed run leaves
  // nothing behind. A directory that existed before is left as it was.
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  static constexpr std::uint64_t kMinFreeBytes = 4u << 20;

  const std::string& path() const { return m_dir; }

  // {file name, contents}: all written to temporaries first, then renamed.
  void write_all(const std::vector<OutputFile>& files) const;
  // Removes these files of the directory if present (outputs of an earlier
  // run that would contradict this one's).
  void remove(const std::vector<std::string>& names) const;

 private:
  std::string m_dir;
  bool m_created = false;
};

// Writes one file atomically (temporary name + rename). Throws InputError.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace rmpsim
