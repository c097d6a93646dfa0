#include "models/memory/cache_hierarchy.hpp"

#include <algorithm>

namespace rmpsim::memory {

CacheHierarchy::CacheHierarchy(const CacheParams& p)
    : m_p(p),
      m_cores(std::max(1u, p.cores)),
      m_l3(p.l3.lines, p.l3.ways),
      m_dram(std::max(1u, p.channels), DramChannel(p.dram_busy_cycles)),
      m_channels(m_dram.size()) {
  for (Core& c : m_cores) {
    c.l1i.configure(p.l1i.lines, p.l1i.ways);
    c.l1d.configure(p.l1d.lines, p.l1d.ways);
    c.l2.configure(p.l2.lines, p.l2.ways);
  }
}

std::uint64_t CacheHierarchy::dram_read(std::uint64_t line, std::uint64_t now) {
  ++dram_reads;
  // Lines interleave over channels; a reference waits for its channel.
  const std::uint64_t wait = m_dram[m_channels.mod(line)].reserve(now);
  queue_cycles += wait;
  return wait + m_p.dram_cycles;
}

// A write-back is posted: it takes its channel's time (later reads may wait
// for it) but nobody waits for it to complete.
void CacheHierarchy::dram_write(std::uint64_t line, std::uint64_t now) {
  ++dram_writebacks;
  m_dram[m_channels.mod(line)].reserve(now);
}

void CacheHierarchy::l1_victim(Core& c, std::uint64_t victim, std::uint64_t now) {
  if (victim == LineCache::kEmpty || !(victim & 1)) return;  // clean lines are dropped
  ++c.n.writebacks;
  // Inclusive: the L2 has the line and takes the dirty data. Otherwise it
  // may not have it: the write-back allocates.
  std::uint64_t out;
  if (!c.l2.access(victim >> 1, 1, out)) l2_victim(c, out, now);
}

void CacheHierarchy::l2_victim(Core& c, std::uint64_t victim, std::uint64_t now) {
  if (victim == LineCache::kEmpty) return;
  const std::uint64_t line = LineCache::line_of(victim);
  bool dirty = victim & 1;
  // Only a line an L1 asked for can be in an L1 (kInL1); the walker's
  // page-table and RMP lines never are, and most L2 victims are theirs.
  if (m_p.l2_inclusive && (victim & kInL1)) {
    // Back-invalidation: an L1 copy may hold newer (dirty) data.
    const std::uint64_t d = c.l1d.remove(line);
    if (d != LineCache::kEmpty) dirty |= d & 1;
    if (c.l1i_filled) c.l1i.remove(line);
    // The L1 filters must not name a line that is gone: the next access
    // to it misses the L1 (a walk or a fetch can evict it from the L2
    // between two accesses to the same line).
    if (line == c.last_dline) c.last_dline = kNoLine;
    if (line == c.last_iline) c.last_iline = kNoLine;
  }
  if (dirty) ++c.n.writebacks;
  // The L3 is filled by L2 evictions, clean or dirty (a victim cache). The
  // line may be there already (another core evicted it too).
  std::uint64_t out;
  if (!m_l3.enabled()) {
    if (dirty) dram_write(line, now);
    return;
  }
  if (!m_l3.access_cold(line, std::uint64_t(dirty), out) && out != LineCache::kEmpty &&
      (out & 1))
    dram_write(out >> 1, now);
}

std::uint64_t CacheHierarchy::l2_miss(Core& c, std::uint64_t line, std::uint64_t victim,
                                      std::uint64_t now) {
  // The L2 has put `line` in front (clean); find it further down, then make
  // room: the victim goes to the L3 after the lookup, so it cannot push out
  // the line being fetched.
  std::uint64_t cycles;
  // The victim's L3 set is read after the line's: ask for both now.
  if (victim != LineCache::kEmpty) m_l3.prefetch(LineCache::line_of(victim));
  const std::uint64_t e = m_l3.remove(line);
  if (e != LineCache::kEmpty) {
    ++l3.hits;
    cycles = m_p.l3.hit_cycles;
    if (e & 1) c.l2.front(line) |= 1;  // the dirty data moves up with the line
  } else if (m_cores.size() > 1 && in_peer_l2(c, line)) {
    // Zen's L3 keeps shadow tags of its cores' L2s: a line another core
    // holds is sent from there, not read from DRAM (assumption: at the
    // L3 latency; coherence states are not modelled, both copies stay).
    ++l3.peer_hits;
    cycles = m_p.l3.hit_cycles;
  } else {
    ++l3.misses;
    cycles = dram_read(line, now);
  }
  l2_victim(c, victim, now);
  return cycles;
}

bool CacheHierarchy::in_peer_l2(const Core& c, std::uint64_t line) const {
  for (const Core& o : m_cores)
    if (&o != &c && o.l2.peek(line) != LineCache::kEmpty) return true;
  return false;
}

inline std::uint64_t CacheHierarchy::level2(Core& c, std::uint64_t line, std::uint64_t now,
                                            bool walk) {
  std::uint64_t victim;
  // An L1's fill marks the L2 line as possibly in an L1; a walk does not.
  if (c.l2.access(line, walk ? 0 : kInL1, victim)) {
    ++c.n.l2.hits;
    c.n.l2_walk_hits += walk;
    return m_p.l2.hit_cycles;
  }
  ++c.n.l2.misses;
  c.n.l2_walk_misses += walk;
  return l2_miss(c, line, victim, now);
}

std::uint64_t CacheHierarchy::data_slow(Core& c, std::uint64_t line, bool write,
                                        std::uint64_t now) {
  c.last_dline = kNoLine;
  if (!c.l1d.enabled()) {
    const std::uint64_t cycles = level2(c, line, now, false);
    if (write) c.l2.front(line) |= 1;  // the store dirties the L2's copy
    return cycles;
  }
  std::uint64_t victim;
  bool hit;
  std::uint64_t* const entry = c.l1d.access_entry(line, std::uint64_t(write), victim, hit);
  std::uint64_t cycles;
  if (hit) {
    ++c.n.l1d.hits;
    cycles = m_p.l1d.hit_cycles;
  } else {
    cycles = l1d_miss(c, line, victim, now);
  }
  c.last_dline = line;
  c.last_dentry = entry;  // `line` stays its set's most recent while the filter names it
  return cycles;
}

std::uint64_t CacheHierarchy::l1d_miss(Core& c, std::uint64_t line, std::uint64_t victim,
                                       std::uint64_t now) {
  ++c.n.l1d.misses;
  l1_victim(c, victim, now);
  // The L2 copy stays clean: the dirty data of a store lives in the L1D
  // until it is evicted. An L2 eviction never picks `line` (it is the
  // L2's most recent), so the L1D keeps it in front.
  return level2(c, line, now, false);
}

std::uint64_t CacheHierarchy::fetch_slow(Core& c, std::uint64_t line, std::uint64_t now) {
  c.last_iline = kNoLine;
  if (!c.l1i.enabled()) return level2(c, line, now, false);
  std::uint64_t victim;
  if (c.l1i.access(line, 0, victim)) {
    ++c.n.l1i.hits;
    c.last_iline = line;
    return m_p.l1i.hit_cycles;
  }
  ++c.n.l1i.misses;  // instruction lines are never dirty: the victim is dropped
  c.l1i_filled = true;
  const std::uint64_t cycles = level2(c, line, now, false);
  c.last_iline = line;
  return cycles;
}

std::uint64_t CacheHierarchy::table_chain(unsigned core, const std::uint64_t* spas,
                                          std::size_t stride, unsigned n, std::uint64_t now) {
  Core& c = m_cores[core];
  const char* p = reinterpret_cast<const char*>(spas);
  std::uint64_t total = 0;
  if (m_p.walk_at_l1d) {
    for (unsigned i = 0; i < n; ++i, p += stride)
      total += data(core, *reinterpret_cast<const std::uint64_t*>(p), false, now + total);
    return total;
  }
  // Every address is known now: the host fetches the lines of their sets
  // together rather than one reference after another (host speed only;
  // LineCache::prefetch).
  const char* q = p;
  for (unsigned i = 0; i < n; ++i, q += stride) {
    const std::uint64_t line = *reinterpret_cast<const std::uint64_t*>(q) >> 6;
    c.l2.prefetch(line);
    m_l3.prefetch(line);
  }
  for (unsigned i = 0; i < n; ++i, p += stride)
    total += level2(c, *reinterpret_cast<const std::uint64_t*>(p) >> 6, now + total, true);
  return total;
}

std::uint64_t CacheHierarchy::flush_frame(std::uint64_t spa) {
  const std::uint64_t first = (spa >> 12) << 6;
  std::vector<unsigned> per_channel(m_dram.size(), 0);
  unsigned dirty_lines = 0;
  for (std::uint64_t line = first; line < first + 64; ++line) {
    bool dirty = false, present = false;
    auto drop = [&](auto& level) {
      const std::uint64_t e = level.remove(line);
      if (e == LineCache::kEmpty) return;
      present = true;
      dirty |= e & 1;
    };
    for (Core& c : m_cores) {
      drop(c.l1i);
      drop(c.l1d);
      drop(c.l2);
    }
    drop(m_l3);
    flushed_lines += present;
    if (!dirty) continue;
    ++flushed_dirty;
    ++dirty_lines;
    ++per_channel[m_channels.mod(line)];
    ++dram_writebacks;
  }
  // The L1 filters may name a line that is gone.
  for (Core& c : m_cores) c.last_dline = c.last_iline = kNoLine;
  if (dirty_lines == 0) return 0;
  // Cost model (assumption, docs/models.md "Cache hierarchy"): the
  // write-backs of one frame go out together, one per channel at a time;
  // the flush completes when the last has reached DRAM: one DRAM latency
  // plus the channel time of the lines queued before it on the busiest
  // channel. Clean lines cost nothing extra. The flush is not booked on
  // the channels (the hypervisor model keeps no time of its own).
  const unsigned busiest = *std::max_element(per_channel.begin(), per_channel.end());
  return m_p.dram_cycles + std::uint64_t(busiest - 1) * m_p.dram_busy_cycles;
}

}  // namespace rmpsim::memory
