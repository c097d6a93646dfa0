#pragma once
// An open-addressing hash map from 64-bit keys to 32-bit values, with linear
// probing and backward-shift deletion (no tombstones). Used where a lookup
// sits on the simulated access path (TLB and cache tag indexes, the sparse
// memory's frame table): one multiply and usually one probe, no allocation
// per entry.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/common/huge_pages.hpp"

namespace rmpsim {

class FlatMap {
 public:
  static constexpr std::uint64_t kEmpty = ~0ull;  // never a valid key
  static constexpr std::uint32_t kNone = ~0u;

  explicit FlatMap(std::size_t expected = 16) { rehash(capacity_for(expected)); }

  std::size_t size() const { return m_size; }

  std::uint32_t find(std::uint64_t key) const {
    for (std::size_t i = slot(key);; i = (i + 1) & m_mask) {
      if (m_keys[i] == key) return m_vals[i];
      if (m_keys[i] == kEmpty) return kNone;
    }
  }

  // Inserts or overwrites.
  void put(std::uint64_t key, std::uint32_t val) {
    // At most half full: a miss then ends after one or two probes.
    if ((m_size + 1) * 2 > m_keys.size()) rehash(m_keys.size() * 2);
    std::size_t i = slot(key);
    while (m_keys[i] != kEmpty && m_keys[i] != key) i = (i + 1) & m_mask;
    if (m_keys[i] == kEmpty) ++m_size;
    m_keys[i] = key;
    m_vals[i] = val;
  }

  bool erase(std::uint64_t key) {
    std::size_t i = slot(key);
    while (m_keys[i] != key) {
      if (m_keys[i] == kEmpty) return false;
      i = (i + 1) & m_mask;
    }
    // Backward shift: move later members of the probe run into the hole so
    // that every key stays reachable from its home slot.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & m_mask; m_keys[j] != kEmpty; j = (j + 1) & m_mask) {
      std::size_t home = slot(m_keys[j]);
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        m_keys[hole] = m_keys[j];
        m_vals[hole] = m_vals[j];
        hole = j;
      }
    }
    m_keys[hole] = kEmpty;
    --m_size;
    return true;
  }

  void clear() {
    std::fill(m_keys.begin(), m_keys.end(), kEmpty);
    m_size = 0;
  }

 private:
  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < n * 2 + 2) c *= 2;
    return c;
  }
  std::size_t slot(std::uint64_t key) const {
    // Fibonacci hashing: spreads page numbers that differ in low bits.
    return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ull) >> m_shift);
  }
  void rehash(std::size_t cap) {
    Array<std::uint64_t> keys(cap, kEmpty);
    Array<std::uint32_t> vals(cap);
    keys.swap(m_keys);
    vals.swap(m_vals);
    m_mask = cap - 1;
    m_shift = 64 - __builtin_ctzll(cap);
    m_size = 0;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] != kEmpty) put(keys[i], vals[i]);
  }

  // Huge-page backed once large (common/huge_pages.hpp): the sparse
  // memory's maps reach millions of keys, probed at random.
  template <class T>
  using Array = std::vector<T, HugePageAllocator<T>>;
  Array<std::uint64_t> m_keys;
  Array<std::uint32_t> m_vals;
  std::size_t m_mask = 0;
  unsigned m_shift = 0;
  std::size_t m_size = 0;
};

}  // namespace rmpsim
