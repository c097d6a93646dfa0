#pragma once
// What `rmpsim trace stat` reports: counts per op and per vCPU, distinct 4K
// pages touched and address ranges, computed in one streaming pass. Memory
// grows with the pages touched and the highest vCPU number, never with the
// trace length.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <utility>
#include <vector>

#include "traces/trace_io.hpp"

namespace rmpsim::trace {

// A set of 4K page numbers (open addressing; page numbers are < 2^52, so
// all-ones marks an empty slot).
// Each page also counts the accesses that start in it (the regions of
// `trace stat`).
class PageSet {
 public:
  bool insert(std::uint64_t page, std::uint64_t accesses = 0);  // true if it was new
  std::uint64_t size() const { return m_size; }
  // {page, accesses starting in it}, in page order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sorted() const;

 private:
  void grow();
  std::vector<std::uint64_t> m_slots;
  std::vector<std::uint64_t> m_counts;  // parallel to m_slots
  std::uint64_t m_size = 0;
};

// A cluster of touched 4K pages: [start, end) byte addresses, pages with
// gaps of at most kRegionGap bytes between them.
struct Region {
  std::uint64_t start = 0, end = 0;
  std::uint64_t pages = 0;     // distinct 4K pages touched in it
  std::uint64_t accesses = 0;  // accesses that start in it
};
// Untouched space wider than this splits two regions. 1 MiB keeps a
// program's text, heap, mappings and stack apart (they lie far further
// apart) while one region's scattered pages stay one region.
constexpr std::uint64_t kRegionGap = 1ull << 20;
std::vector<Region> regions_of(const PageSet& pages);

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
  AddrRange hostmem;                    // HMEM R/W, by SPA
  std::uint64_t delay_cycles = 0;       // sum of D operands
  std::uint64_t psc_entries = 0;        // sum over PSC events

  void add(const Event& ev);
  // gem5-style "name value # description" lines, every op listed, then the
  // guest address regions (regions_of).
  void print(std::ostream& os) const;
};

// Reads `in` to the end (InputError propagates from the reader).
TraceStats compute_stats(Reader& in);

}  // namespace rmpsim::trace
