#include "models/mmu/tlb.hpp"

#include <stdexcept>

namespace rmpsim::mmu {

namespace {
std::uint16_t key_asid(std::uint64_t k) { return static_cast<std::uint16_t>(k & 0xfff); }
PageSize key_size(std::uint64_t k) { return PageSize((k >> 12) & 0xf); }
std::uint64_t key_base(std::uint64_t k) { return (k >> 16) << (12 + 9 * unsigned(key_size(k))); }
}  // namespace

Tlb::Tlb(const TlbGeometry& g) : m_geo(g), m_array(g.entries, g.ways) {
  if (!g.holds[0]) throw std::invalid_argument("a TLB must hold 4K entries");
  for (int s = 0; s < 3; ++s) {
    int i = s;
    while (i > 0 && !m_geo.holds[i]) --i;
    m_store_as[s] = PageSize(i);
  }
}

void Tlb::flush_all() {
  m_array.clear();
  m_live = {};
}

void Tlb::flush_asid(std::uint16_t asid) {
  m_array.erase_if([&](std::uint64_t k, const TlbEntry&) {
    if (key_asid(k) != asid) return false;
    --m_live[unsigned(key_size(k))];
    return true;
  });
}

void Tlb::flush_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
  m_array.erase_if([&](std::uint64_t k, const TlbEntry&) {
    const std::uint64_t base = key_base(k);
    if (key_asid(k) != asid || !(base < gva + len && gva < base + page_bytes(key_size(k))))
      return false;
    --m_live[unsigned(key_size(k))];
    return true;
  });
}

}  // namespace rmpsim::mmu
