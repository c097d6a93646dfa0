#include "models/memory/memory_module.hpp"

namespace rmpsim::memory {

MemoryModule::MemoryModule(const sc_core::sc_module_name& name, const MemTimingParams& p)
    : sc_module(name), timing_export("timing_export"), m_timing(p) {
  timing_export.bind(*this);
  register_stats();
}

void MemoryModule::register_stats() {
  m_stats.add_counters({
      {"ptcache.hits", &m_timing.hits, "page-table/RMP line references that hit the line cache"},
      {"ptcache.misses", &m_timing.misses, "page-table/RMP line references that went to DRAM"},
      {"dram.queue_cycles", &m_timing.queue_cycles,
       "cycles references waited for a busy DRAM channel"},
  });
  m_stats.add_formula("guest_pt_frames", [this] { return stats::Value(m_guest.frames()); },
                      "4K guest-physical frames holding guest page tables");
  m_stats.add_formula("host_pt_frames", [this] { return stats::Value(m_host.frames()); },
                      "4K host frames holding nested page tables");
}

}  // namespace rmpsim::memory
