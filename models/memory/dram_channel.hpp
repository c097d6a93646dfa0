#pragma once
// One DRAM channel as a shared resource: each reference occupies it for
// `busy` cycles, and a reference that finds it taken waits for the first
// free stretch long enough.
//
// Why reservations and not one "next free" cycle: vCPUs run ahead of each
// other by up to a quantum (temporal decoupling, sim.quantum_ns), so
// references reach the channel out of time order. With a single next-free
// mark, a reference issued at cycle 1000 would wait for one another vCPU
// issued at its local cycle 900000 — queueing on the future, which grew
// with the quantum (issue 14: 4 vCPUs, busy 0 still queued; a 1 ms quantum
// made the run 3.6 times longer). Here a reference waits only for
// reservations that overlap it in simulated time, whatever order they
// arrived in. What the arrival order still decides is who of two truly
// overlapping references goes first; docs/models.md bounds that effect.
//
// Memory stays bounded: reservations that ended more than kLookbehind
// cycles before the latest reference seen are dropped. A reference issued
// further in the past than that (a vCPU lagging the others by more than
// kLookbehind, far above any quantum) waits only for what is kept.
#include <cstdint>
#include <map>

namespace rmpsim::memory {

class DramChannel {
 public:
  static constexpr std::uint64_t kLookbehind = 1u << 20;  // cycles (~0.39 ms at 2.7 GHz)

  explicit DramChannel(std::uint64_t busy) : m_busy(busy) {}

  // Books the channel for a reference issued at `now`; returns the cycles
  // it waits before it is served.
  std::uint64_t reserve(std::uint64_t now) {
    if (m_busy == 0) return 0;  // an unlimited channel never queues
    if (now > m_latest) {
      m_latest = now;
      prune();
    }
    // The first stretch of `busy` free cycles at or after `now`: walk the
    // reservations from the last one that starts at or before `now`.
    std::uint64_t start = now;
    auto it = m_taken.upper_bound(now);
    if (it != m_taken.begin()) {
      auto prev = std::prev(it);
      if (prev->second > start) start = prev->second;
    }
    for (; it != m_taken.end() && it->first < start + m_busy; ++it)
      if (it->second > start) start = it->second;
    // Adjacent reservations merge, so a saturated channel keeps one entry.
    std::uint64_t end = start + m_busy;
    auto next = m_taken.find(end);
    if (next != m_taken.end()) {
      end = next->second;
      m_taken.erase(next);
    }
    auto before = m_taken.lower_bound(start);
    if (before != m_taken.begin() && std::prev(before)->second == start)
      std::prev(before)->second = end;
    else
      m_taken.emplace(start, end);
    return start - now;
  }

 private:
  void prune() {
    if (m_latest < kLookbehind) return;
    const std::uint64_t horizon = m_latest - kLookbehind;
    while (!m_taken.empty() && m_taken.begin()->second <= horizon) m_taken.erase(m_taken.begin());
  }

  std::uint64_t m_busy;
  std::uint64_t m_latest = 0;                    // latest issue cycle seen
  std::map<std::uint64_t, std::uint64_t> m_taken;  // start -> end of each busy stretch
};

}  // namespace rmpsim::memory
