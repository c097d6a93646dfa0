#pragma once
// RMPOPT (functional core; docs/snp-semantics.md §2.4, issue 19): a per-CPU
// table with one bit per 1 GiB of system-physical memory. A set bit says the
// region holds no assigned page, so the CPU may skip the RMP check of a host
// write there. Software sets bits with the RMPOPT instruction (verify the
// region, then set), the hardware clears a region's bit when RMPUPDATE
// assigns a page in it, and Linux's policy decides when to run RMPOPT: over
// all RAM at SNP init, again some time after a guest's teardown, and on
// demand.
//
// The scans run on Linux's RMPOPT workqueue, not on the trace's CPUs: their
// cost is counted (scan_cycles) but charged to no trace stream (assumption,
// docs/snp-semantics.md §2.4).
#include <cstdint>
#include <vector>

#include "models/common/stats.hpp"
#include "models/rmp/rmp_table.hpp"

namespace rmpsim::rmp {

// Built by rmpopt_params_from() (rmp_params.hpp); the defaults live in the schema.
struct RmpoptParams {
  bool enabled = false;                   // rmp.rmpopt
  std::uint64_t instruction_cycles = 0;   // rmp.rmpopt_ns: one RMPOPT (assumption)
  std::uint64_t rescan_delay_cycles = 0;  // rmp.rmpopt_rescan_delay_ms
  std::uint64_t ram_regions = 0;          // rmp.rmpopt_ram_gib: 1 GiB regions of RAM
  unsigned cpus = 1;                      // cpu.count: one table per CPU
};

// What RMPOPT's verify-and-set function reports.
enum class RmpoptResult : std::uint8_t {
  Optimized,     // no page of the region is assigned: the bit is now set
  NotOptimized,  // an assigned page (or a region outside RAM): the bit stays clear
};

struct RmpoptCounters {
  std::uint64_t instructions = 0;       // RMPOPT verify-and-set executions
  std::uint64_t optimized = 0;          // ... that set their bit
  std::uint64_t bits_cleared = 0;       // set bits an RMPUPDATE cleared (per CPU)
  std::uint64_t scans = 0;              // passes over all RAM (init, re-scans, on demand)
  std::uint64_t rescan_requests = 0;    // RMPOPT rescan lines (teardown's request)
  std::uint64_t scan_cycles = 0;        // RMPOPT latency summed over the passes
};

class Rmpopt final : public AssignObserver {
 public:
  static constexpr unsigned kRegionShift = 30;  // one bit per 1 GiB

  // Attaches itself to `rmp` (clearing on assignment) when enabled.
  Rmpopt(RmpTable& rmp, const RmpoptParams& p);
  ~Rmpopt() override;
  Rmpopt(const Rmpopt&) = delete;
  Rmpopt& operator=(const Rmpopt&) = delete;

  bool enabled() const { return m_p.enabled; }

  // The instruction, on CPU `cpu`, for the 1 GiB region holding `spa`.
  // Verify-and-set: reads the region's RMP entries and sets the bit when
  // none is assigned.
  RmpoptResult verify_and_set(unsigned cpu, std::uint64_t spa);
  // Report: the region's bit on that CPU, the table unchanged.
  bool report(unsigned cpu, std::uint64_t spa) const {
    const std::uint64_t r = spa >> kRegionShift;
    if (!m_p.enabled || r >= m_p.ram_regions || cpu >= m_p.cpus) return false;
    return (m_bits[cpu * m_words + (r >> 6)] >> (r & 63)) & 1;
  }

  // AssignObserver: RMPUPDATE assigned a page, the hardware clears its
  // region's bit on every CPU.
  void page_assigned(std::uint64_t spa) override;

  // Linux's policy. snp_init(): verify-and-set every region of RAM on every
  // CPU (at SNP initialisation, before any guest). request_rescan(now): the
  // teardown's request; the pass runs rescan_delay after the *last* request
  // (a later request moves it). scan_now(): the on-demand trigger.
  // run_due(now): runs a requested pass whose time has come.
  void snp_init();
  void request_rescan(std::uint64_t now);
  void scan_now();
  void run_due(std::uint64_t now) {
    if (m_rescan_pending && now >= m_rescan_at) {
      m_rescan_pending = false;
      scan_all();
    }
  }

  const RmpoptCounters& counters() const { return m_c; }
  // "rmpopt": the counters above.
  stats::Group& stats() { return m_stats; }

 private:
  void scan_all();

  RmpTable& m_rmp;
  RmpoptParams m_p;
  std::size_t m_words = 0;            // 64-bit words per CPU's table
  std::vector<std::uint64_t> m_bits;  // CPU-major: cpu * m_words + region / 64
  bool m_rescan_pending = false;
  std::uint64_t m_rescan_at = 0;
  RmpoptCounters m_c;
  stats::Group m_stats{"rmpopt"};
};

}  // namespace rmpsim::rmp
