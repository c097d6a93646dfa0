#include "sim/output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/statvfs.h>
#include <unistd.h>

#include "traces/input_error.hpp"

namespace rmpsim {
namespace fs = std::filesystem;

namespace {
std::string temp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void write_plain(const std::string& path, const std::string& contents) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw InputError(path, 0, std::string("cannot create file: ") + std::strerror(errno));
  bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  ok = (std::fflush(f) == 0) && ok;
  int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(path.c_str());
    throw InputError(path, 0, std::string("cannot write file: ") + std::strerror(saved));
  }
}
}  // namespace

OutputDir::OutputDir(std::string dir) : m_dir(std::move(dir)) {
  std::error_code ec;
  const bool created = fs::create_directories(m_dir, ec);
  if (ec) throw InputError(m_dir, 0, "cannot create output directory: " + ec.message());
  m_created = created;
  if (!fs::is_directory(m_dir)) throw InputError(m_dir, 0, "output path is not a directory");
  try {
    const std::string probe = temp_name(m_dir + "/.rmpsim-probe");
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f)
      throw InputError(m_dir, 0,
                       std::string("output directory is not writable: ") + std::strerror(errno));
    std::fclose(f);
    std::remove(probe.c_str());
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
    if (created) fs::remove(m_dir, ec);  // leave nothing behind, not even the directory
    throw;
  }
}

OutputDir::~OutputDir() {
  // fs::remove deletes a directory only when it is empty: one holding any
  // output stays.
  std::error_code ec;
  if (m_created) fs::remove(m_dir, ec);
}

void OutputDir::write_all(const std::vector<OutputFile>& files) const {
  std::vector<std::string> temps;
  try {
    for (const auto& [name, contents] : files) {
      temps.push_back(temp_name(m_dir + "/" + name));
      write_plain(temps.back(), contents);
    }
  } catch (...) {
    for (const auto& t : temps) std::remove(t.c_str());
    throw;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string final_name = m_dir + "/" + files[i].first;
    if (std::rename(temps[i].c_str(), final_name.c_str()) != 0) {
      int saved = errno;
      for (std::size_t j = i; j < temps.size(); ++j) std::remove(temps[j].c_str());
      throw InputError(final_name, 0, std::string("cannot rename into place: ") +
                                          std::strerror(saved));
    }
  }
}

void OutputDir::remove(const std::vector<std::string>& names) const {
  for (const auto& name : names) std::remove((m_dir + "/" + name).c_str());
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  const std::string tmp = temp_name(path);
  write_plain(tmp, contents);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    std::remove(tmp.c_str());
    throw InputError(path, 0, std::string("cannot rename into place: ") + std::strerror(saved));
  }
}

}  // namespace rmpsim
