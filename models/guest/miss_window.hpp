#pragma once
// The window core model (cpu.core_model = window; docs/models.md, "Core
// timing"): an interval / ChampSim-style bound on memory-level parallelism.
// An access whose translation misses the L1 TLB occupies one of
// cpu.mlp_window slots for its translation latency; it issues at once while
// a slot is free (its latency overlaps the earlier misses'), and the vCPU
// waits for the earliest outstanding miss to complete only when every slot
// is busy. drain() is where the core serialises: faults, exits, PSC, every
// non-access trace line but D, the end of the stream.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace rmpsim::guest {

class MissWindow {
 public:
  explicit MissWindow(unsigned slots) : m_done(slots, 0) {}

  // A miss of `latency` cycles that the core reaches at `now`. Returns the
  // core's time once it issued (later than `now` if the window was full).
  std::uint64_t issue(std::uint64_t now, std::uint64_t latency) {
    // The slot that frees first: free already if its miss completed by now.
    auto slot = std::min_element(m_done.begin(), m_done.end());
    if (*slot > now) {
      m_stall_cycles += *slot - now;
      now = *slot;
    }
    *slot = now + latency;
    return now;
  }
  // The time at which every outstanding miss has completed (>= now).
  std::uint64_t drain(std::uint64_t now) const {
    return std::max(now, *std::max_element(m_done.begin(), m_done.end()));
  }
  // Cycles the core waited for a free slot ("cpuN.mlp_stall_cycles").
  std::uint64_t* stall_cycles() { return &m_stall_cycles; }

 private:
  std::vector<std::uint64_t> m_done;  // completion cycle of each slot's last miss
  std::uint64_t m_stall_cycles = 0;
};

}  // namespace rmpsim::guest
