#include "models/memory/memory_module.hpp"

namespace rmpsim::memory {

MemoryModule::MemoryModule(const sc_core::sc_module_name& name, const MemTimingParams& p)
    : sc_module(name), timing_export("timing_export"), m_timing(p) {
  timing_export.bind(*this);
}

void MemoryModule::register_stats(StatsRegistry& stats) const {
  const std::string n = name();
  stats.add_counters(n, {
      {"ptcache.hits", &m_timing.hits, "page-table/RMP line references that hit the line cache"},
      {"ptcache.misses", &m_timing.misses, "page-table/RMP line references that went to DRAM"},
      {"dram.queue_cycles", &m_timing.queue_cycles,
       "cycles references waited for a busy DRAM channel"},
  });
  stats.add_formula(n + ".guest_pt_frames", [this] { return Json(m_guest.frames()); },
                    "4K guest-physical frames holding guest page tables");
  stats.add_formula(n + ".host_pt_frames", [this] { return Json(m_host.frames()); },
                    "4K host frames holding nested page tables");
}

}  // namespace rmpsim::memory
