#pragma once
// A sparse map from page numbers (4K frame numbers, 2 MiB region numbers) to
// objects the caller owns, for lookups on the walk path.
//
// Numbers are grouped 512 to a chunk; a chunk is an array of 512 pointers,
// found through a FlatMap keyed by the number's upper bits, and the chunks
// used last are remembered (16, direct-mapped). The simulator allocates page-table frames and
// guest memory from dense pools, so the lookups of a walk fall in one or
// two chunks: a lookup is a compare and two loads from memory that stays
// in the host caches, where a hash probe per lookup (key array, value
// array, then the object) missed them on large footprints.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/common/flat_map.hpp"

namespace rmpsim {

template <class T>
class ChunkDirectory {
 public:
  static constexpr unsigned kBits = 9;
  static constexpr std::uint64_t kMask = (1u << kBits) - 1;

  T* get(std::uint64_t n) const {
    // Keys start as FlatMap::kEmpty, which no chunk number equals (numbers
    // are below 2^52), so a recent entry's chunk is valid whenever it matches.
    const std::uint64_t c = n >> kBits;
    const Recent& r = m_recent[c % kRecent];
    if (__builtin_expect(c == r.key, 1)) return r.chunk->slot[n & kMask];
    return get_slow(n);
  }

  // Points `n` at `p` (nullptr: absent again). Chunks are never freed:
  // a chunk costs 4 KiB per 512 numbers ever used.
  void set(std::uint64_t n, T* p) {
    const std::uint64_t c = n >> kBits;
    Chunk* ch = find_chunk(c);
    if (!ch) {
      if (!p) return;
      m_index.put(c, static_cast<std::uint32_t>(m_chunks.size()));
      m_chunks.push_back(std::make_unique<Chunk>());
      ch = m_chunks.back().get();
      m_recent[c % kRecent] = Recent{c, ch};
    }
    ch->slot[n & kMask] = p;
  }

 private:
  struct Chunk {
    std::array<T*, 1u << kBits> slot{};
  };
  // Out of line: the remembered chunk serves almost every lookup.
  __attribute__((noinline)) T* get_slow(std::uint64_t n) const {
    const Chunk* ch = find_chunk(n >> kBits);
    return ch ? ch->slot[n & kMask] : nullptr;
  }
  Chunk* find_chunk(std::uint64_t c) const {
    const std::uint32_t i = m_index.find(c);
    if (i == FlatMap::kNone) return nullptr;
    Chunk* ch = m_chunks[i].get();
    m_recent[c % kRecent] = Recent{c, ch};
    return ch;
  }

  // The chunks used last, direct-mapped by chunk number: a walk-bound run
  // over a few GiB alternates between a handful of chunks (the RMP's
  // regions: one chunk per GiB), which one remembered chunk served badly.
  static constexpr unsigned kRecent = 16;
  struct Recent {
    std::uint64_t key = FlatMap::kEmpty;
    Chunk* chunk = nullptr;
  };
  mutable std::array<Recent, kRecent> m_recent{};
  FlatMap m_index{8};
  std::vector<std::unique_ptr<Chunk>> m_chunks;
};

}  // namespace rmpsim
