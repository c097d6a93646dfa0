#include "models/memory/phys_store.hpp"

namespace rmpsim::memory {

PhysStore::Frame& PhysStore::frame_for_write(std::uint64_t fn) {
  std::uint32_t i = m_index.find(fn);
  if (i != FlatMap::kNone) return *m_frames[i];
  if (!m_free_slots.empty()) {
    i = m_free_slots.back();
    m_free_slots.pop_back();
  } else {
    i = static_cast<std::uint32_t>(m_frames.size());
    m_frames.push_back(nullptr);
  }
  m_frames[i] = std::make_unique<Frame>();
  m_frames[i]->fill(0);
  m_index.put(fn, i);
  return *m_frames[i];
}

void PhysStore::drop_frame(std::uint64_t fn) {
  std::uint32_t i = m_index.find(fn);
  if (i == FlatMap::kNone) return;
  m_index.erase(fn);
  m_frames[i].reset();
  Recent& r = m_recent[fn & (kRecent - 1)];
  if (r.fn == fn) r = Recent{};
  m_free_slots.push_back(i);
}

}  // namespace rmpsim::memory
