#include "models/memory/memory_params.hpp"

#include <string>

namespace rmpsim::memory {

namespace {
// Where the Zen 4 geometry and latencies come from (see docs/models.md,
// "Cache hierarchy").
constexpr const char* kSog =
    "AMD Software Optimization Guide for AMD Family 19h Processors (pub. 56665; Zen 4: "
    "pub. 57647)";
}  // namespace

void memory_schema(SchemaBuilder& b) {
  // Capacity and ways of one level, both from the same source.
  auto geometry = [&](const std::string& level, std::int64_t lines, std::int64_t ways,
                      const std::string& what, const std::string& size, const std::string& src) {
    b.int_key(level + ".lines", lines, 0, 1 << 26, "64-byte lines", what, size + ": " + src);
    b.int_key(level + ".ways", ways, 1, 1 << 20, "ways", "Ways of " + level,
              std::to_string(ways) + "-way: " + src);
  };
  geometry("memory.l1i", 512, 8,
           "Per-vCPU L1 instruction cache capacity; instruction fetches enter here; 0 sends "
           "them to the L2",
           "32 KiB", std::string(kSog) + ", 'L1 Instruction Cache'");
  b.int_key("memory.l1i.hit_cycles", 4, 0, 10000, "cycles",
            "Latency charged for an instruction fetch that hits the L1I",
            "assumption: charged like an L1D load hit (AMD gives no load-to-use figure for "
            "fetches; the pipeline hides most of it); the 4 cycles cpu.access_cycles charged "
            "before");
  geometry("memory.l1d", 512, 8,
           "Per-vCPU L1 data cache capacity; guest and host loads and stores enter here at "
           "their SPA (write-back, write-allocate); 0 sends them to the L2",
           "32 KiB", std::string(kSog) + ", 'L1 Data Cache'");
  b.int_key("memory.l1d.hit_cycles", 4, 0, 10000, "cycles",
            "Load-to-use latency of an L1D hit (replaces cpu.access_cycles)",
            std::string("4 cycles for integer loads: ") + kSog + ", 'L1 Data Cache'");
  geometry("memory.l2", 16384, 8,
           "Per-vCPU unified L2 capacity; L1 misses and the table walker's page-table and RMP "
           "references enter here (replaces memory.ptcache.lines)",
           "1 MiB per Zen 4 core", std::string(kSog) + ", 'L2 Cache'");
  b.int_key("memory.l2.hit_cycles", 14, 0, 10000, "cycles", "Load-to-use latency of an L2 hit",
            std::string("14 cycles on Zen 4: ") + kSog + ", 'L2 Cache'");
  b.bool_key("memory.l2.inclusive", true,
             "The L2 holds every line its L1s hold: an L2 eviction also evicts (back-invalidates) "
             "the L1 copies, merging dirty data",
             std::string("the L2 is inclusive of the L1 caches: ") + kSog + ", 'L2 Cache'");
  geometry("memory.l3", 524288, 16,
           "Shared L3 capacity, a victim cache of the L2s (filled by L2 evictions; a hit moves "
           "the line back to the L2); 0: no L3",
           "32 MiB per CCD (8 cores), filled from L2 victims", std::string(kSog) + ", 'L3 Cache'");
  b.int_key("memory.l3.hit_cycles", 50, 0, 10000, "cycles", "Load-to-use latency of an L3 hit",
            "about 50 cycles: Chips and Cheese, 'Genoa-X: Server V-Cache Round 2' (2023) reads "
            "Zen 4's L3 latency as that of the 50-cycle Zen 3 V-Cache L3 (measured, not an "
            "AMD figure)");
  b.enum_key("memory.walk_level", "l2", {"l2", "l1d"},
             "Cache level the table walker's page-table and RMP references enter at (l1d: "
             "through the vCPU's L1D, as data loads)",
             "assumption: AMD's walker caches upper-level entries in its own page-walk cache "
             "(walker.pwc.*) and reads table lines through the L2, not the L1D; AMD does not "
             "document the path");
  b.float_key("memory.dram.latency_ns", 110.0, 0.0, 100000.0, "ns",
              "Load-to-use latency of a reference that misses every cache level (idle, before "
              "waiting for a busy channel)",
              "assumption: idle DRAM latency of a Zen 4 EPYC (no published EPYC 9004 figure "
              "found; AnandTech measured ~122 ns full-random at 128 MiB on EPYC 7002, NPS1, "
              "TLB effects included); an SNP guest measured 169.3 ns with MLC including "
              "translation overheads [AMDSEV225]");
  b.int_key("memory.dram.channels", 12, 1, 1024, "channels",
            "DRAM channels; 64-byte lines interleave over them",
            "EPYC 9004: 12 DDR5 channels per socket (general knowledge)");
  b.float_key("memory.dram.busy_ns", 2.0, 0.0, 100000.0, "ns",
              "Time a channel is busy per line (read or write-back): later references to a "
              "busy channel wait",
              "64 B at DDR5-4800 (38.4 GB/s per channel) = 1.7 ns, rounded up");
  for (const char* level : {"memory.l1i", "memory.l1d", "memory.l2", "memory.l3"})
    b.multiple_of(std::string(level) + ".lines", std::string(level) + ".ways");
  // Keys this hierarchy replaced.
  b.replaced_by("memory.ptcache.lines", "memory.l2.lines");
  b.replaced_by("memory.ptcache.ways", "memory.l2.ways");
  b.replaced_by("memory.ptcache.hit_cycles", "memory.l2.hit_cycles");
  b.replaced_by("cpu.access_cycles", "memory.l1d.hit_cycles");
}

CacheParams cache_params_from(const Config& c, const Clock& clock, unsigned cores) {
  CacheParams p;
  p.cores = cores;
  auto level = [&](const std::string& name) {
    LevelParams l;
    l.lines = static_cast<unsigned>(c.get_int(name + ".lines"));
    l.ways = static_cast<unsigned>(c.get_int(name + ".ways"));
    l.hit_cycles = static_cast<std::uint64_t>(c.get_int(name + ".hit_cycles"));
    return l;
  };
  p.l1i = level("memory.l1i");
  p.l1d = level("memory.l1d");
  p.l2 = level("memory.l2");
  p.l3 = level("memory.l3");
  p.l2_inclusive = c.get_bool("memory.l2.inclusive");
  p.walk_at_l1d = c.get_string("memory.walk_level") == "l1d";
  p.dram_cycles = clock.cycles(c.get_float("memory.dram.latency_ns"));
  p.dram_busy_cycles = clock.cycles(c.get_float("memory.dram.busy_ns"));
  p.channels = static_cast<unsigned>(c.get_int("memory.dram.channels"));
  return p;
}

}  // namespace rmpsim::memory
