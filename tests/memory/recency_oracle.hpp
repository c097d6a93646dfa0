#pragma once
// The oracle of the line-cache tests: a true-LRU cache level as a plain
// recency list per set (most recent first), holding entries encoded as
// LineCache's (`line << 1 | bits`), set = line % sets. LineCache and
// PackedLineCache are checked against it operation by operation.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/memory/line_cache.hpp"

namespace rmpsim::test {

class RecencyOracle {
 public:
  static constexpr std::uint64_t kEmpty = memory::LineCache::kEmpty;

  RecencyOracle(unsigned sets, unsigned ways) : m_ways(ways), m_sets(sets) {}

  // Whether `line` was cached; afterwards it is its set's most recent with
  // `bits` or-ed in. On a miss `victim` is the entry pushed out (kEmpty if
  // the set had room).
  bool access(std::uint64_t line, std::uint64_t bits, std::uint64_t& victim) {
    std::vector<std::uint64_t>& set = set_of(line);
    const auto it = find(set, line);
    if (it != set.end()) {
      const std::uint64_t e = *it | bits;
      set.erase(it);
      set.insert(set.begin(), e);
      return true;
    }
    set.insert(set.begin(), (line << 1) | bits);
    victim = kEmpty;
    if (set.size() > m_ways) {
      victim = set.back();
      set.pop_back();
    }
    return false;
  }
  // Forgets `line`; its entry, or kEmpty.
  std::uint64_t remove(std::uint64_t line) {
    std::vector<std::uint64_t>& set = set_of(line);
    const auto it = find(set, line);
    if (it == set.end()) return kEmpty;
    const std::uint64_t e = *it;
    set.erase(it);
    return e;
  }
  // Sets the dirty bit of a cached `line`; whether it was cached.
  bool mark_dirty(std::uint64_t line) {
    std::vector<std::uint64_t>& set = set_of(line);
    const auto it = find(set, line);
    if (it == set.end()) return false;
    *it |= 1;
    return true;
  }
  std::uint64_t peek(std::uint64_t line) {
    std::vector<std::uint64_t>& set = set_of(line);
    const auto it = find(set, line);
    return it == set.end() ? kEmpty : *it;
  }
  // The entry of `line`'s set's most recent way (the set is not empty).
  std::uint64_t front(std::uint64_t line) { return set_of(line).front(); }

 private:
  std::vector<std::uint64_t>& set_of(std::uint64_t line) { return m_ref[line % m_sets]; }
  static std::vector<std::uint64_t>::iterator find(std::vector<std::uint64_t>& set,
                                                   std::uint64_t line) {
    return std::find_if(set.begin(), set.end(), [&](std::uint64_t e) {
      return memory::LineCache::line_of(e) == line;
    });
  }

  unsigned m_ways, m_sets;
  std::vector<std::vector<std::uint64_t>> m_ref{m_sets};
};

}  // namespace rmpsim::test
