#include "traces/byte_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "traces/input_error.hpp"
#include "traces/output_file.hpp"

namespace rmpsim::trace {
namespace {

std::string errno_text() { return std::strerror(errno); }

class FdSource final : public ByteSource {
 public:
  FdSource(const std::string& path, const std::string& name) : m_name(name) {
    if (path == "-") {
      m_fd = STDIN_FILENO;
      m_owned = false;
    } else {
      m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (m_fd < 0) throw InputError(name, 0, "cannot open trace: " + errno_text());
    }
    struct stat st {};
    if (::fstat(m_fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        close_fd();
        throw InputError(name, 0, "cannot read trace: is a directory");
      }
      if (S_ISREG(st.st_mode)) {
        m_total = std::uint64_t(st.st_size);
        // Readers consume the file front to back exactly once.
        ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
      }
    }
  }
  ~FdSource() override { close_fd(); }

  std::size_t read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t got = ::read(m_fd, buf, n);
      if (got >= 0) {
        m_read += std::uint64_t(got);
        return std::size_t(got);
      }
      if (errno != EINTR) throw InputError(m_name, 0, "cannot read trace: " + errno_text());
    }
  }
  std::uint64_t bytes_read() const override { return m_read; }
  std::uint64_t bytes_total() const override { return m_total; }

 private:
  void close_fd() {
    if (m_owned && m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }
  std::string m_name;
  int m_fd = -1;
  bool m_owned = true;
  std::uint64_t m_read = 0;
  std::uint64_t m_total = 0;
};

class PrefixSource final : public ByteSource {
 public:
  PrefixSource(std::string prefix, std::unique_ptr<ByteSource> inner)
      : m_prefix(std::move(prefix)), m_inner(std::move(inner)) {}
  std::size_t read(char* buf, std::size_t n) override {
    if (m_pos < m_prefix.size()) {
      std::size_t k = std::min(n, m_prefix.size() - m_pos);
      std::memcpy(buf, m_prefix.data() + m_pos, k);
      m_pos += k;
      return k;
    }
    return m_inner->read(buf, n);
  }
  std::uint64_t bytes_read() const override { return m_inner->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_inner->bytes_total(); }

 private:
  std::string m_prefix;
  std::size_t m_pos = 0;
  std::unique_ptr<ByteSource> m_inner;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string data) : m_data(std::move(data)) {}
  std::size_t read(char* buf, std::size_t n) override {
    std::size_t k = std::min(n, m_data.size() - m_pos);
    std::memcpy(buf, m_data.data() + m_pos, k);
    m_pos += k;
    return k;
  }
  std::uint64_t bytes_read() const override { return m_pos; }
  std::uint64_t bytes_total() const override { return m_data.size(); }

 private:
  std::string m_data;
  std::size_t m_pos = 0;
};

// A trace writer's output: an OutputFile (temporary + rename for a file,
// streamed for "-", a pipe or a device).
class FileSink final : public ByteSink {
 public:
  explicit FileSink(const std::string& path) : m_out(path, "output trace") {}
  void write(const char* data, std::size_t n) override { m_out.write(data, n); }
  void finish() override {
    if (m_done) return;
    m_out.publish();
    m_done = true;
  }

 private:
  OutputFile m_out;
  bool m_done = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path, const std::string& name) {
  return std::make_unique<FdSource>(path, name);
}

std::unique_ptr<ByteSource> prefixed_source(std::string prefix, std::unique_ptr<ByteSource> inner) {
  if (prefix.empty()) return inner;
  return std::make_unique<PrefixSource>(std::move(prefix), std::move(inner));
}

std::unique_ptr<ByteSource> memory_source(std::string data) {
  return std::make_unique<MemorySource>(std::move(data));
}

std::size_t refill_at_least(ByteSource& src, unsigned char* buf, std::size_t capacity,
                            const unsigned char*& cur, const unsigned char*& end,
                            std::size_t need) {
  std::size_t have = std::size_t(end - cur);
  if (have >= need) return have;
  std::memmove(buf, cur, have);
  cur = buf;
  while (have < need) {
    const std::size_t got = src.read(reinterpret_cast<char*>(buf + have), capacity - have);
    if (got == 0) break;
    have += got;
  }
  end = buf + have;
  return have;
}

std::string read_up_to(ByteSource& src, std::size_t n) {
  std::string out(n, '\0');
  std::size_t have = 0;
  while (have < n) {
    std::size_t got = src.read(out.data() + have, n - have);
    if (got == 0) break;
    have += got;
  }
  out.resize(have);
  return out;
}

std::unique_ptr<ByteSink> open_file_sink(const std::string& path) {
  return std::make_unique<FileSink>(path);
}

}  // namespace rmpsim::trace
