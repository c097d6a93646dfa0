#include "models/hypervisor/hypervisor.hpp"

#include <fmt/format.h>

#include "models/walker/nested_walker.hpp"

namespace rmpsim::hypervisor {

namespace pg = paging;

Hypervisor::Hypervisor(memory::PhysStore& host_mem, const HypervisorParams& p)
    : m_mem(host_mem),
      m_p(p),
      m_npt(host_mem, p.npt_levels,
            [this] {
              const std::uint64_t spa = m_next_npt_spa;
              m_next_npt_spa += 0x1000;
              m_mem.zero_frame(spa >> 12);
              return spa;
            },
            pg::kWritable | pg::kUser),
      m_ncr3(m_npt.new_root()) {}

std::uint64_t Hypervisor::back(std::uint64_t gpa) {
  const unsigned shift = 12 + 9 * unsigned(m_p.backing_page_size);
  const std::uint64_t folio = gpa >> shift;
  std::uint32_t spa_folio = m_backing.find(folio);
  if (spa_folio == FlatMap::kNone) {
    const std::uint64_t size = 1ull << shift;
    m_next_backing_spa = (m_next_backing_spa + size - 1) & ~(size - 1);
    spa_folio = static_cast<std::uint32_t>(m_next_backing_spa >> shift);
    m_next_backing_spa += size;
    m_backing.put(folio, spa_folio);
    m_c.backing_frames += size >> 12;
  }
  return (std::uint64_t(spa_folio) << shift) | (gpa & ((1ull << shift) - 1));
}

bool Hypervisor::backing_of(std::uint64_t gpa, std::uint64_t& spa) const {
  const unsigned shift = 12 + 9 * unsigned(m_p.backing_page_size);
  const std::uint32_t f = m_backing.find(gpa >> shift);
  if (f == FlatMap::kNone) return false;
  spa = (std::uint64_t(f) << shift) | (gpa & ((1ull << shift) - 1));
  return true;
}

NpfResult Hypervisor::handle_npf(unsigned /*vcpu*/, std::uint64_t gpa, std::uint64_t exitinfo1) {
  ++m_c.vmexits;
  ++m_c.npf_total;
  NpfResult r;
  r.cycles = m_p.exit_cycles;
  if (exitinfo1 & walker::pf::kPresent) {
    // Every NPT leaf this hypervisor installs is readable, writable and
    // executable, so a protection #NPF means the model lost track.
    r.reason = fmt::format("unexpected #NPF on a present NPT entry at GPA {:#x} (EXITINFO1 {:#x})",
                           gpa, exitinfo1);
    return r;
  }
  ++m_c.npf_not_present;
  // Map at the backing folio's size (4K or 2M), snp-semantics §4.6 step 3.
  const PageSize size = m_p.backing_page_size;
  const std::uint64_t base = gpa & ~(page_bytes(size) - 1);
  m_npt.map(m_ncr3, base, back(base), size, pg::kWritable | pg::kUser);
  ++m_c.npt_maps;
  r.cycles += m_p.npt_map_cycles;
  r.resolved = true;
  return r;
}

}  // namespace rmpsim::hypervisor
