#include "models/memory/phys_store.hpp"

#include <algorithm>

namespace rmpsim::memory {

PhysStore::Frame& PhysStore::new_frame(std::uint64_t fn) {
  Frame* f;
  if (!m_free.empty()) {
    f = m_free.back();
    m_free.pop_back();
  } else {
    if (m_slab_used == m_slab_size) {
      m_slab_size = std::min<std::size_t>(m_slab_size ? m_slab_size * 2 : 16, 512);
      // Not zeroed here: a slab's frames are zeroed as they are handed
      // out, so the host pages of frames not used yet stay untouched (and
      // out of the resident set).
      m_slabs.push_back(std::unique_ptr<Frame[]>(new Frame[m_slab_size]));
      m_slab_used = 0;
    }
    f = &m_slabs.back()[m_slab_used++];
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
