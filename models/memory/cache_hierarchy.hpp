#pragma once
// The cache hierarchy every memory reference flows through (functional
// core: no SystemC): per core an L1I, an L1D and an L2; one L3 shared by
// the cores; then DRAM, whose channels are a shared resource (DramChannel,
// dram_channel.hpp). Data, instruction, page-table and RMP lines compete
// for the same capacity. docs/models.md "Cache hierarchy" describes the
// policies and the level each reader enters at:
//  - guest (and host) loads and stores enter at the L1D at their SPA;
//    stores write-allocate and dirty the line (write-back);
//  - instruction fetches enter at the L1I;
//  - the table walker's page-table and RMP references enter at the L2
//    (memory.walk_level; AMD's walker keeps its own page-walk cache and
//    reads the tables through the L2, see the key's source).
// The latency of a reference is the load-to-use latency of the level that
// has the line (memory.*.hit_cycles, memory.dram.latency_ns), plus any wait
// for a busy DRAM channel. Fills: a line found below L1 is filled into the
// L2 and the L1 that asked; the L2 is inclusive of the L1s
// (memory.l2.inclusive: an L2 eviction also evicts the L1 copies) and the
// L3 is a victim cache of the L2s (filled by L2 evictions; a hit moves the
// line back up to the L2 and out of the L3; a line another core's L2 holds
// is served from there at the L3 latency, as Zen's L3 shadow tags allow).
// A dirty L3 eviction is written
// to DRAM: it occupies its channel but nobody waits for it.
#include <cstdint>
#include <vector>

#include "models/common/divisor.hpp"
#include "models/memory/dram_channel.hpp"
#include "models/memory/line_cache.hpp"
#include "models/memory/packed_line_cache.hpp"

namespace rmpsim::memory {

struct LevelParams {
  unsigned lines = 0;             // memory.<level>.lines (0: the level is absent)
  unsigned ways = 1;              // memory.<level>.ways
  std::uint64_t hit_cycles = 0;   // memory.<level>.hit_cycles
};

// Built by cache_params_from() (memory_params.hpp); the defaults live in the schema.
struct CacheParams {
  unsigned cores = 1;              // one L1I/L1D/L2 each (the vCPUs)
  LevelParams l1i, l1d, l2, l3;
  bool l2_inclusive = true;        // memory.l2.inclusive
  bool walk_at_l1d = false;        // memory.walk_level == "l1d" (default "l2")
  std::uint64_t dram_cycles = 0;   // memory.dram.latency_ns in cycles
  std::uint64_t dram_busy_cycles = 0;  // memory.dram.busy_ns in cycles
  unsigned channels = 1;           // memory.dram.channels
};

struct LevelCounters {
  std::uint64_t hits = 0, misses = 0;
  std::uint64_t peer_hits = 0;  // L3 only: misses served from another core's L2
};

// Per core: its private levels' counters.
struct CoreCacheCounters {
  LevelCounters l1i, l1d, l2;
  std::uint64_t l2_walk_hits = 0, l2_walk_misses = 0;  // page-table/RMP references
  std::uint64_t writebacks = 0;  // dirty lines the L1D or L2 evicted into the level below
};

class CacheHierarchy {
 public:
  explicit CacheHierarchy(const CacheParams& p);

  // A load (`write` false) or store of core `core` to `spa`, issued at
  // `now`: its latency in cycles. Inline: every guest access comes here, and
  // most hit the line the core touched last (a one-entry filter in front of
  // the L1D, valid while that line is the most recently used of its set).
  std::uint64_t data(unsigned core, std::uint64_t spa, bool write, std::uint64_t now) {
    Core& c = m_cores[core];
    const std::uint64_t line = spa >> 6;
    if (line == c.last_dline) {
      ++c.n.l1d.hits;
      *c.last_dentry |= std::uint64_t(write);
      return m_p.l1d.hit_cycles;
    }
    return data_slow(c, line, write, now);
  }
  // A store whose line data() has just brought in as a load completes: its
  // line becomes dirty where it is cached closest to the core.
  void dirty(unsigned core, std::uint64_t spa) {
    Core& c = m_cores[core];
    const std::uint64_t line = spa >> 6;
    if (!c.l1d.mark_dirty(line)) c.l2.mark_dirty(line);
  }
  // An instruction fetch of core `core` at `spa`.
  std::uint64_t fetch(unsigned core, std::uint64_t spa, std::uint64_t now) {
    Core& c = m_cores[core];
    const std::uint64_t line = spa >> 6;
    if (line == c.last_iline) {
      ++c.n.l1i.hits;
      return m_p.l1i.hit_cycles;
    }
    return fetch_slow(c, line, now);
  }
  // A page-table or RMP reference of core `core`'s table walker (enters at
  // the L2).
  std::uint64_t table(unsigned core, std::uint64_t spa, std::uint64_t now) {
    return table_chain(core, &spa, 0, 1, now);
  }
  // A chain of `n` dependent table references, each issued when the one
  // before it completes, the first at `now`; the i-th address is at `spas`
  // + i * `stride` bytes. Their total latency.
  std::uint64_t table_chain(unsigned core, const std::uint64_t* spas, std::size_t stride,
                            unsigned n, std::uint64_t now);

  // CLFLUSH of a 4K frame (KVM flushes a page that changes hands,
  // snp-semantics §1.7): its lines leave every level of every core; the
  // dirty ones are written to DRAM. Returns the cycles the flush takes
  // (0 if no line was dirty; see the .cpp for the cost model).
  std::uint64_t flush_frame(std::uint64_t spa);

  unsigned cores() const { return unsigned(m_cores.size()); }
  std::uint64_t l1d_hit_cycles() const { return m_p.l1d.hit_cycles; }
  const CoreCacheCounters& core_counters(unsigned core) const { return m_cores[core].n; }
  LevelCounters l3 = {};
  std::uint64_t dram_reads = 0, dram_writebacks = 0, queue_cycles = 0;
  std::uint64_t flushed_lines = 0, flushed_dirty = 0;

  // Inspection (tests): a line's entry at a level (LineCache::kEmpty if absent).
  std::uint64_t peek_l1d(unsigned core, std::uint64_t line) const { return m_cores[core].l1d.peek(line); }
  std::uint64_t peek_l2(unsigned core, std::uint64_t line) const { return m_cores[core].l2.peek(line); }
  std::uint64_t peek_l3(std::uint64_t line) const { return m_l3.peek(line); }

 private:
  static constexpr std::uint64_t kNoLine = ~0ull;
  // In an L2 entry: the line may be in an L1 (an L1 miss brought it in or
  // hit it). An L2 eviction back-invalidates the L1s only for such lines.
  static constexpr std::uint64_t kInL1 = LineCache::kFlag;
  struct Core {
    LineCache l1i, l1d, l2;
    // The line each L1 served last and (L1D) its entry, the most recent of
    // its set (LineCache::front).
    std::uint64_t last_dline = kNoLine, last_iline = kNoLine;
    std::uint64_t* last_dentry = nullptr;
    // The L1I has been filled at least once: until then an L2 eviction
    // need not look for its line there (a trace without fetches never does).
    bool l1i_filled = false;
    CoreCacheCounters n;
  };

  __attribute__((noinline)) std::uint64_t data_slow(Core& c, std::uint64_t line, bool write,
                                                    std::uint64_t now);
  // data_slow()'s L1D miss (`victim`: the entry the fill pushed out). Out of
  // line, so that an L1D hit, the common case, saves no registers for it.
  __attribute__((noinline)) std::uint64_t l1d_miss(Core& c, std::uint64_t line,
                                                   std::uint64_t victim, std::uint64_t now);
  __attribute__((noinline)) std::uint64_t fetch_slow(Core& c, std::uint64_t line,
                                                     std::uint64_t now);
  // The latency of `line` from the L2 down (it has missed the L1 or is a
  // table reference); fills the L2. Always inline (its callers are in the
  // same file): an out-of-line copy, which LTO chooses or not with
  // unrelated changes, costs each walk's chain of table references.
  __attribute__((always_inline)) inline std::uint64_t level2(Core& c, std::uint64_t line,
                                                             std::uint64_t now, bool walk);
  __attribute__((noinline)) std::uint64_t l2_miss(Core& c, std::uint64_t line,
                                                  std::uint64_t victim, std::uint64_t now);
  // An L1 eviction: a dirty line is written into the L2.
  void l1_victim(Core& c, std::uint64_t victim, std::uint64_t now);
  // An L2 eviction: out of the L1s too (inclusion), into the L3.
  void l2_victim(Core& c, std::uint64_t victim, std::uint64_t now);
  void dram_write(std::uint64_t line, std::uint64_t now);
  bool in_peer_l2(const Core& c, std::uint64_t line) const;
  std::uint64_t dram_read(std::uint64_t line, std::uint64_t now);

  // The L3: packed for the host when its geometry allows (the default's
  // does; PackedLineCache::fits), else a LineCache. Same behaviour either
  // way; one predictable branch per call.
  class L3 {
   public:
    L3(unsigned lines, unsigned ways) : m_packed(PackedLineCache::fits(lines, ways)) {
      if (m_packed)
        m_pc.configure(lines, ways);
      else
        m_lc.configure(lines, ways);
    }
    bool enabled() const { return m_packed || m_lc.enabled(); }
    bool access_cold(std::uint64_t line, std::uint64_t dirty, std::uint64_t& victim) {
      return m_packed ? m_pc.access_cold(line, dirty, victim)
                      : m_lc.access_cold(line, dirty, victim);
    }
    std::uint64_t remove(std::uint64_t line) {
      return m_packed ? m_pc.remove(line) : m_lc.remove(line);
    }
    std::uint64_t peek(std::uint64_t line) const {
      return m_packed ? m_pc.peek(line) : m_lc.peek(line);
    }
    void prefetch(std::uint64_t line) const {
      if (m_packed)
        m_pc.prefetch(line);
      else
        m_lc.prefetch(line);
    }

   private:
    bool m_packed;
    PackedLineCache m_pc;
    LineCache m_lc;
  };

  CacheParams m_p;
  std::vector<Core> m_cores;
  L3 m_l3;
  std::vector<DramChannel> m_dram;  // per channel
  Divisor m_channels;               // line -> channel
};

}  // namespace rmpsim::memory
