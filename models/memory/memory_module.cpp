#include "models/memory/memory_module.hpp"

namespace rmpsim::memory {

MemoryModule::MemoryModule(const sc_core::sc_module_name& name, const CacheParams& p)
    : sc_module(name), timing_export("timing_export"), m_caches(p) {
  timing_export.bind(*this);
  register_stats();
}

void MemoryModule::register_stats() {
  m_stats.add_counters({
      {"l3.hits", &m_caches.l3.hits, "references that missed an L2 and hit the shared L3"},
      {"l3.peer_hits", &m_caches.l3.peer_hits,
       "references that missed the L2 and the L3 and were served from another vCPU's L2"},
      {"l3.misses", &m_caches.l3.misses,
       "references that missed the L2s and the L3 (DRAM reads)"},
      {"dram.reads", &m_caches.dram_reads, "lines read from DRAM"},
      {"dram.writebacks", &m_caches.dram_writebacks,
       "dirty lines written to DRAM (L3 evictions and cache-line flushes)"},
      {"dram.queue_cycles", &m_caches.queue_cycles,
       "cycles references waited for a busy DRAM channel"},
      {"flush.lines", &m_caches.flushed_lines,
       "lines a page flush (CLFLUSH of a page changing hands) found cached and evicted"},
      {"flush.dirty", &m_caches.flushed_dirty, "of those, dirty lines written back"},
  });
  m_stats.add_formula("guest_pt_frames", [this] { return stats::Value(m_guest.frames()); },
                      "4K guest-physical frames holding guest page tables");
  m_stats.add_formula("host_pt_frames", [this] { return stats::Value(m_host.frames()); },
                      "4K host frames holding nested page tables");
}

void MemoryModule::register_core_stats(unsigned core, stats::Group& g) {
  const CoreCacheCounters& n = m_caches.core_counters(core);
  g.add_counters({
      {"l1i.hits", &n.l1i.hits, "instruction fetches that hit the L1I"},
      {"l1i.misses", &n.l1i.misses, "instruction fetches that missed the L1I"},
      {"l1d.hits", &n.l1d.hits, "loads and stores (guest and host) that hit the L1D"},
      {"l1d.misses", &n.l1d.misses, "loads and stores that missed the L1D"},
      {"l2.hits", &n.l2.hits, "references that hit the L2 (L1 misses and table references)"},
      {"l2.misses", &n.l2.misses, "references that missed the L2"},
      {"l2.walk_hits", &n.l2_walk_hits, "page-table and RMP references that hit the L2"},
      {"l2.walk_misses", &n.l2_walk_misses, "page-table and RMP references that missed the L2"},
      {"cache_writebacks", &n.writebacks,
       "dirty lines this vCPU's L1D and L2 evicted into the level below"},
  });
}

}  // namespace rmpsim::memory
