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
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

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
    // The usual case (one vCPU, or references in time order): after every
    // reservation kept. Adjacent reservations merge, so a saturated channel
    // keeps one stretch.
    if (m_taken.size() == m_head || now >= m_taken.back().second) {
      if (m_taken.size() != m_head && m_taken.back().second == now)
        m_taken.back().second += m_busy;
      else
        m_taken.emplace_back(now, now + m_busy);
      return 0;
    }
    return reserve_among(now);
  }

 private:
  using Stretch = std::pair<std::uint64_t, std::uint64_t>;  // [start, end), disjoint, sorted

  // A reference that lands among the kept reservations: the first stretch of
  // `busy` free cycles at or after `now`. Out of line: only references that
  // arrive out of time order (other vCPUs, within a quantum) come here.
  __attribute__((noinline)) std::uint64_t reserve_among(std::uint64_t now) {
    // Stretches are disjoint and sorted, so their ends are sorted too: skip
    // those that end at or before `now`.
    const auto first = m_taken.begin() + static_cast<std::ptrdiff_t>(m_head);
    auto it = std::upper_bound(first, m_taken.end(), now,
                               [](std::uint64_t t, const Stretch& s) { return t < s.second; });
    std::uint64_t start = now;
    for (; it != m_taken.end() && it->first < start + m_busy; ++it)
      start = std::max(start, it->second);
    // `it` is the first stretch that starts at or after start + busy.
    const std::uint64_t end = start + m_busy;
    const bool joins_next = it != m_taken.end() && it->first == end;
    const bool joins_prev = it != first && std::prev(it)->second == start;
    if (joins_prev && joins_next) {
      std::prev(it)->second = it->second;
      m_taken.erase(it);
    } else if (joins_prev) {
      std::prev(it)->second = end;
    } else if (joins_next) {
      it->first = start;
    } else {
      m_taken.insert(it, Stretch{start, end});
    }
    return start - now;
  }

  void prune() {
    if (m_latest < kLookbehind) return;
    const std::uint64_t horizon = m_latest - kLookbehind;
    while (m_head < m_taken.size() && m_taken[m_head].second <= horizon) ++m_head;
    // Dropped stretches stay at the front until they are half the buffer:
    // moving the kept ones down then costs no more than pushing them did.
    if (m_head > 64 && m_head * 2 > m_taken.size()) {
      m_taken.erase(m_taken.begin(), m_taken.begin() + static_cast<std::ptrdiff_t>(m_head));
      m_head = 0;
    }
  }

  std::uint64_t m_busy;
  std::uint64_t m_latest = 0;    // latest issue cycle seen
  // Busy stretches: those kept are m_taken[m_head..] (a vector with a
  // moving front rather than a std::deque: one-vCPU runs append and drop
  // one stretch per DRAM reference, and a deque's node bookkeeping cost a
  // walk-bound run ~80 host instructions per reference, callgrind).
  std::vector<Stretch> m_taken;
  std::size_t m_head = 0;
};

}  // namespace rmpsim::memory
