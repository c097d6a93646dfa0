#include "models/memory/mem_timing.hpp"

#include <algorithm>

namespace rmpsim::memory {

MemTiming::MemTiming(const MemTimingParams& p)
    : m_p(p),
      m_lines(p.cache_lines, p.cache_ways),
      m_dram(std::max(1u, p.channels), DramChannel(p.dram_busy_cycles)),
      m_channels(m_dram.size()) {}

// A miss (the line is now cached, if the cache is enabled) goes to DRAM.
std::uint64_t MemTiming::miss(std::uint64_t line, std::uint64_t now) {
  ++misses;
  // Lines interleave over channels; a reference waits for its channel.
  const std::uint64_t wait = m_dram[m_channels.mod(line)].reserve(now);
  queue_cycles += wait;
  return wait + m_p.dram_cycles;
}

template <class Access>
std::uint64_t MemTiming::chain(const char* p, std::size_t stride, unsigned n, std::uint64_t now,
                               Access access) {
  // Locals: the line cache's stores into its sets could otherwise alias
  // `hits`, the latency and the cache's geometry, forcing reloads (and a
  // store of `hits`) per reference. A hit is only counted; the latency of
  // the references before a miss (when the miss is issued) is worked out
  // at the miss.
  const std::uint64_t hit_cycles = m_p.hit_cycles;
  const SetAssoc<void>::View sets = m_lines.view();
  std::uint64_t nmiss = 0, miss_cycles = 0;
  for (unsigned i = 0; i < n; ++i, p += stride) {
    const std::uint64_t line = *reinterpret_cast<const std::uint64_t*>(p) >> 6;
    if (!access(sets, line, line)) {
      const std::uint64_t before = (i - nmiss) * hit_cycles + miss_cycles;
      miss_cycles += miss(line, now + before);
      ++nmiss;
    }
  }
  hits += n - nmiss;
  return (n - nmiss) * hit_cycles + miss_cycles;
}

std::uint64_t MemTiming::access_chain(const std::uint64_t* spas, std::size_t stride, unsigned n,
                                      std::uint64_t now) {
  const char* p = reinterpret_cast<const char*>(spas);
  if (m_lines.wide()) {
    std::uint64_t total = 0;
    for (unsigned i = 0; i < n; ++i, p += stride)
      total += access(*reinterpret_cast<const std::uint64_t*>(p), now + total);
    return total;
  }
  const SetAssoc<void>::View sets = m_lines.view();
  if (sets.map.pow2 && sets.ways == 8)  // the default geometry
    return chain(p, stride, n, now, SetAssoc<void>::access_pow2<8>);
  return chain(p, stride, n, now,
               [](const SetAssoc<void>::View& c, std::uint64_t key, std::uint64_t index) {
                 return SetAssoc<void>::access(c, key, index);
               });
}

void MemTiming::flush_frame(std::uint64_t spa) {
  const std::uint64_t first = (spa >> 12) << 6;
  for (std::uint64_t l = first; l < first + 64; ++l) m_lines.erase(l, l);
}

}  // namespace rmpsim::memory
