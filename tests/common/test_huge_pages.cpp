// common/huge_pages.hpp: the allocator's two paths (plain below one huge
// page, 2 MiB-aligned above) hand back usable memory and take it back the
// way it was given (ASan builds check the pairing), and a Slab constructs
// and destroys exactly what it handed out.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "models/common/flat_map.hpp"
#include "models/common/huge_pages.hpp"

using rmpsim::FlatMap;
using rmpsim::HugePageAllocator;
using rmpsim::kHostHugePage;
using rmpsim::Slab;

TEST_CASE("huge pages: small and large allocations are usable and aligned", "[containers]") {
  HugePageAllocator<std::uint64_t> a;
  for (std::size_t n : {std::size_t(1), std::size_t(1000), kHostHugePage / 8 - 1,
                        kHostHugePage / 8, kHostHugePage / 8 * 3 + 5}) {
    CAPTURE(n);
    std::uint64_t* p = a.allocate(n);
    REQUIRE(p != nullptr);
    if (n * 8 >= kHostHugePage) CHECK(reinterpret_cast<std::uintptr_t>(p) % kHostHugePage == 0);
    for (std::size_t i = 0; i < n; ++i) p[i] = i * 3;
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += p[i];
    CHECK(sum == 3 * (n * (n - 1) / 2));
    a.deallocate(p, n);
  }
  // Over-aligned types keep their alignment on the plain path too.
  struct alignas(64) Line {
    std::uint8_t b[64];
  };
  std::vector<Line, HugePageAllocator<Line>> lines(10);
  CHECK(reinterpret_cast<std::uintptr_t>(lines.data()) % 64 == 0);
}

namespace {
struct Counted {
  static int live;
  std::uint64_t v = 7;  // default-initialised: the member initialiser runs
  Counted() { ++live; }
  ~Counted() { --live; }
};
int Counted::live = 0;
}  // namespace

TEST_CASE("huge pages: a Slab hands out its capacity and destroys what it made",
          "[containers]") {
  {
    Slab<Counted> s(3);
    CHECK(s.capacity() == 3);
    Counted* a = s.take();
    Counted* b = s.take();
    CHECK(b == a + 1);  // side by side
    CHECK(a->v == 7);
    CHECK(!s.full());
    s.take();
    CHECK(s.full());
    CHECK(Counted::live == 3);
    Slab<Counted> moved(std::move(s));  // the moved-from slab owns nothing
    CHECK(moved.full());
    CHECK(Counted::live == 3);
  }
  CHECK(Counted::live == 0);
  // A slab of a huge page's worth (as the RMP's regions fill exactly),
  // barely used: it starts on a huge page boundary.
  Slab<std::uint64_t> big(kHostHugePage / 8);
  std::uint64_t* first = big.take();
  *first = 5;
  CHECK(reinterpret_cast<std::uintptr_t>(first) % kHostHugePage == 0);
  CHECK(!big.full());
}

TEST_CASE("huge pages: a SlabPool grows its slabs up to its most", "[containers]") {
  {
    rmpsim::SlabPool<Counted> pool(1, 4);
    std::vector<Counted*> got;
    for (int i = 0; i < 11; ++i) got.push_back(pool.take());  // slabs of 1, 2, 4, 4
    CHECK(Counted::live == 11);
    // Side by side within a slab: objects 1-2, 3-6 and 7-10.
    for (int i : {2, 4, 5, 6, 8, 9, 10}) CHECK(got[i] == got[i - 1] + 1);
    CHECK(got[7]->v == 7);
  }
  CHECK(Counted::live == 0);
}

TEST_CASE("huge pages: a FlatMap grown past a huge page keeps every key", "[containers]") {
  FlatMap m;
  const std::uint64_t n = 300000;  // 2^20 slots: 8 MiB of keys
  for (std::uint64_t k = 0; k < n; ++k) m.put(k * 0x9e37, static_cast<std::uint32_t>(k));
  for (std::uint64_t k = 0; k < n; k += 2) REQUIRE(m.erase(k * 0x9e37));
  CHECK(m.size() == n / 2);
  for (std::uint64_t k = 0; k < n; ++k)
    REQUIRE(m.find(k * 0x9e37) == (k % 2 ? static_cast<std::uint32_t>(k) : FlatMap::kNone));
}
