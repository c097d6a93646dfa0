#include "models/memory/phys_store.hpp"

#include <algorithm>

namespace rmpsim::memory {

PhysStore::Frame& PhysStore::new_frame(std::uint64_t fn) {
  Frame* f;
  if (!m_free.empty()) {
    f = m_free.back();
    m_free.pop_back();
  } else {
    if (m_slabs.empty() || m_slabs.back().full())
      m_slabs.emplace_back(
          std::min<std::size_t>(m_slabs.empty() ? 16 : m_slabs.back().capacity() * 2, 512));
    // Not zeroed by the slab (Frame is trivial): a frame is zeroed below as
    // it is handed out, so the host pages of frames not used yet stay
    // untouched (and out of the resident set).
    f = m_slabs.back().take();
  }
  f->fill(0);
  m_dir.set(fn, f);
  ++m_frames;
  return *f;
}

void PhysStore::drop_frame(std::uint64_t fn) {
  Frame* f = m_dir.get(fn);
  if (!f) return;
  m_dir.set(fn, nullptr);
  m_free.push_back(f);
  --m_frames;
}

}  // namespace rmpsim::memory
