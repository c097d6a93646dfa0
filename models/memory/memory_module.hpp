#pragma once
// The memory block as a SystemC module: it owns the sparse stores (guest
// page tables in guest-physical memory, nested page tables in host memory)
// and the cache hierarchy every reference is timed by. MMUs reach the
// hierarchy through an interface-method call (sc_export) rather than a
// transaction per reference: a walk makes up to 35 dependent references, and
// the functional walker has already read them. vCPUs time their data
// accesses and fetches through caches() directly (one call per access).
#include <cstddef>
#include <cstdint>

#include <systemc>

#include "models/common/stats.hpp"
#include "models/memory/cache_hierarchy.hpp"
#include "models/memory/phys_store.hpp"

namespace rmpsim::memory {

class MemTimingIf : public virtual sc_core::sc_interface {
 public:
  // Latency in cycles of a page-table or RMP reference of core `core`'s
  // table walker to `spa` at `now`.
  virtual std::uint64_t reference(unsigned core, std::uint64_t spa, std::uint64_t now) = 0;
  // A chain of `n` dependent references (each issued when the previous one
  // completes), the first at `now`: their total latency. One interface call
  // per walk instead of one per reference. The addresses are read where the
  // caller keeps them: the i-th at `spas` + i * `stride` bytes (a field of
  // the caller's reference records, no copy).
  virtual std::uint64_t reference_chain(unsigned core, const std::uint64_t* spas,
                                        std::size_t stride, unsigned n, std::uint64_t now) = 0;
};

class MemoryModule : public sc_core::sc_module, public MemTimingIf {
 public:
  sc_core::sc_export<MemTimingIf> timing_export;

  MemoryModule(const sc_core::sc_module_name& name, const CacheParams& p);
  // "mem": the shared L3, DRAM and the page-table stores (each vCPU's group
  // has its own L1/L2 counters: register_core_stats).
  stats::Group& stats() { return m_stats; }
  // Adds core `core`'s L1I/L1D/L2 counters to `g` (the vCPU's group).
  void register_core_stats(unsigned core, stats::Group& g);

  std::uint64_t reference(unsigned core, std::uint64_t spa, std::uint64_t now) override {
    return m_caches.table(core, spa, now);
  }
  std::uint64_t reference_chain(unsigned core, const std::uint64_t* spas, std::size_t stride,
                                unsigned n, std::uint64_t now) override {
    return m_caches.table_chain(core, spas, stride, n, now);
  }

  PhysStore& guest_store() { return m_guest; }
  PhysStore& host_store() { return m_host; }
  CacheHierarchy& caches() { return m_caches; }

 private:
  void register_stats();

  PhysStore m_guest;  // guest-physical: guest page tables
  PhysStore m_host;   // system-physical: nested page tables
  CacheHierarchy m_caches;
  stats::Group m_stats{basename()};
};

}  // namespace rmpsim::memory
