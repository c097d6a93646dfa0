#pragma once
// Timing of page-table and RMP references (functional core: no SystemC).
// A set-associative LRU cache of 64-byte lines stands for the part of the
// cache hierarchy that holds page-table and RMP lines; a miss goes to DRAM,
// whose channels are a shared resource: a reference occupies its channel
// for memory.dram.busy_ns and waits while the channel is taken
// (DramChannel, dram_channel.hpp). Data accesses are not modelled here (cpu.access_cycles).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/common/divisor.hpp"
#include "models/memory/dram_channel.hpp"
#include "models/common/set_assoc.hpp"

namespace rmpsim::memory {

// Built by mem_timing_params_from() (memory_params.hpp); the defaults live in
// the schema.
struct MemTimingParams {
  unsigned cache_lines;            // memory.ptcache.lines
  unsigned cache_ways;             // memory.ptcache.ways
  std::uint64_t hit_cycles;        // memory.ptcache.hit_cycles
  std::uint64_t dram_cycles;       // memory.dram.latency_ns in cycles
  std::uint64_t dram_busy_cycles;  // memory.dram.busy_ns in cycles
  unsigned channels;               // memory.dram.channels
};

class MemTiming {
 public:
  explicit MemTiming(const MemTimingParams& p);

  // Latency in cycles of one reference to `spa` issued at cycle `now`.
  // Inline: walks make ~10 of these per TLB miss and most hit the cache.
  std::uint64_t access(std::uint64_t spa, std::uint64_t now) {
    const std::uint64_t line = spa >> 6;
    if (m_lines.access(line, line)) {
      ++hits;
      return m_p.hit_cycles;
    }
    return miss(line, now);
  }
  // A chain of `n` dependent references, each issued when the one before it
  // completes, the first at `now`; the i-th address is at `spas` + i *
  // `stride` bytes. Their total latency: the same as n calls of access(),
  // with the hit count and latency kept in registers over the chain.
  std::uint64_t access_chain(const std::uint64_t* spas, std::size_t stride, unsigned n,
                             std::uint64_t now);
  // Forgets cached lines of a 4K frame (e.g. a page returned to the host is
  // CLFLUSHed, snp-semantics §1.7).
  void flush_frame(std::uint64_t spa);

  std::uint64_t hits = 0, misses = 0, queue_cycles = 0;

 private:
  std::uint64_t miss(std::uint64_t line, std::uint64_t now);
  // access_chain over recency-ordered sets, with `access` as
  // SetAssoc<void>::access or one of its unrolled forms.
  template <class Access>
  std::uint64_t chain(const char* p, std::size_t stride, unsigned n, std::uint64_t now,
                      Access access);

  MemTimingParams m_p;
  // The line cache's tags (the line number is key and index).
  SetAssoc<void> m_lines;
  std::vector<DramChannel> m_dram;          // per channel
  Divisor m_channels;                      // line -> channel
};

}  // namespace rmpsim::memory
