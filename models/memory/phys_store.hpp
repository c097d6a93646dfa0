#pragma once
// Sparse physical memory holding real page-table bytes: 4 KiB frames are
// created on first write, so memory is proportional to the frames touched,
// not to the size of the address space (a 1 TiB guest with a sparse
// footprint costs little). Reads of a never-written frame return zeros —
// a non-present page-table entry.
//
// Only 8-byte aligned 64-bit words are stored: everything the simulator
// keeps in memory is page-table entries. Data contents are not modelled.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/common/flat_map.hpp"

namespace rmpsim::memory {

class PhysStore {
 public:
  using Frame = std::array<std::uint64_t, 512>;

  std::uint64_t read64(std::uint64_t addr) const {
    const Frame* f = frame(addr >> 12);
    return f ? (*f)[(addr >> 3) & 511] : 0;
  }
  void write64(std::uint64_t addr, std::uint64_t value) {
    const std::uint64_t fn = addr >> 12;
    Recent& r = m_recent[fn & (kRecent - 1)];
    Frame& f = r.fn == fn ? *r.frame : frame_for_write(fn);
    f[(addr >> 3) & 511] = value;
  }
  // Zeroes a frame (a freshly allocated page-table page), creating it.
  void zero_frame(std::uint64_t frame_number) { frame_for_write(frame_number).fill(0); }
  // Drops a frame (its contents read as zero afterwards).
  void drop_frame(std::uint64_t frame_number);

  std::size_t frames() const { return m_index.size(); }

 private:
  // Walks read the same few table frames again and again: a small
  // direct-mapped cache of frame pointers sits in front of the hash index.
  const Frame* frame(std::uint64_t fn) const {
    Recent& r = m_recent[fn & (kRecent - 1)];
    if (r.fn == fn) return r.frame;
    std::uint32_t i = m_index.find(fn);
    if (i == FlatMap::kNone) return nullptr;
    r = Recent{fn, m_frames[i].get()};
    return r.frame;
  }
  struct Recent {
    std::uint64_t fn = ~0ull;
    Frame* frame = nullptr;
  };
  static constexpr std::size_t kRecent = 256;
  mutable std::array<Recent, kRecent> m_recent{};
  Frame& frame_for_write(std::uint64_t fn);

  FlatMap m_index{64};
  std::vector<std::unique_ptr<Frame>> m_frames;
  std::vector<std::uint32_t> m_free_slots;
};

}  // namespace rmpsim::memory
