#include "sim/output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <map>
#include <memory>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "traces/input_error.hpp"
#include "traces/output_file.hpp"

namespace rmpsim {
namespace fs = std::filesystem;

namespace {

// Locks this process holds, by canonical directory: a sweep point locks its
// directory, then simulate() opens the same directory again.
struct HeldLock {
  int fd;
  int refs;
  int slot;  // the lock file, for removal by a signal
  std::string file;
};
std::map<std::string, HeldLock>& held_locks() {
  static std::map<std::string, HeldLock> locks;
  return locks;
}

// flock() of DIR/.rmpsim.lock; the lock goes with the process, so a run
// killed by a signal does not leave the directory locked. The file is
// removed on release; a run that opened it just before is told by the
// identity check below and opens the new one.
void lock_dir(const std::string& dir, const std::string& key) {
  const std::string file = dir + "/.rmpsim.lock";
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
      throw InputError(dir, 0,
                       std::string("output directory is not writable: ") + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw InputError(dir, 0,
                         "another rmpsim run is writing to this output directory (it holds " +
                             file + "); wait for it to finish or choose another --out");
      throw InputError(file, 0, std::string("cannot lock the output directory: ") +
                                    std::strerror(err));
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(file.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      held_locks()[key] = {fd, 1, trace::cleanup_on_signal_add(file, false), file};
      return;
    }
    ::close(fd);  // released and removed by its holder meanwhile: try again
  }
  throw InputError(dir, 0, "cannot lock the output directory: its lock file keeps changing");
}

void unlock_dir(const std::string& key) {
  auto it = held_locks().find(key);
  if (it == held_locks().end() || --it->second.refs > 0) return;
  ::unlink(it->second.file.c_str());
  trace::cleanup_on_signal_remove(it->second.slot);
  ::close(it->second.fd);
  held_locks().erase(it);
}

bool is_stream(const std::string& path) {
  struct stat st {};
  return path == "-" || (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

}  // namespace

OutputDir::OutputDir(std::string dir, bool lock) : m_dir(std::move(dir)) {
  std::error_code ec;
  const bool created = fs::create_directories(m_dir, ec);
  if (ec) throw InputError(m_dir, 0, "cannot create output directory: " + ec.message());
  m_created = created;
  if (created) m_created_slot = trace::cleanup_on_signal_add(m_dir, true);
  try {
    if (!fs::is_directory(m_dir)) throw InputError(m_dir, 0, "output path is not a directory");
    if (lock) {
      const std::string key = fs::canonical(m_dir).string();
      auto it = held_locks().find(key);
      if (it != held_locks().end())
        ++it->second.refs;
      else
        lock_dir(m_dir, key);
      m_lock_key = key;
    } else if (::access(m_dir.c_str(), W_OK) != 0) {
      throw InputError(m_dir, 0,
                       std::string("output directory is not writable: ") + std::strerror(errno));
    }
    // A full disk is found now rather than after hours of simulation. The
    // outputs are small (the bundled gzip run: 7 KiB stats.json, 22 KiB
    // stats.txt; both grow with the vCPU count), 4 MiB leaves a wide margin.
    struct statvfs vfs {};
    if (::statvfs(m_dir.c_str(), &vfs) == 0) {
      const std::uint64_t free_bytes = std::uint64_t(vfs.f_bavail) * vfs.f_frsize;
      if (free_bytes < kMinFreeBytes)
        throw InputError(m_dir, 0,
                         "only " + std::to_string(free_bytes >> 10) +
                             " KiB free on its file system; the outputs need at least " +
                             std::to_string(kMinFreeBytes >> 10) + " KiB");
    }
  } catch (...) {
    release();  // leave nothing behind, not even the directory
    throw;
  }
}

OutputDir::~OutputDir() { release(); }

void OutputDir::release() {
  if (!m_lock_key.empty()) unlock_dir(m_lock_key);
  m_lock_key.clear();
  // fs::remove deletes a directory only when it is empty: one holding any
  // output stays.
  std::error_code ec;
  if (m_created) fs::remove(m_dir, ec);
  trace::cleanup_on_signal_remove(m_created_slot);
  m_created = false;
  m_created_slot = -1;
}

void OutputDir::write_all(const std::vector<OutputFile>& files) const {
  std::vector<std::unique_ptr<trace::OutputFile>> outs;
  for (const auto& [name, contents] : files) {
    outs.push_back(std::make_unique<trace::OutputFile>(m_dir + "/" + name, "output file"));
    outs.back()->write(contents.data(), contents.size());
    outs.back()->sync();
  }
  // Every file is written and on disk: now the renames, which only fail on
  // a directory changed under the run.
  for (std::size_t i = 0; i < outs.size(); ++i) {
    try {
      outs[i]->publish();
    } catch (...) {
      for (std::size_t j = 0; j < i; ++j) ::unlink(outs[j]->path().c_str());
      throw;
    }
  }
}

void OutputDir::remove(const std::vector<std::string>& names) const {
  for (const auto& name : names) std::remove((m_dir + "/" + name).c_str());
}

void write_file_atomically(const std::string& path, const std::string& contents,
                           const std::string& what) {
  trace::OutputFile out(path, what);
  out.write(contents.data(), contents.size());
  out.publish();
}

void check_outputs_distinct(const std::vector<NamedPath>& inputs,
                            const std::vector<NamedPath>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [role, path] = outputs[i];
    if (path.empty()) continue;
    for (const auto& [in_role, in_path] : inputs)
      if (!in_path.empty() && trace::same_file(in_path, path))
        throw InputError(path, 0, "the " + role + " would overwrite the " + in_role + " (" +
                                      in_path + "); choose another file");
    for (std::size_t j = 0; j < i; ++j) {
      const auto& [other_role, other] = outputs[j];
      if (other.empty()) continue;
      const bool both_stdout = path == "-" && other == "-";
      if (both_stdout || (!is_stream(path) && trace::same_file(other, path)))
        throw InputError(other, 0, "the " + other_role + " and the " + role +
                                       " are the same file; choose another file");
    }
  }
}

}  // namespace rmpsim
