#include "models/rmp/rmpopt.hpp"

namespace rmpsim::rmp {

Rmpopt::Rmpopt(RmpTable& rmp, const RmpoptParams& p) : m_rmp(rmp), m_p(p) {
  if (!m_p.enabled) return;
  m_words = std::size_t((m_p.ram_regions + 63) / 64);
  m_bits.assign(m_words * m_p.cpus, 0);
  m_rmp.set_assign_observer(this);
  m_stats.add_counters({
      {"instructions", &m_c.instructions, "RMPOPT verify-and-set executions (all CPUs)"},
      {"optimized", &m_c.optimized,
       "... that found their 1 GiB region free of assigned pages and set its bit"},
      {"bits_cleared", &m_c.bits_cleared,
       "set RMPOPT bits cleared by an RMPUPDATE that assigned a page (one per CPU)"},
      {"scans", &m_c.scans, "passes over all RAM on every CPU: SNP init, re-scans, on demand"},
      {"rescan_requests", &m_c.rescan_requests,
       "delayed re-scan requests (RMPOPT rescan lines: a guest teardown)"},
      {"scan_cycles", &m_c.scan_cycles,
       "RMPOPT latency summed over the passes (on Linux's workqueue, charged to no trace "
       "stream)"},
  });
}

Rmpopt::~Rmpopt() {
  if (m_p.enabled) m_rmp.set_assign_observer(nullptr);
}

RmpoptResult Rmpopt::verify_and_set(unsigned cpu, std::uint64_t spa) {
  ++m_c.instructions;
  m_c.scan_cycles += m_p.instruction_cycles;
  const std::uint64_t r = spa >> kRegionShift;
  // A region outside the table (beyond rmp.rmpopt_ram_gib) is never
  // optimised; one with an assigned page fails the verification (§2.4).
  if (r >= m_p.ram_regions || cpu >= m_p.cpus || m_rmp.assigned_in_1g(spa) != 0)
    return RmpoptResult::NotOptimized;
  m_bits[cpu * m_words + (r >> 6)] |= 1ull << (r & 63);
  ++m_c.optimized;
  return RmpoptResult::Optimized;
}

void Rmpopt::page_assigned(std::uint64_t spa) {
  const std::uint64_t r = spa >> kRegionShift;
  if (r >= m_p.ram_regions) return;
  const std::uint64_t bit = 1ull << (r & 63);
  for (unsigned cpu = 0; cpu < m_p.cpus; ++cpu) {
    std::uint64_t& w = m_bits[cpu * m_words + (r >> 6)];
    if (w & bit) ++m_c.bits_cleared;
    w &= ~bit;
  }
}

void Rmpopt::scan_all() {
  // verify_and_set() on every region of RAM on every CPU, in bulk: every
  // CPU reaches the same verdicts, so set every bit, then clear those of the
  // regions holding an assigned page (a pass costs the regions with guest
  // pages, not RAM / 1 GiB lookups: a trace may ask for many passes).
  ++m_c.scans;
  std::uint64_t held = 0;
  m_rmp.for_each_assigned_1g([&](std::uint64_t r) { held += r < m_p.ram_regions; });
  const std::uint64_t executions = m_p.ram_regions * m_p.cpus;
  m_c.instructions += executions;
  m_c.optimized += (m_p.ram_regions - held) * m_p.cpus;
  m_c.scan_cycles += executions * m_p.instruction_cycles;
  const std::uint64_t tail = m_p.ram_regions & 63;
  for (unsigned cpu = 0; cpu < m_p.cpus; ++cpu) {
    std::uint64_t* w = &m_bits[cpu * m_words];
    for (std::size_t i = 0; i < m_words; ++i) w[i] = ~0ull;
    if (tail) w[m_words - 1] = (1ull << tail) - 1;
  }
  m_rmp.for_each_assigned_1g([&](std::uint64_t r) {
    if (r >= m_p.ram_regions) return;
    for (unsigned cpu = 0; cpu < m_p.cpus; ++cpu)
      m_bits[cpu * m_words + (r >> 6)] &= ~(1ull << (r & 63));
  });
}

void Rmpopt::snp_init() {
  if (m_p.enabled) scan_all();
}

void Rmpopt::request_rescan(std::uint64_t now) {
  if (!m_p.enabled) return;
  ++m_c.rescan_requests;
  // Linux re-arms the delayed work on every request (mod_delayed_work), so
  // the pass runs the delay after the last teardown (§2.4).
  m_rescan_pending = true;
  m_rescan_at = now + m_p.rescan_delay_cycles;
}

void Rmpopt::scan_now() {
  if (m_p.enabled) scan_all();
}

}  // namespace rmpsim::rmp
