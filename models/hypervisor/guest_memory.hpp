#pragma once
// KVM's view of guest memory (snp-semantics §4.3): a memory attribute per
// GFN — private unless userspace made it shared (QEMU sets guest_memfd RAM
// private at start) — and two backings: guest_memfd folios for private GFNs
// and ordinary host pages for shared ones, each allocated on first use.
// Converting a GFN flips its attribute and discards the backing of the side
// it leaves (§4.2: QEMU discards the now-stale backing).
#include <cstdint>

#include "models/common/flat_map.hpp"
#include "models/common/types.hpp"

namespace rmpsim::hypervisor {

// SPA regions of the host allocators (docs/models.md).
inline constexpr std::uint64_t kPrivateSpaBase = 0x1'0000'0000;   // guest_memfd folios
inline constexpr std::uint64_t kSharedSpaBase = 0x400'0000'0000;  // shared host pages

class GuestMemory {
 public:
  explicit GuestMemory(PageSize folio) : m_folio(folio) {}

  PageSize folio_size() const { return m_folio; }
  bool is_private(std::uint64_t gpa) const { return m_shared.find(gpa >> 12) == FlatMap::kNone; }
  void set_private(std::uint64_t gpa, bool is_private) {
    if (is_private == this->is_private(gpa)) return;
    if (is_private)
      m_shared.erase(gpa >> 12);
    else
      m_shared.put(gpa >> 12, 1);
    m_converted.put(gpa >> 12, 1);
  }
  // Whether the GFN's attribute ever changed: such a page was not part of
  // what the guest accepted at boot.
  bool ever_converted(std::uint64_t gpa) const {
    return m_converted.find(gpa >> 12) != FlatMap::kNone;
  }

  // SPA backing `gpa` on the given side, allocating it on first use.
  std::uint64_t backing(std::uint64_t gpa, bool private_side);
  // The same without allocating; false if that side has no page for gpa.
  bool find_backing(std::uint64_t gpa, bool private_side, std::uint64_t& spa) const;
  // Frees the 4K page backing gpa on one side (guest_memfd hole punch, or
  // discarding shared RAM). A private folio whose pages are all punched is
  // freed with them.
  void discard(std::uint64_t gpa, bool private_side);

  std::uint64_t private_frames = 0;  // 4K pages allocated in guest_memfd
  std::uint64_t shared_frames = 0;   // 4K shared host pages allocated

 private:
  unsigned folio_shift() const { return page_shift(m_folio); }

  PageSize m_folio;
  FlatMap m_shared{256};         // GFNs whose attribute is shared
  FlatMap m_converted{256};      // GFNs whose attribute ever changed
  FlatMap m_folios{1024};        // private folio number -> SPA folio number
  FlatMap m_folio_pages{1024};   // private folio number -> pages still populated
  FlatMap m_private_pages{4096}; // GFN -> 1 while its guest_memfd page is populated
  FlatMap m_shared_pages{256};   // GFN -> SPA frame of its shared page
  std::uint64_t m_next_private = kPrivateSpaBase;
  std::uint64_t m_next_shared = kSharedSpaBase;
};

}  // namespace rmpsim::hypervisor
