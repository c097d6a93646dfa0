#pragma once
// The measured region of a run, as ChampSim's --warmup-instructions and
// gem5's m5 resetstats/dumpstats give it (docs/trace-format.md, "ROI";
// docs/stats.md, "region"). Everything before the region is warm-up: it
// runs normally and its model state (TLBs, walk caches, the RMP, page
// tables, memory) is kept, but when the region begins every stat starts
// again from zero. The region begins at an `ROI begin` line, or after the
// first sim.warmup_accesses access lines of the trace (the feed inserts the
// begin there, TraceFeed::set_warmup); an `ROI end` line ends the run.
//
// The region is one point in simulated time for the whole system: the
// local time of the vCPU whose stream holds the begin, when it reaches it.
// Other vCPUs run within sim.quantum_ns of that time (temporal decoupling),
// so with several vCPUs the boundary is exact to one quantum.
#include <cstdint>
#include <functional>
#include <string>

#include "models/common/stats.hpp"

namespace rmpsim::guest {

class Region {
 public:
  // `warmup`: sim.warmup_accesses (0: none).
  Region(std::string trace_name, std::uint64_t warmup)
      : m_trace(std::move(trace_name)), m_warmup(warmup) {}
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  // Runs when the region begins, before anything of the region is
  // simulated: the platform resets the stats tree there. Returns the
  // accesses simulated so far (the warm-up accesses).
  void on_begin(std::function<std::uint64_t()> f) { m_on_begin = std::move(f); }

  // The begin of the region, reached by a vCPU at local time `cycle` on
  // trace line `line`; `inserted`: the feed put it there for the warm-up.
  // A second begin, or an ROI line in a run with a warm-up count, is bad
  // input (InputError at `line`).
  void begin(std::uint64_t cycle, std::uint64_t line, bool inserted);
  // An `ROI end` line: the run ends here (the caller stops the feed).
  void end(std::uint64_t cycle, std::uint64_t line);

  // Whether this run has a region other than the whole trace.
  bool used() const { return m_warmup != 0 || m_begin_line != 0 || m_end_line != 0; }
  // After the run: a warm-up count that the trace never reached is bad
  // input (InputError naming the trace).
  void check_reached() const;
  // The vCPUs' cycle counters count from here (0 without a region).
  std::uint64_t start_cycle() const { return m_start_cycle; }
  // Guest accesses simulated before the region began (0 before it begins).
  std::uint64_t warmup_accesses() const { return m_warmup_accesses; }
  // "region": where the region began and ended and what was warm-up.
  stats::Group& stats();

 private:
  std::string m_trace;
  std::uint64_t m_warmup;
  std::function<std::uint64_t()> m_on_begin;
  bool m_began = false;
  // stats
  std::uint64_t m_warmup_accesses = 0;
  std::uint64_t m_start_cycle = 0;
  std::uint64_t m_end_cycle = 0;
  std::uint64_t m_begin_line = 0;
  std::uint64_t m_end_line = 0;
  stats::Group m_stats{"region"};
  bool m_registered = false;
};

}  // namespace rmpsim::guest
