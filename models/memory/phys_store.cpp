#include "models/memory/phys_store.hpp"

namespace rmpsim::memory {

PhysStore::Frame& PhysStore::new_frame(std::uint64_t fn) {
  Frame* f;
  if (!m_free.empty()) {
    f = m_free.back();
    m_free.pop_back();
  } else {
    // Not zeroed by the pool (Frame is trivial): a frame is zeroed below as
    // it is handed out, so the host pages of frames not used yet stay
    // untouched (and out of the resident set).
    f = m_slabs.take();
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
