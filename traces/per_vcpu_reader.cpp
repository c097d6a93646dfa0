#include "traces/per_vcpu_reader.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "traces/byte_io.hpp"
#include "traces/input_error.hpp"

namespace rmpsim::trace {

PerVcpuReader::PerVcpuReader(std::vector<std::unique_ptr<Reader>> traces, std::string name)
    : m_traces(std::move(traces)),
      m_done(m_traces.size(), false),
      m_name(std::move(name)),
      m_left(m_traces.size()) {}

bool PerVcpuReader::next(Event& ev) {
  while (m_left) {
    const std::size_t i = m_turn;
    m_turn = (m_turn + 1) % m_traces.size();
    if (m_done[i]) continue;
    Reader& r = *m_traces[i];
    if (!r.next(ev)) {
      m_done[i] = true;
      --m_left;
      continue;
    }
    // A PSC event's entries stay valid until r's next call, which comes
    // after the caller's next call here: the contract of trace_io.hpp holds.
    if (ev.vcpu != 0)
      throw InputError(r.name(), r.line(),
                       fmt::format("expected vCPU 0 only in a trace of a per-vCPU manifest (the "
                                   "manifest gives the vCPU), got vCPU {}",
                                   ev.vcpu));
    ev.vcpu = std::uint16_t(i);
    m_line = r.line();
    return true;
  }
  return false;
}

std::uint64_t PerVcpuReader::bytes_read() const {
  std::uint64_t n = 0;
  for (const auto& r : m_traces) n += r->bytes_read();
  return n;
}

std::uint64_t PerVcpuReader::bytes_total() const {
  std::uint64_t n = 0;
  for (const auto& r : m_traces) {
    if (r->bytes_total() == 0) return 0;  // one unknown: the total is unknown
    n += r->bytes_total();
  }
  return n;
}

std::vector<std::string> read_per_vcpu_manifest(const std::string& path) {
  namespace fs = std::filesystem;
  // A manifest is a few lines; reading one byte past the limit tells a
  // longer file apart without trusting its length.
  constexpr std::size_t kMaxBytes = 64 * 1024;
  std::string text = read_up_to(*open_file_source(path, path), kMaxBytes + 1);
  if (text.size() > kMaxBytes)
    throw InputError(path, 0, fmt::format("expected a manifest of at most {} bytes", kMaxBytes));
  const fs::path dir = fs::path(path).parent_path();
  std::vector<std::string> traces;
  std::uint64_t line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string entry = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!entry.empty() && entry.back() == '\r') entry.pop_back();
    const std::size_t first = entry.find_first_not_of(" \t");
    if (first == std::string::npos || entry[first] == '#') continue;
    entry = entry.substr(first, entry.find_last_not_of(" \t") + 1 - first);
    if (entry == "-")
      throw InputError(path, line, "expected a trace file, got '-' (standard input)");
    FileKind kind{};
    if (input_kind_from_path(entry, kind) && kind.format == Format::PerVcpu)
      throw InputError(path, line,
                       fmt::format("expected a trace file, got the manifest '{}'", entry));
    if (traces.size() == kMaxPerVcpuTraces)
      throw InputError(path, line,
                       fmt::format("expected at most {} traces (one per vCPU)", kMaxPerVcpuTraces));
    const fs::path p(entry);
    traces.push_back((p.is_absolute() ? p : dir / p).lexically_normal().string());
  }
  if (traces.empty())
    throw InputError(path, 0, "expected one trace file name per line (one per vCPU), got none");
  return traces;
}

}  // namespace rmpsim::trace
