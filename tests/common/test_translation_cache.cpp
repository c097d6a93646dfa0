// TranslationCache against a plain model: a std::map of entries and, per set,
// an explicit LRU list, over long random sequences of lookups, inserts and
// flushes with several levels (page sizes), ASIDs and geometries.
#include <catch2/catch.hpp>

#include <list>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "models/common/translation_cache.hpp"

using rmpsim::level_bytes;
using rmpsim::level_shift;
using rmpsim::TranslationCache;

namespace {

// (asid, level, page number): one entry.
using Key = std::tuple<std::uint16_t, unsigned, std::uint64_t>;

class Oracle {
 public:
  Oracle(unsigned entries, unsigned ways) : m_sets(entries / ways), m_ways(ways), m_lru(m_sets) {}

  // The lowest-level entry covering addr in the ASID; refreshes it.
  const int* lookup(std::uint16_t asid, std::uint64_t addr, unsigned levels) {
    for (unsigned l = 1; l <= levels; ++l)
      if (const int* v = lookup_level(asid, l, addr)) return v;
    return nullptr;
  }
  const int* lookup_level(std::uint16_t asid, unsigned level, std::uint64_t addr) {
    auto it = m_vals.find(Key{asid, level, addr >> level_shift(level)});
    if (it == m_vals.end()) return nullptr;
    touch(it->first);
    return &it->second;
  }
  bool has(std::uint16_t asid, unsigned level, std::uint64_t addr) const {
    return m_vals.count(Key{asid, level, addr >> level_shift(level)}) != 0;
  }
  void insert(std::uint16_t asid, unsigned level, std::uint64_t addr, int v) {
    const Key k{asid, level, addr >> level_shift(level)};
    auto it = m_vals.find(k);
    if (it != m_vals.end()) {
      it->second = v;
      touch(k);
      return;
    }
    auto& set = m_lru[std::get<2>(k) % m_sets];
    if (set.size() == m_ways) {  // evict the least recently used
      m_vals.erase(set.back());
      set.pop_back();
    }
    set.push_front(k);
    m_vals.emplace(k, v);
  }
  template <class Pred>
  void erase_if(Pred pred) {
    for (auto& set : m_lru)
      for (auto it = set.begin(); it != set.end();) {
        if (pred(*it)) {
          m_vals.erase(*it);
          it = set.erase(it);
        } else {
          ++it;
        }
      }
  }
  static std::uint64_t base(const Key& k) { return std::get<2>(k) << level_shift(std::get<1>(k)); }
  const std::map<Key, int>& entries() const { return m_vals; }

 private:
  void touch(const Key& k) {
    auto& set = m_lru[std::get<2>(k) % m_sets];
    for (auto it = set.begin(); it != set.end(); ++it)
      if (*it == k) {
        set.splice(set.begin(), set, it);
        return;
      }
  }

  unsigned m_sets, m_ways;
  std::vector<std::list<Key>> m_lru;  // per set, most recently used first
  std::map<Key, int> m_vals;
};

// Entries as for_each reports them, and the oracle's, comparable.
using Listing = std::set<std::tuple<std::uint16_t, unsigned, std::uint64_t, int>>;
template <unsigned kLevels>
Listing listed(const TranslationCache<int, kLevels>& c) {
  Listing out;
  c.for_each([&](std::uint16_t asid, unsigned level, std::uint64_t base, const int& v) {
    out.emplace(asid, level, base, v);
  });
  return out;
}
Listing listed(const Oracle& o) {
  Listing out;
  for (const auto& [k, v] : o.entries())
    out.emplace(std::get<0>(k), std::get<1>(k), Oracle::base(k), v);
  return out;
}

}  // namespace

TEST_CASE("TranslationCache matches a map with per-set LRU lists", "[containers]") {
  struct Shape {
    unsigned entries, ways;
  };
  // Fully associative narrow and wide (the 72-entry L1), set-associative
  // with power-of-two and other set counts, direct mapped.
  for (Shape sh :
       {Shape{16, 16}, Shape{72, 72}, Shape{64, 4}, Shape{48, 12}, Shape{8, 1}, Shape{2048, 8}}) {
    INFO("entries " << sh.entries << " ways " << sh.ways);
    TranslationCache<int> c(sh.entries, sh.ways);
    Oracle o(sh.entries, sh.ways);
    std::mt19937_64 rng(sh.entries * 7 + sh.ways);
    // A few 1G regions, 2M pieces and 4K pages in each: entries of
    // different sizes overlap and collide in sets.
    auto addr = [&] {
      return ((rng() % 4) << 30) | ((rng() % 4) << 21) | ((rng() % (2 * sh.entries)) << 12) |
             (rng() & 0xfff);
    };
    auto level = [&] {
      const unsigned r = rng() % 8;
      return r < 5 ? 1u : r < 7 ? 2u : 3u;
    };
    for (int i = 0; i < 40000; ++i) {
      const auto asid = static_cast<std::uint16_t>(1 + rng() % 3);
      const std::uint64_t a = addr();
      const unsigned op = rng() % 64;
      if (op < 30) {
        const int* x = c.lookup(asid, a);
        const int* y = o.lookup(asid, a, 3);
        REQUIRE((x == nullptr) == (y == nullptr));
        if (x) REQUIRE(*x == *y);
      } else if (op < 58) {
        const unsigned l = level();
        const int v = static_cast<int>(rng() % 100000);
        // `absent` only where the entry is known not to be cached.
        const bool absent = !o.has(asid, l, a) && rng() % 2;
        c.insert(asid, l, a, v, absent);
        o.insert(asid, l, a, v);
      } else if (op < 62) {
        const std::uint64_t len = std::uint64_t(1 + rng() % 600) << 12;
        c.flush_range(asid, a, len);
        o.erase_if([&](const Key& k) {
          const std::uint64_t b = Oracle::base(k);
          return std::get<0>(k) == asid && b < a + len && a < b + level_bytes(std::get<1>(k));
        });
      } else if (op < 63) {
        c.flush_asid(asid);
        o.erase_if([&](const Key& k) { return std::get<0>(k) == asid; });
      } else if (i % 8 == 0) {
        c.flush_all();
        o.erase_if([](const Key&) { return true; });
      }
      REQUIRE(c.size() == o.entries().size());
      if (i % 1000 == 0) REQUIRE(listed(c) == listed(o));
    }
    CHECK(listed(c) == listed(o));
  }
}

TEST_CASE("TranslationCache levels probed one at a time (page-walk cache)", "[containers]") {
  // A PWC array holds one level; lookup_level() probes only that level.
  TranslationCache<int, 5> c(16, 4);
  Oracle o(16, 4);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const auto asid = static_cast<std::uint16_t>(1 + rng() % 2);
    const unsigned l = 2 + rng() % 4;
    const std::uint64_t a = (rng() % 64) << (level_shift(l) - 2);
    if (rng() % 2) {
      const int* x = c.lookup_level(asid, l, a);
      const int* y = o.lookup_level(asid, l, a);
      REQUIRE((x == nullptr) == (y == nullptr));
      if (x) REQUIRE(*x == *y);
    } else {
      const int v = static_cast<int>(i);
      c.insert(asid, l, a, v);
      o.insert(asid, l, a, v);
    }
  }
  CHECK(listed(c) == listed(o));
}

TEST_CASE("TranslationCache with zero entries is disabled", "[containers]") {
  TranslationCache<int> c(0, 1);
  CHECK(!c.enabled());
  c.insert(1, 1, 0x1000, 5);
  CHECK(c.size() == 0);
  CHECK(c.lookup(1, 0x1000) == nullptr);
}
