// FlatMap, ChunkDirectory and SetAssoc against simple reference models (std::map, per-set
// std::list LRU) over long random operation sequences.
#include <catch2/catch.hpp>

#include <algorithm>
#include <list>
#include <map>
#include <random>
#include <vector>

#include "models/common/chunk_directory.hpp"
#include "models/common/divisor.hpp"
#include "models/common/flat_map.hpp"
#include "models/common/set_assoc.hpp"

using rmpsim::FlatMap;
using rmpsim::SetAssoc;

TEST_CASE("FlatMap behaves like std::map under random puts and erases", "[containers]") {
  FlatMap m(4);
  std::map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    // Small key space with clustered keys: many collisions and shifts.
    const std::uint64_t k = (rng() % 3000) * ((i & 1) ? 1 : 4096);
    switch (rng() % 3) {
      case 0:
      case 1: {
        const std::uint32_t v = static_cast<std::uint32_t>(rng());
        m.put(k, v);
        ref[k] = v;
        break;
      }
      case 2:
        CHECK(m.erase(k) == (ref.erase(k) == 1));
        break;
    }
    if (i % 997 == 0) {
      REQUIRE(m.size() == ref.size());
      for (const auto& [rk, rv] : ref) REQUIRE(m.find(rk) == rv);
    }
  }
  for (std::uint64_t k = 0; k < 3000; ++k) {
    auto it = ref.find(k);
    CHECK(m.find(k) == (it == ref.end() ? FlatMap::kNone : it->second));
  }
}

namespace {
// Reference LRU: per set a list, most recent first.
struct RefLru {
  unsigned sets, ways;
  std::vector<std::list<std::pair<std::uint64_t, int>>> lists;
  RefLru(unsigned entries, unsigned w) : sets(entries / w), ways(w), lists(entries / w) {}
  std::list<std::pair<std::uint64_t, int>>::iterator find(std::uint64_t key, unsigned& set_out) {
    for (unsigned s = 0; s < sets; ++s)
      for (auto it = lists[s].begin(); it != lists[s].end(); ++it)
        if (it->first == key) return set_out = s, it;
    set_out = sets;
    return {};
  }
  const int* lookup(std::uint64_t key) {
    unsigned s;
    auto it = find(key, s);
    if (s == sets) return nullptr;
    lists[s].splice(lists[s].begin(), lists[s], it);
    return &lists[s].front().second;
  }
  std::uint64_t insert(std::uint64_t key, std::uint64_t index, int v) {
    unsigned s;
    auto it = find(key, s);
    if (s != sets) {
      it->second = v;
      lists[s].splice(lists[s].begin(), lists[s], it);
      return FlatMap::kEmpty;
    }
    auto& l = lists[index % sets];
    std::uint64_t evicted = FlatMap::kEmpty;
    if (l.size() == ways) {
      evicted = l.back().first;
      l.pop_back();
    }
    l.emplace_front(key, v);
    return evicted;
  }
  bool erase(std::uint64_t key) {
    unsigned s;
    auto it = find(key, s);
    if (s == sets) return false;
    lists[s].erase(it);
    return true;
  }
};
}  // namespace

TEST_CASE("SetAssoc is true LRU per set, for every shape", "[containers]") {
  struct Shape {
    unsigned entries, ways;
  };
  // Narrow (<= 16 ways) and wide shapes, power-of-two and other set counts.
  for (Shape sh : {Shape{72, 72}, Shape{64, 4}, Shape{48, 12}, Shape{8, 1}, Shape{2, 2},
                  Shape{96, 32}, Shape{32, 16}, Shape{16, 16}, Shape{24, 8}, Shape{36, 12},
                  Shape{128, 8}, Shape{3, 1}, Shape{15, 15}, Shape{17, 17}, Shape{256, 64}}) {
    INFO("entries " << sh.entries << " ways " << sh.ways);
    SetAssoc<int> c(sh.entries, sh.ways);
    RefLru ref(sh.entries, sh.ways);
    std::mt19937_64 rng(sh.entries * 31 + sh.ways);
    for (int i = 0; i < 20000; ++i) {
      const std::uint64_t idx = rng() % (sh.entries * 3);
      const std::uint64_t key = idx * 7 + 1;
      switch (rng() % 5) {
        case 0:
        case 1: {
          const int* a = c.lookup(key, idx);
          const int* b = ref.lookup(key);
          REQUIRE((a == nullptr) == (b == nullptr));
          if (a) REQUIRE(*a == *b);
          break;
        }
        case 2:
        case 3: {
          const int v = static_cast<int>(rng() % 1000);
          // insert_absent() is insert() for a key known not to be cached.
          const bool absent = c.peek(key, idx) == nullptr;
          const auto r = absent ? c.insert_absent(key, idx, v) : c.insert(key, idx, v);
          REQUIRE(r.fresh == absent);
          REQUIRE(r.evicted == ref.insert(key, idx, v));
          break;
        }
        case 4:
          REQUIRE(c.erase(key, idx) == ref.erase(key));
          break;
      }
    }
    // Flushing by predicate keeps the recency order of the survivors.
    c.erase_if([](std::uint64_t k, const int&) { return k % 2 == 0; });
    for (auto& l : ref.lists)
      l.remove_if([](const std::pair<std::uint64_t, int>& e) { return e.first % 2 == 0; });
    for (int i = 0; i < 5000; ++i) {
      const std::uint64_t idx = rng() % (sh.entries * 3), key = idx * 7 + 1;
      REQUIRE(c.insert(key, idx, i).evicted == ref.insert(key, idx, i));
    }
    std::size_t live = 0;
    for (const auto& l : ref.lists) live += l.size();
    CHECK(c.size() == live);
  }
}

TEST_CASE("SetAssoc reports fresh keys, peeks without reordering, clears", "[containers]") {
  for (unsigned ways : {4u, 16u, 72u}) {
    INFO("ways " << ways);
    SetAssoc<int> c(ways, ways);  // one set
    for (unsigned k = 0; k < ways; ++k) {
      const auto r = c.insert(k + 100, 0, int(k));
      CHECK(r.fresh);
      CHECK(r.evicted == FlatMap::kEmpty);
    }
    CHECK(c.size() == ways);
    // Refreshing an entry is not fresh and evicts nothing.
    const auto again = c.insert(100, 0, 7);
    CHECK(!again.fresh);
    CHECK(again.evicted == FlatMap::kEmpty);
    // Key 101 is now the LRU entry; a peek must not change that.
    REQUIRE(c.peek(101, 0) != nullptr);
    CHECK(*c.peek(100, 0) == 7);
    CHECK(c.insert(999, 0, 0).evicted == 101);
    // A lookup does refresh: 102 survives, 103 goes.
    REQUIRE(c.lookup(102, 0) != nullptr);
    CHECK(c.insert(998, 0, 0).evicted == (ways > 3 ? 103u : 100u));
    c.clear();
    CHECK(c.size() == 0);
    CHECK(c.lookup(100, 0) == nullptr);
    // After a clear every way is free again: no evictions until full.
    for (unsigned k = 0; k < ways; ++k) CHECK(c.insert(k + 500, 0, 0).evicted == FlatMap::kEmpty);
    CHECK(c.insert(1, 0, 0).evicted == 500);
  }
}

TEST_CASE("SetAssoc with zero entries is disabled", "[containers]") {
  SetAssoc<int> c(0, 1);
  CHECK(!c.enabled());
  CHECK(c.insert(5, 5, 1).evicted == FlatMap::kEmpty);
  CHECK(c.lookup(5, 5) == nullptr);
}

TEST_CASE("ChunkDirectory behaves like std::map over sparse and dense numbers", "[containers]") {
  rmpsim::ChunkDirectory<int> d;
  std::map<std::uint64_t, int*> ref;
  std::vector<int> objs(64);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    // Dense runs (one chunk), far-apart numbers (many chunks) and the
    // largest frame numbers a 52-bit address has.
    const std::uint64_t n = (i % 3 == 0)   ? rng() % 2048
                            : (i % 3 == 1) ? (rng() % 64) << 30
                                           : (1ull << 40) - 1 - rng() % 1024;
    if (rng() % 4 == 0) {
      d.set(n, nullptr);
      ref.erase(n);
    } else {
      int* p = &objs[rng() % objs.size()];
      d.set(n, p);
      ref[n] = p;
    }
    const std::uint64_t q = (i % 2) ? n : rng() % 4096;
    const auto it = ref.find(q);
    REQUIRE(d.get(q) == (it == ref.end() ? nullptr : it->second));
  }
  for (const auto& [n, p] : ref) REQUIRE(d.get(n) == p);
  CHECK(d.get(12345678) == nullptr);
}

TEST_CASE("Divisor::mod equals % for every divisor up to 1100 and edge numerators",
          "[containers]") {
  std::mt19937_64 rng(11);
  for (std::uint64_t d = 1; d <= 1100; ++d) {
    const rmpsim::Divisor div(d);
    std::vector<std::uint64_t> ns = {0, 1, d - 1, d, d + 1, (1ull << 54) - 1, 1ull << 54,
                                     ~0ull, ~0ull - d, (1ull << 46) - 1};
    for (int i = 0; i < 2000; ++i) ns.push_back(rng() >> (rng() % 64));
    for (std::uint64_t k = 1; k < 64; ++k) ns.push_back(((1ull << 54) / d) * d - k % d);
    for (const std::uint64_t n : ns) {
      CAPTURE(d, n);
      REQUIRE(div.mod(n) == n % d);
    }
  }
}
