#include "models/memory/memory_params.hpp"

namespace rmpsim::memory {

void memory_schema(SchemaBuilder& b) {
  b.int_key("memory.ptcache.lines", 16384, 0, 1 << 26, "64-byte lines",
            "Cache of page-table and RMP lines in front of DRAM (data lines are not "
            "modelled and do not compete); 0 sends every reference to DRAM",
            "assumption: the 1 MiB L2 of a Zen 4 core (general knowledge)");
  b.int_key("memory.ptcache.ways", 8, 1, 1 << 20, "ways", "Page-table line cache ways",
            "Zen 4 L2: 8 ways (general knowledge)");
  b.int_key("memory.ptcache.hit_cycles", 14, 0, 10000, "cycles",
            "Latency of a page-table reference that hits the line cache",
            "Zen 4 L2 load-to-use latency, 14 cycles (general knowledge)");
  b.float_key("memory.dram.latency_ns", 110.0, 0.0, 100000.0, "ns",
              "Latency of a page-table reference that misses the line cache",
              "assumption: idle DRAM latency of a Zen 4 EPYC; an SNP guest measured "
              "169.3 ns with MLC including translation overheads [AMDSEV225]");
  b.int_key("memory.dram.channels", 12, 1, 1024, "channels",
            "DRAM channels; 64-byte lines interleave over them",
            "EPYC 9004: 12 DDR5 channels per socket (general knowledge)");
  b.float_key("memory.dram.busy_ns", 2.0, 0.0, 100000.0, "ns",
              "Time a channel is busy per line: later references to a busy channel "
              "wait",
              "64 B at DDR5-4800 (38.4 GB/s per channel) = 1.7 ns, rounded up");
  b.multiple_of("memory.ptcache.lines", "memory.ptcache.ways");
}

MemTimingParams mem_timing_params_from(const Config& c, const Clock& clock) {
  MemTimingParams p;
  p.cache_lines = static_cast<unsigned>(c.get_int("memory.ptcache.lines"));
  p.cache_ways = static_cast<unsigned>(c.get_int("memory.ptcache.ways"));
  p.hit_cycles = static_cast<std::uint64_t>(c.get_int("memory.ptcache.hit_cycles"));
  p.dram_cycles = clock.cycles(c.get_float("memory.dram.latency_ns"));
  p.dram_busy_cycles = clock.cycles(c.get_float("memory.dram.busy_ns"));
  p.channels = static_cast<unsigned>(c.get_int("memory.dram.channels"));
  return p;
}

}  // namespace rmpsim::memory
