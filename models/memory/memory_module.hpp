#pragma once
// The memory block as a SystemC module: it owns the sparse stores (guest
// page tables in guest-physical memory, nested page tables in host memory)
// and the timing of table references, which MMUs reach through an
// interface-method call (sc_export) rather than a transaction per reference:
// a walk makes up to 35 dependent references, and the functional walker has
// already read them.
#include <cstddef>
#include <cstdint>

#include <systemc>

#include "models/common/stats.hpp"
#include "models/memory/mem_timing.hpp"
#include "models/memory/phys_store.hpp"

namespace rmpsim::memory {

class MemTimingIf : public virtual sc_core::sc_interface {
 public:
  // Latency in cycles of a page-table or RMP reference to `spa` at `now`.
  virtual std::uint64_t reference(std::uint64_t spa, std::uint64_t now) = 0;
  // A chain of `n` dependent references (each issued when the previous one
  // completes), the first at `now`: their total latency. One interface call
  // per walk instead of one per reference. The addresses are read where the
  // caller keeps them: the i-th at `spas` + i * `stride` bytes (a field of
  // the caller's reference records, no copy).
  virtual std::uint64_t reference_chain(const std::uint64_t* spas, std::size_t stride,
                                        unsigned n, std::uint64_t now) = 0;
};

class MemoryModule : public sc_core::sc_module, public MemTimingIf {
 public:
  sc_core::sc_export<MemTimingIf> timing_export;

  MemoryModule(const sc_core::sc_module_name& name, const MemTimingParams& p);
  // "mem": the line cache, DRAM queueing and the page-table stores.
  stats::Group& stats() { return m_stats; }

  std::uint64_t reference(std::uint64_t spa, std::uint64_t now) override {
    return m_timing.access(spa, now);
  }
  std::uint64_t reference_chain(const std::uint64_t* spas, std::size_t stride, unsigned n,
                                std::uint64_t now) override {
    return m_timing.access_chain(spas, stride, n, now);
  }

  PhysStore& guest_store() { return m_guest; }
  PhysStore& host_store() { return m_host; }
  MemTiming& timing() { return m_timing; }

 private:
  void register_stats();

  PhysStore m_guest;  // guest-physical: guest page tables
  PhysStore m_host;   // system-physical: nested page tables
  MemTiming m_timing;
  stats::Group m_stats{basename()};
};

}  // namespace rmpsim::memory
