#pragma once
// What `rmpsim trace stat` reports: counts per op and per vCPU, distinct 4K
// pages touched and address ranges, computed in one streaming pass. Memory
// grows with the pages touched and the highest vCPU number, never with the
// trace length.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "traces/trace_io.hpp"

namespace rmpsim::trace {

// A set of 4K page numbers (open addressing; page numbers are < 2^52, so
// all-ones marks an empty slot).
class PageSet {
 public:
  bool insert(std::uint64_t page);  // true if it was new
  std::uint64_t size() const { return m_size; }

 private:
  void grow();
  std::vector<std::uint64_t> m_slots;
  std::uint64_t m_size = 0;
};

struct AddrRange {
  std::uint64_t accesses = 0;
  std::uint64_t bytes = 0;    // sum of access sizes
  std::uint64_t min = ~0ull;  // lowest byte address touched
  std::uint64_t max = 0;      // highest byte address touched
  PageSet pages;              // distinct 4K pages touched
};

struct TraceStats {
  std::uint64_t events = 0;
  std::array<std::uint64_t, kOpCount> per_op{};
  std::vector<std::uint64_t> per_vcpu;  // events per vCPU; index = vCPU number
  AddrRange guest;                      // R W X M, by GVA
  AddrRange host;                       // HOST R/W, by GPA
  std::uint64_t delay_cycles = 0;       // sum of D operands
  std::uint64_t psc_entries = 0;        // sum over PSC events

  void add(const Event& ev);
  // gem5-style "name value # description" lines, every op listed.
  void print(std::ostream& os) const;
};

// Reads `in` to the end (InputError propagates from the reader).
TraceStats compute_stats(Reader& in);

}  // namespace rmpsim::trace
