#include "traces/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "traces/input_error.hpp"

namespace rmpsim::trace {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

// Paths to remove when a signal ends the process: fixed storage, because a
// signal handler may not allocate. A path that does not fit is not
// registered (the destructors still remove it on every other path).
struct Slot {
  volatile std::sig_atomic_t used;
  volatile std::sig_atomic_t is_dir;
  char path[PATH_MAX];
};
constexpr int kSlots = 64;
Slot g_slots[kSlots];

std::string parent_dir(const std::string& path) {
  const std::string p = fs::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

void sync_dir(const std::string& dir) {
  // Makes the rename itself durable; failure only weakens durability.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

int cleanup_on_signal_add(const std::string& path, bool is_dir) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].used) continue;
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].is_dir = is_dir;
    g_slots[i].used = 1;  // last: a handler never sees a half-copied path
    return i;
  }
  return -1;
}

void cleanup_on_signal_remove(int slot) {
  if (slot >= 0 && slot < kSlots) g_slots[slot].used = 0;
}

void remove_temporaries_on_signal() {
  // Newest first: a directory goes after the files registered inside it.
  for (int i = kSlots - 1; i >= 0; --i) {
    if (!g_slots[i].used) continue;
    if (g_slots[i].is_dir)
      ::rmdir(g_slots[i].path);  // only if empty: never an output
    else
      ::unlink(g_slots[i].path);
    g_slots[i].used = 0;
  }
}

std::optional<FileId> file_id(const std::string& path) {
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

bool same_file(const std::string& in, const std::string& out) {
  if (in == "-" || out == "-") return false;
  const auto a = file_id(in), b = file_id(out);
  if (a && b) return *a == *b;
  std::error_code ec1, ec2;
  const fs::path pa = fs::weakly_canonical(fs::absolute(in, ec1), ec1);
  const fs::path pb = fs::weakly_canonical(fs::absolute(out, ec2), ec2);
  return !ec1 && !ec2 && pa == pb;
}

OutputFile::OutputFile(std::string path, std::string what)
    : m_path(std::move(path)), m_what(std::move(what)) {
  if (m_path == "-" || m_path == "/dev/stdout" || m_path == "/dev/stderr") {
    m_fd = m_path == "/dev/stderr" ? STDERR_FILENO : STDOUT_FILENO;
    return;
  }
  struct stat st {};
  const bool exists = ::stat(m_path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    throw InputError(m_path, 0, "cannot write the " + m_what + ": is a directory");
  if (exists && S_ISBLK(st.st_mode))
    throw InputError(m_path, 0, "cannot write the " + m_what + ": is a block device");
  if (exists && !S_ISREG(st.st_mode)) {
    // A character device, FIFO or socket: write into it, as a shell's `>`
    // does (a FIFO's open waits for its reader).
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (m_fd < 0)
      throw InputError(m_path, 0, "cannot open the " + m_what + ": " + errno_text(errno));
    m_owned = true;
    return;
  }
  struct stat lst {};
  if (!exists && ::lstat(m_path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
    throw InputError(m_path, 0,
                     "cannot write the " + m_what + ": a symlink to a file that does not exist");
  // The rename replaces the symlink's target, never the link itself.
  std::error_code ec;
  m_final = exists ? fs::canonical(m_path, ec).string() : m_path;
  if (ec) m_final = m_path;
  m_tmp = m_final + ".tmp." + std::to_string(::getpid());
  for (int attempt = 0; attempt < 2 && m_fd < 0; ++attempt) {
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    // A temporary of a killed process that had our pid: it is garbage.
    if (m_fd < 0 && errno == EEXIST && attempt == 0) ::unlink(m_tmp.c_str());
  }
  if (m_fd < 0) {
    const int err = errno;
    throw InputError(m_path, 0, "cannot create the " + m_what + ": " + errno_text(err));
  }
  m_owned = true;
  m_slot = cleanup_on_signal_add(m_tmp, false);
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::discard() {
  if (m_owned && m_fd >= 0) ::close(m_fd);
  m_fd = -1;
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
    cleanup_on_signal_remove(m_slot);
    m_tmp.clear();
    m_slot = -1;
  }
}

void OutputFile::write(const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(m_fd, data, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      throw InputError(m_path, 0, "cannot write the " + m_what + ": " + errno_text(errno));
    }
    data += put;
    n -= std::size_t(put);
  }
}

void OutputFile::sync() {
  // Only a temporary: a pipe or terminal cannot be synced, and a device
  // the user named is theirs.
  if (m_tmp.empty() || m_fd < 0) return;
  if (::fsync(m_fd) != 0)
    throw InputError(m_path, 0, "cannot write the " + m_what + ": " + errno_text(errno));
}

void OutputFile::publish(const std::string& suffix) {
  if (m_tmp.empty()) {
    if (m_owned && m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    return;
  }
  try {
    sync();
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0)
      throw InputError(m_path, 0, "cannot write the " + m_what + ": " + errno_text(errno));
    const std::string target = suffix.empty() ? m_final : m_path + suffix;
    if (::rename(m_tmp.c_str(), target.c_str()) != 0)
      throw InputError(target, 0,
                       "cannot rename the " + m_what + " into place: " + errno_text(errno));
    cleanup_on_signal_remove(m_slot);
    m_slot = -1;
    m_tmp.clear();
    sync_dir(parent_dir(target));
  } catch (...) {
    discard();
    throw;
  }
}

}  // namespace rmpsim::trace
