#include "models/common/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rmpsim::stats {

std::size_t Distribution::index_of(std::uint64_t v) {
  constexpr std::uint64_t kExact = 2ull << kSubBucketBits;  // 256: one bucket per value
  if (v < kExact) return static_cast<std::size_t>(v);
  const unsigned shift = 63u - static_cast<unsigned>(__builtin_clzll(v)) - kSubBucketBits;
  // v >> shift lies in [128, 256): the bucket within the power of two.
  return (std::size_t(shift) << kSubBucketBits) + static_cast<std::size_t>(v >> shift);
}

std::uint64_t Distribution::bucket_low(std::size_t i) {
  if (i < (2u << kSubBucketBits)) return i;
  const unsigned shift = static_cast<unsigned>(i >> kSubBucketBits) - 1;
  return (std::uint64_t(i & ((1u << kSubBucketBits) - 1)) + (1u << kSubBucketBits)) << shift;
}

std::uint64_t Distribution::bucket_width(std::size_t i) {
  if (i < (2u << kSubBucketBits)) return 1;
  return 1ull << ((i >> kSubBucketBits) - 1);
}

double Distribution::mean() const {
  if (!m_count) return 0.0;
  return double(m_sum) / double(m_count);
}

std::uint64_t Distribution::percentile(double p) const {
  if (!m_count) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * double(m_count)));
  rank = std::clamp<std::uint64_t>(rank, 1, m_count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    seen += m_counts[i];
    if (seen < rank) continue;
    // The middle of the bucket: within half a bucket, 1/256 of the value.
    const std::uint64_t mid = bucket_low(i) + bucket_width(i) / 2;
    return std::clamp(mid, m_min, m_max);
  }
  return m_max;  // not reached: the counts add up to m_count
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Distribution::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  if (!m_count) return out;
  // bucket k holds [2^(k-1), 2^k) for k >= 1, bucket 0 holds the value 0.
  std::vector<std::uint64_t> counts(65, 0);
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    const std::uint64_t lo = bucket_low(i);
    counts[lo ? 64 - __builtin_clzll(lo) : 0] += m_counts[i];
  }
  for (unsigned k = 0; k < counts.size(); ++k)
    if (counts[k]) out.emplace_back(k ? (1ull << (k - 1)) : 0, counts[k]);
  return out;
}

namespace {

// Whether the pattern [p, pe) matches all of the name [s, se). '*' matches
// any run of characters other than '.', so "cpu*" stays within one segment.
bool matches(const char* p, const char* pe, const char* s, const char* se) {
  if (p == pe) return s == se;
  if (*p == '*') {
    for (const char* t = s;; ++t) {
      if (matches(p + 1, pe, t, se)) return true;
      if (t == se || *t == '.') return false;
    }
  }
  return s != se && *p == *s && matches(p + 1, pe, s + 1, se);
}

bool matches(const char* p, const char* pe, const std::string& name) {
  return matches(p, pe, name.data(), name.data() + name.size());
}

}  // namespace

std::string Group::path() const {
  return m_parent ? m_parent->path() + "." + m_name : m_name;
}

void Group::add(Stat s) {
  for (const auto& x : m_stats)
    if (x.name == s.name) throw std::logic_error("stat registered twice: " + path() + "." + s.name);
  m_stats.push_back(std::move(s));
}

void Group::add_counter(std::string name, const std::uint64_t* value, std::string desc) {
  add(Stat{std::move(name), std::move(desc), value, nullptr, {}});
}

void Group::add_counters(std::initializer_list<CounterSpec> counters) {
  for (const auto& c : counters) add_counter(c.name, c.value, c.desc);
}

void Group::add_distribution(std::string name, const Distribution* d, std::string desc) {
  add(Stat{std::move(name), std::move(desc), nullptr, d, {}});
}

void Group::add_formula(std::string name, std::function<Value()> f, std::string desc) {
  add(Stat{std::move(name), std::move(desc), nullptr, nullptr, std::move(f)});
}

void Group::add_child(Group& child) {
  if (child.m_parent) throw std::logic_error("stats group attached twice: " + child.path());
  for (const Group* c : m_children)
    if (c->m_name == child.m_name)
      throw std::logic_error("stats group registered twice: " + path() + "." + child.m_name);
  child.m_parent = this;
  m_children.push_back(&child);
}

void Group::visit(const std::function<void(const std::string&, const Stat&)>& f) const {
  visit(m_name + ".", f);
}

void Group::reset() {
  // The groups hold read-only pointers so that a block may register its
  // counters from a const view (MmuModule does); the fields themselves are
  // the blocks' own non-const members, so writing through them is defined.
  for (Stat& s : m_stats) {
    if (s.counter) *const_cast<std::uint64_t*>(s.counter) = 0;
    if (s.dist) const_cast<Distribution*>(s.dist)->reset();
  }
  for (auto& hook : m_reset_hooks) hook();
  for (Group* c : m_children) c->reset();
}

void Group::visit(const std::string& prefix,
                  const std::function<void(const std::string&, const Stat&)>& f) const {
  for (const auto& s : m_stats) f(prefix + s.name, s);
  for (const Group* c : m_children) c->visit(prefix + c->m_name + ".", f);
}

// Segment by segment down the tree, without building full names: the
// summary matches a few dozen patterns against every stat.
void Group::find(const char* p, const char* pe, std::vector<const Stat*>& out) const {
  for (const auto& s : m_stats)
    if (matches(p, pe, s.name)) out.push_back(&s);
  const char* dot = std::find(p, pe, '.');
  if (dot == pe) return;  // a child's stats are one segment further down
  for (const Group* c : m_children)
    if (matches(p, dot, c->m_name)) c->find(dot + 1, pe, out);
}

std::vector<const std::uint64_t*> Group::counters(const std::string& pattern) const {
  std::vector<const Stat*> found;
  find(pattern.data(), pattern.data() + pattern.size(), found);
  std::vector<const std::uint64_t*> out;
  for (const Stat* s : found)
    if (s->counter) out.push_back(s->counter);
  return out;
}

const Distribution* Group::distribution(const std::string& name) const {
  std::vector<const Stat*> found;
  find(name.data(), name.data() + name.size(), found);
  for (const Stat* s : found)
    if (s->dist) return s->dist;
  return nullptr;
}

}  // namespace rmpsim::stats
