#pragma once
// Builds the module tree from one resolved configuration, runs the SystemC
// kernel over a trace, and gathers the summary (ARCHITECTURE.md, layer 3).
// One Platform per process: SystemC allows a single elaboration.
//
//   system
//     mem              memory block: page-table stores, line cache, DRAM
//     cpuN             vCPU thread (trace replay)  --TLM-->  cpuN.mmu
//     cpuN.mmu         TLBs + 2-D walker           --port-->  mem
//   plus the guest OS model and the hypervisor, shared by all vCPUs.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemc>

#include "models/check/checker.hpp"
#include "models/common/config.hpp"
#include "models/common/event_log.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/region.hpp"
#include "models/guest/trace_feed.hpp"
#include "models/guest/vcpu.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/memory/memory_module.hpp"
#include "models/mmu/mmu_module.hpp"
#include "sim/stats.hpp"

namespace rmpsim {

class Platform {
 public:
  // `log` (optional) receives events and waveform changes. `check`: the
  // invariant mode of `run --check` (docs/reliability.md): a violation
  // makes run() throw check::InvariantViolation.
  Platform(const Config& config, trace::Reader& reader, EventLog* log = nullptr,
           bool check = false);
  ~Platform();

  // Test-only fault injection for the invariant mode's own tests (hidden
  // `run --check-inject KIND`): "skip-hv-flush" drops the hypervisor's TLB
  // flushes, so conversions leave stale translations behind. Throws
  // InputError for an unknown KIND.
  void inject_fault(const std::string& kind);

  // Simulates the whole trace. Rethrows an InputError raised by the trace
  // (the run is then a failure and writes nothing).
  void run();

  // The flat summary of OUTPUTS.md ("summary" in stats.json).
  // `host_seconds`: the whole simulation's host time; `region_host_seconds`:
  // the measured region's (from its begin to the end; the whole run without
  // a region), over which accesses_per_host_second is taken, as the
  // accesses it counts are the region's.
  Json summary(double host_seconds, double region_host_seconds) const;
  // When the measured region began, in host time (none: no region began).
  std::optional<std::chrono::steady_clock::time_point> region_host_start() const {
    return m_region_host_start;
  }
  // The stats tree: root "system", one group per block (docs/stats.md).
  const stats::Group& stats() const;
  std::uint64_t accesses() const;
  double freq_ghz() const { return m_freq_ghz; }
  const guest::GuestState& guest_state() const { return m_guest_state; }
  // Progress: `f` is called every TraceFeed::kTickEvents trace events.
  void on_progress(std::function<void()> f) { m_feed.on_tick(std::move(f)); }
  // Interruption (sim/interrupt.hpp): once *flag is set the trace is treated
  // as ended, so the run stops cleanly with the stats of what was simulated.
  // A long MAP, UNMAP or CONVERT stops at its next page as well.
  void stop_when(const volatile std::sig_atomic_t* flag);
  bool interrupted() const { return m_feed.stopped(); }
  std::uint64_t trace_events_read() const { return m_feed.events_read(); }
  std::uint64_t trace_bytes_read() const { return m_feed.bytes_read(); }
  std::uint64_t trace_bytes_total() const { return m_feed.bytes_total(); }

 private:
  struct System;

  double m_freq_ghz;
  guest::TraceFeed m_feed;
  guest::GuestState m_guest_state;
  guest::Region m_region;  // the measured region: warm-up and ROI lines
  std::optional<std::chrono::steady_clock::time_point> m_region_host_start;
  std::unique_ptr<System> m_system;
  std::unique_ptr<check::Checker> m_checker;  // --check only; detaches before m_system goes
};

}  // namespace rmpsim
