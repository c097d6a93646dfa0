#pragma once
// Output directory handling: nothing half-written, one run at a time. Files
// are written under temporary names in the same directory (trace::OutputFile)
// and renamed into place only after every one of them was written and
// synced (OUTPUTS.md: "A failed run leaves no partial stats.json behind");
// a run holds a lock on its directory (docs/reliability.md, "Output files").
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rmpsim {

// {file name, contents}
using OutputFile = std::pair<std::string, std::string>;

class OutputDir {
 public:
  // Creates `dir` (and parents) if needed and takes an exclusive lock on it
  // (flock of DIR/.rmpsim.lock, whose creation also proves the directory
  // writable), so an unusable or busy directory is reported before any
  // simulation starts. Throws InputError(dir, 0, ...). The lock is
  // re-entrant within the process (a sweep point locks its directory before
  // simulate() opens it again) and released, its file removed, on
  // destruction. Also refuses a file system with less than kMinFreeBytes free.
  // `lock` false: a directory many runs share (a sweep's top directory,
  // where each point locks its own).
  explicit OutputDir(std::string dir, bool lock = true);
  // A directory this object created and nothing was written to (the run
  // stopped on bad input, say) is removed again: a failed run leaves
  // nothing behind. A directory that existed before is left as it was.
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  static constexpr std::uint64_t kMinFreeBytes = 4u << 20;

  const std::string& path() const { return m_dir; }

  // {file name, contents}: all written to temporaries and synced first, then
  // renamed. All or nothing: when a write fails nothing is renamed, when a
  // rename fails the ones already renamed are removed again; the error
  // names the file.
  void write_all(const std::vector<OutputFile>& files) const;
  // Removes these files of the directory if present (outputs of an earlier
  // run that would contradict this one's).
  void remove(const std::vector<std::string>& names) const;

 private:
  void release();

  std::string m_dir;
  bool m_created = false;
  int m_created_slot = -1;  // the directory, for removal by a signal
  std::string m_lock_key;   // "" when an outer OutputDir holds the lock
};

// Writes one file atomically (trace::OutputFile). Throws InputError.
void write_file_atomically(const std::string& path, const std::string& contents,
                           const std::string& what = "output file");

// {role, path}: what a command reads, and what it writes.
using NamedPath = std::pair<std::string, std::string>;
// Refuses (InputError on the output's path, exit 2) an output that is one of
// the inputs or another output, by path or by file identity, so that no
// command overwrites what it reads or writes one file twice. Streams ("-",
// devices, FIFOs) are not compared, except "-" used twice.
void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs);

}  // namespace rmpsim
