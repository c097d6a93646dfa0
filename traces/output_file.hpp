#pragma once
// The one way rmpsim writes an output file (docs/reliability.md, "Output
// files"): trace writers (`trace gen`, `trace convert`), --events and --vcd,
// the run's stats and a sweep's merged results all go through OutputFile.
// It lives in the trace library, the lowest layer, so that every writer
// above can use it; the directory-level rules (one run per --out, the stats
// published as a set) are sim/output.*.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

namespace rmpsim::trace {

// A file's identity (device, inode), following symlinks; nullopt when the
// path does not exist. Two paths naming one file (a symlink, a hard link,
// "a/../b") have the same identity.
struct FileId {
  dev_t dev;
  ino_t ino;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};
std::optional<FileId> file_id(const std::string& path);

// True when writing `out` would replace the file `in` (same identity, or the
// same path once "." and ".." are resolved for names that do not exist yet).
bool same_file(const std::string& in, const std::string& out);

class OutputFile {
 public:
  // Opens `path` for writing. What it names decides how:
  //   "-", /dev/stdout, /dev/stderr: that stream of this process, written
  //     as it comes (a pipe or a terminal is what the user asked for);
  //   an existing character device, FIFO or socket (symlinks followed):
  //     opened and written as it comes -- never replaced by a regular file;
  //   a directory or a block device: refused;
  //   anything else (a regular file, a new name, a symlink to either):
  //     written to "NAME.tmp.PID" in the directory of the final file (a
  //     symlink's target), which publish() fsyncs and renames over it: a
  //     reader sees the old file or the whole new one; a symlink stays a
  //     symlink. Unpublished, the temporary is removed by the destructor,
  //     and by remove_temporaries_on_signal() when a signal ends the process.
  // `what` names the output in errors ("events file"). Throws InputError.
  OutputFile(std::string path, std::string what);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return m_path; }
  bool streamed() const { return m_tmp.empty(); }
  int fd() const { return m_fd; }

  // Throws InputError naming the file and the reason (ENOSPC, EFBIG, ...).
  void write(const char* data, std::size_t n);
  // Makes the contents durable: fsync of the temporary (or of a streamed
  // regular file). Throws InputError.
  void sync();
  // sync(), then renames the temporary to path() + suffix (".partial" for
  // an interrupted run). A streamed output is only flushed. Throws
  // InputError; the temporary is then removed.
  void publish(const std::string& suffix = "");
  // Throws away what was written (the temporary is removed at once).
  void discard();

 private:
  std::string m_path, m_what;
  std::string m_final;  // the file the rename replaces (a symlink's target)
  std::string m_tmp;    // empty when streamed
  int m_fd = -1;
  bool m_owned = false;  // m_fd is ours to close
  int m_slot = -1;       // in the signal-cleanup table
};

// Unlinks every temporary an OutputFile still holds, and every path added
// below (newest first; a directory only if empty). Async-signal-safe: the
// CLI's signal handlers call it before the process dies of the signal.
void remove_temporaries_on_signal();
// Adds a path for remove_temporaries_on_signal() (an output directory's lock
// file, a directory the run created); returns a slot for
// cleanup_on_signal_remove(), or -1 when the fixed table is full.
int cleanup_on_signal_add(const std::string& path, bool is_dir);
void cleanup_on_signal_remove(int slot);

}  // namespace rmpsim::trace
