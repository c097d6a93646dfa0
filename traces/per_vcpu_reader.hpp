#pragma once
// The multi-core form of imported traces: a manifest (NAME.vcpus) names one
// trace per vCPU, one path a line (relative to the manifest's folder; blank
// lines and lines starting with '#' are skipped), in vCPU order. Each trace
// is read as its own name says (ChampSim, lackey-free forms, ...) and must
// hold vCPU 0 events only; the reader hands out their events round-robin, one
// from each in turn, as vCPU 0, 1, 2, ... (docs/trace-format.md, "One trace
// per vCPU"). Errors inside a trace name that trace and its own line or
// record.
#include <memory>
#include <string>
#include <vector>

#include "traces/trace_io.hpp"

namespace rmpsim::trace {

// At most this many traces in one manifest: bounds what a manifest can make
// the reader open (and the simulator has at most 256 vCPUs, cpu.count).
inline constexpr std::size_t kMaxPerVcpuTraces = 256;

class PerVcpuReader final : public Reader {
 public:
  PerVcpuReader(std::vector<std::unique_ptr<Reader>> traces, std::string name);

  bool next(Event& ev) override;
  std::uint64_t bytes_read() const override;
  std::uint64_t bytes_total() const override;
  std::uint64_t line() const override { return m_line; }
  const std::string& name() const override { return m_name; }
  const std::string& name_for(unsigned vcpu) const override {
    return vcpu < m_traces.size() ? m_traces[vcpu]->name() : m_name;
  }

 private:
  std::vector<std::unique_ptr<Reader>> m_traces;
  std::vector<bool> m_done;
  std::string m_name;
  std::size_t m_turn = 0;  // the trace whose event comes next
  std::size_t m_left;      // traces not yet at their end
  std::uint64_t m_line = 0;
};

// The trace paths a manifest names, resolved against its folder. Throws
// InputError ("m.vcpus:N: error: ...") for an empty manifest, a nested
// manifest or more than kMaxPerVcpuTraces traces.
std::vector<std::string> read_per_vcpu_manifest(const std::string& path);

}  // namespace rmpsim::trace
