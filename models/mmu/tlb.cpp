#include "models/mmu/tlb.hpp"

#include <stdexcept>

namespace rmpsim::mmu {

Tlb::Tlb(const TlbGeometry& g) : m_geo(g), m_cache(g.entries, g.ways) {
  if (!g.holds[0]) throw std::invalid_argument("a TLB must hold 4K entries");
  for (unsigned s = 0; s < kPageSizes; ++s) {
    unsigned i = s;
    while (i > 0 && !m_geo.holds[i]) --i;
    m_store_as[s] = PageSize(i);
  }
}

}  // namespace rmpsim::mmu
