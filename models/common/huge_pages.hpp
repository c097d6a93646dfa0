#pragma once
// Host memory for the large tables a walk reads at random: the page-table
// frames, the RMP's regions, the L3's tags and the big hash maps.
//
// Why: on a walk-bound trace nearly every simulated access reads a few of
// these at random over tens of MiB, far beyond what the host's TLB covers
// with 4 KiB pages, so host page walks stalled the host prefetches that
// hide the cache misses (walker/lookahead.hpp). Allocations of at least
// one 2 MiB huge page are 2 MiB-aligned and asked for transparent huge
// pages (madvise MADV_HUGEPAGE: honoured when
// /sys/kernel/mm/transparent_hugepage/enabled is `always` or `madvise`,
// ignored under `never`). Smaller ones are plain allocations. Host speed
// only: nothing simulated depends on where memory lives.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace rmpsim {

inline constexpr std::size_t kHostHugePage = std::size_t(2) << 20;

// A std::allocator that backs allocations of kHostHugePage bytes or more
// with transparent huge pages.
template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHostHugePage) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + kHostHugePage - 1) & ~(kHostHugePage - 1);
    void* p = std::aligned_alloc(kHostHugePage, rounded);
    if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure leaves 4 KiB pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHostHugePage)
      std::allocator<T>().deallocate(p, n);
    else
      std::free(p);
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const {
    return false;
  }
};

// Storage for up to `capacity` objects in one allocation, handed out one at
// a time and never freed singly (a pool's objects side by side). take()
// default-initialises: a trivial type's memory is not written, so the host
// pages of objects not taken yet stay out of the resident set.
template <class T>
class Slab {
 public:
  explicit Slab(std::size_t capacity)
      : m_data(HugePageAllocator<T>().allocate(capacity)), m_capacity(capacity) {}
  Slab(Slab&& o) noexcept
      : m_data(std::exchange(o.m_data, nullptr)),
        m_capacity(std::exchange(o.m_capacity, 0)),
        m_used(std::exchange(o.m_used, 0)) {}
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;
  Slab& operator=(Slab&&) = delete;
  ~Slab() {
    if (!m_data) return;
    for (std::size_t i = 0; i < m_used; ++i) m_data[i].~T();
    HugePageAllocator<T>().deallocate(m_data, m_capacity);
  }

  bool full() const { return m_used == m_capacity; }
  std::size_t capacity() const { return m_capacity; }
  // A default-initialised object in the next free place (the slab is not full).
  T* take() { return ::new (static_cast<void*>(m_data + m_used++)) T; }

 private:
  T* m_data;
  std::size_t m_capacity;
  std::size_t m_used = 0;
};

// Objects taken from slabs of growing size: `first` to a slab, doubling up
// to `most` (a caller picks `most` so that a full slab is a host huge page),
// so that a small pool stays small and a large one lies on huge pages. The
// objects live as long as the pool.
template <class T>
class SlabPool {
 public:
  SlabPool(std::size_t first, std::size_t most) : m_first(first), m_most(most) {}
  // A default-initialised object (Slab::take).
  T* take() {
    if (m_slabs.empty() || m_slabs.back().full())
      m_slabs.emplace_back(m_slabs.empty() ? m_first
                                           : std::min(m_slabs.back().capacity() * 2, m_most));
    return m_slabs.back().take();
  }

 private:
  std::size_t m_first, m_most;
  std::vector<Slab<T>> m_slabs;
};

}  // namespace rmpsim
