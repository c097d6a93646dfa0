#pragma once
// Synthetic access traces with known properties, for benchmarks and for tests
// that need a trace of a given shape: docs/trace-format.md "Generator".
//
// Output is a pure function of the GenSpec: the PRNG (xoshiro256** seeded by
// splitmix64) and the range reduction are written out here rather than taken
// from <random>, whose distributions differ between standard libraries.
//
// Only R and W accesses of 8 bytes are generated, no MAP lines: the
// simulator's guest OS model demand-maps first touches (TRACE-FORMAT.md,
// "Traces that carry only accesses").
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace_io.hpp"

namespace rmpsim::trace {

struct GenSpec {
  // "hot": each vCPU reuses `hot_pages` pages (TLB-hit dominated).
  // "random": uniform over each vCPU's share of the footprint (walk dominated).
  // "stream": each vCPU walks its share sequentially, 64-byte stride, wrapping.
  // "chase": a dependent pointer chase as Intel MLC measures idle latency:
  //   first one read of every page of each vCPU's share (so demand faults and
  //   acceptance are out of the way), then `accesses` reads of 64-byte lines
  //   in the order of one random cyclic permutation of the share's lines.
  //   Reads only (write_fraction does not apply).
  std::string pattern = "random";
  std::uint64_t accesses = 1000000;  // in total, over all vCPUs
  unsigned vcpus = 1;                // accesses go round-robin: vCPU = index % vcpus
  // Guest virtual bytes in use, split evenly: vCPU i owns
  // [base_gva + i*share, base_gva + (i+1)*share), share = footprint/vcpus rounded down to 4K.
  std::uint64_t footprint_bytes = 1ull << 30;
  double write_fraction = 0.0;  // probability that an access is W rather than R
  std::uint64_t seed = 1;
  std::uint64_t base_gva = 0x7f0000000000;  // 4K-aligned
  unsigned hot_pages = 8;                   // "hot" only; capped at the share
};

// Throws InputError("<gen>", 0, "...") for a spec that cannot be generated:
// unknown pattern, no vCPUs, a share under 4K, a fraction outside 0..1, ...
void check_gen_spec(const GenSpec& spec);

class Generator {
 public:
  explicit Generator(const GenSpec& spec);  // checks the spec
  bool next(Event& ev);                     // false after spec.accesses events

 private:
  std::uint64_t rand64();
  std::uint64_t rand_below(std::uint64_t n);

  // Pattern chase: the i-th line of a random permutation of `m_lines`
  // lines (a Feistel network over the next power of four, cycle-walking
  // into range: no table, the same order on every machine).
  std::uint64_t permute(std::uint64_t i) const;

  enum class Pattern { Hot, Random, Stream, Chase };
  GenSpec m_spec;
  Pattern m_pattern;
  std::uint64_t m_share;
  std::uint64_t m_hot_pages;
  std::uint64_t m_done = 0;
  std::array<std::uint64_t, 4> m_state;
  std::vector<std::uint64_t> m_stream_pos;  // per vCPU
  // Pattern chase: lines per share, the Feistel half width and round keys,
  // and how many events the touch pass makes (one per page of every share).
  std::uint64_t m_lines = 0;
  unsigned m_half_bits = 0;
  std::array<std::uint64_t, 4> m_keys{};
  std::uint64_t m_touch = 0;
};

// Writes spec.accesses events to `out` (does not call out.finish()).
void generate(const GenSpec& spec, Writer& out);

// The same events as a Reader, without a file.
std::unique_ptr<Reader> generator_reader(const GenSpec& spec);

}  // namespace rmpsim::trace
