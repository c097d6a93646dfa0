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
#include <vector>

#include "models/common/chunk_directory.hpp"
#include "models/common/huge_pages.hpp"

namespace rmpsim::memory {

class PhysStore {
 public:
  using Frame = std::array<std::uint64_t, 512>;

  std::uint64_t read64(std::uint64_t addr) const {
    const Frame* f = m_dir.get(addr >> 12);
    return f ? (*f)[(addr >> 3) & 511] : 0;
  }
  void write64(std::uint64_t addr, std::uint64_t value) {
    Frame* f = m_dir.get(addr >> 12);
    if (!f) f = &new_frame(addr >> 12);
    (*f)[(addr >> 3) & 511] = value;
  }
  // The stored word at `addr` in host memory, or nullptr when its frame
  // does not exist (walker/lookahead.hpp reads through it, then prefetches
  // it). Valid as long as the store: frames are never freed, only reused.
  const std::uint64_t* word(std::uint64_t addr) const {
    const Frame* f = m_dir.get(addr >> 12);
    return f ? &(*f)[(addr >> 3) & 511] : nullptr;
  }
  // Zeroes a frame (a freshly allocated page-table page), creating it.
  void zero_frame(std::uint64_t frame_number) {
    if (Frame* f = m_dir.get(frame_number))
      f->fill(0);
    else
      new_frame(frame_number);
  }
  // Drops a frame (its contents read as zero afterwards).
  void drop_frame(std::uint64_t frame_number);

  std::size_t frames() const { return m_frames; }

 private:
  // A zeroed frame for `fn`, which has none.
  Frame& new_frame(std::uint64_t fn);

  // Frame number -> frame. Walks read the same few table frames again and
  // again, and the models allocate table frames from dense pools, so the
  // lookups stay in one or two directory chunks (ChunkDirectory).
  ChunkDirectory<Frame> m_dir;
  // Frames come from slabs of growing size (16 frames, doubling up to 512,
  // one 2 MiB host huge page: common/huge_pages.hpp): one allocation per
  // slab, a pool's frames side by side. Slabs live as long as the store; a
  // dropped frame is reused by the next new one.
  SlabPool<Frame> m_slabs{16, 512};
  std::vector<Frame*> m_free;
  std::size_t m_frames = 0;
};

}  // namespace rmpsim::memory
