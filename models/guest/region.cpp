#include "models/guest/region.hpp"

#include <fmt/format.h>

#include "traces/input_error.hpp"

namespace rmpsim::guest {

void Region::begin(std::uint64_t cycle, std::uint64_t line, bool inserted) {
  // With a warm-up count the region's begin is the feed's to place; a trace
  // line as well would make two begins, so the two are refused together
  // rather than one silently winning.
  if (m_warmup != 0 && !inserted)
    throw InputError(m_trace, line,
                     fmt::format("ROI begin in a run with a warm-up of {} accesses "
                                 "(sim.warmup_accesses, run --warmup): expected one or the other",
                                 m_warmup));
  if (m_began)
    throw InputError(m_trace, line,
                     fmt::format("second ROI begin (the region began at line {}): expected one "
                                 "region per trace",
                                 m_begin_line));
  m_began = true;
  // The hook resets every stat of the tree, this block's among them: the
  // region's own figures are set after it.
  const std::uint64_t warmup_accesses = m_on_begin ? m_on_begin() : 0;
  m_warmup_accesses = warmup_accesses;
  m_start_cycle = cycle;
  m_begin_line = line;
}

void Region::end(std::uint64_t cycle, std::uint64_t line) {
  if (m_warmup != 0)
    throw InputError(m_trace, line,
                     fmt::format("ROI end in a run with a warm-up of {} accesses "
                                 "(sim.warmup_accesses, run --warmup): expected one or the other",
                                 m_warmup));
  m_end_cycle = cycle;
  m_end_line = line;
}

void Region::check_reached() const {
  if (m_warmup != 0 && !m_began)
    throw InputError(m_trace, 0,
                     fmt::format("expected at least {0} access lines for a warm-up of {0} "
                                 "(sim.warmup_accesses, run --warmup), got fewer: the measured "
                                 "region never began",
                                 m_warmup));
}

stats::Group& Region::stats() {
  if (!m_registered) {
    m_stats.add_counters({
        {"warmup_accesses", &m_warmup_accesses,
         "guest accesses (after page splitting, all vCPUs) simulated before the region: not "
         "counted in any other stat"},
        {"start_cycle", &m_start_cycle,
         "core cycle at which the region began; every cycle count starts here"},
        {"end_cycle", &m_end_cycle, "core cycle of the ROI end line (0: the trace's end)"},
        {"begin_line", &m_begin_line,
         "trace line (binary: record) where the region began (with a warm-up count: its last "
         "access line)"},
        {"end_line", &m_end_line, "trace line of ROI end (0: none, the region ran to the end)"},
    });
    m_registered = true;
  }
  return m_stats;
}

}  // namespace rmpsim::guest
