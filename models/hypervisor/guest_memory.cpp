#include "models/hypervisor/guest_memory.hpp"

namespace rmpsim::hypervisor {

std::uint64_t GuestMemory::backing(std::uint64_t gpa, bool private_side) {
  const std::uint64_t gfn = gpa >> 12;
  if (!private_side) {
    std::uint32_t f = m_shared_pages.find(gfn);
    if (f == FlatMap::kNone) {
      f = static_cast<std::uint32_t>(m_next_shared >> 12);
      m_next_shared += 0x1000;
      m_shared_pages.put(gfn, f);
      ++shared_frames;
    }
    return (std::uint64_t(f) << 12) | (gpa & 0xfff);
  }
  const unsigned shift = folio_shift();
  const std::uint64_t folio = gpa >> shift;
  std::uint32_t spa_folio = m_folios.find(folio);
  if (spa_folio == FlatMap::kNone) {
    const std::uint64_t size = 1ull << shift;
    m_next_private = (m_next_private + size - 1) & ~(size - 1);
    spa_folio = static_cast<std::uint32_t>(m_next_private >> shift);
    m_next_private += size;
    m_folios.put(folio, spa_folio);
    m_folio_pages.put(folio, 0);
  }
  if (m_private_pages.find(gfn) == FlatMap::kNone) {
    m_private_pages.put(gfn, 1);
    m_folio_pages.put(folio, m_folio_pages.find(folio) + 1);
    ++private_frames;
  }
  return (std::uint64_t(spa_folio) << shift) | (gpa & ((1ull << shift) - 1));
}

bool GuestMemory::find_backing(std::uint64_t gpa, bool private_side, std::uint64_t& spa) const {
  const std::uint64_t gfn = gpa >> 12;
  if (!private_side) {
    const std::uint32_t f = m_shared_pages.find(gfn);
    if (f == FlatMap::kNone) return false;
    spa = (std::uint64_t(f) << 12) | (gpa & 0xfff);
    return true;
  }
  if (m_private_pages.find(gfn) == FlatMap::kNone) return false;
  const unsigned shift = folio_shift();
  spa = (std::uint64_t(m_folios.find(gpa >> shift)) << shift) | (gpa & ((1ull << shift) - 1));
  return true;
}

void GuestMemory::discard(std::uint64_t gpa, bool private_side) {
  const std::uint64_t gfn = gpa >> 12;
  if (!private_side) {
    if (m_shared_pages.erase(gfn)) --shared_frames;
    return;
  }
  if (!m_private_pages.erase(gfn)) return;
  --private_frames;
  const std::uint64_t folio = gpa >> folio_shift();
  const std::uint32_t left = m_folio_pages.find(folio) - 1;
  if (left == 0) {
    // Every page of the folio was punched: guest_memfd frees it, and a later
    // fault allocates a fresh folio.
    m_folios.erase(folio);
    m_folio_pages.erase(folio);
  } else {
    m_folio_pages.put(folio, left);
  }
}

}  // namespace rmpsim::hypervisor
