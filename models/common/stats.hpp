#pragma once
// Statistics below the models, in the style of gem5's statistics::Group.
// A block keeps its counters as plain std::uint64_t fields (a hot-path
// increment stays one add) and describes them once, in its own Group:
// {name, pointer, description} per counter, distributions, and formulas
// (values derived when the stats are written). Groups form a tree whose
// names are the SystemC object names ("system" > "cpu0" > "mmu"); the
// platform attaches the blocks' groups to its root. Output formats (JSON,
// gem5-style text) are not here: sim/ walks the tree (OUTPUTS.md).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rmpsim::stats {

// A distribution of integer samples (conversion latency in cycles, walk
// references...) in bounded memory: a log-linear histogram in the style of
// HdrHistogram. Values below 256 have a bucket each; above, each range
// [2^e, 2^(e+1)) is split into 128 equal buckets, so a bucket is at most
// 1/128 of its lower bound wide. At most 7,424 buckets (58 KiB), however
// many samples: a run with millions of conversions no longer keeps each one
// (issue 14, item 11). count, mean, min and max are exact; percentiles are
// within 1/256 (0.39 %) of the exact ones (docs/stats.md "Distributions").
class Distribution {
 public:
  void sample(std::uint64_t v) {
    const std::size_t i = index_of(v);
    if (i >= m_counts.size()) m_counts.resize(i + 1, 0);
    ++m_counts[i];
    ++m_count;
    m_sum += v;
    if (v < m_min) m_min = v;
    if (v > m_max) m_max = v;
  }
  std::uint64_t count() const { return m_count; }
  double mean() const;
  std::uint64_t min() const { return m_count ? m_min : 0; }
  std::uint64_t max() const { return m_max; }
  // Nearest-rank percentile: the smallest sample with at least p% of the
  // samples <= it, as the middle of its histogram bucket (exact below 256),
  // kept within [min, max]. 0 for an empty distribution.
  std::uint64_t percentile(double p) const;
  // Power-of-two buckets: {lower bound, count}, lower bounds 0, 1, 2, 4, ...
  // (exact: the histogram's buckets nest in them).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;
  // Forgets every sample (the start of the measured region, Group::reset).
  void reset() { *this = Distribution(); }

  // The histogram's geometry (tests, docs/stats.md).
  static constexpr unsigned kSubBucketBits = 7;  // 128 buckets per power of two
  static constexpr std::size_t kMaxBuckets = (65 - kSubBucketBits) << kSubBucketBits;  // 7,424
  static std::size_t index_of(std::uint64_t v);
  static std::uint64_t bucket_low(std::size_t i);
  static std::uint64_t bucket_width(std::size_t i);
  // Buckets allocated so far (at most kMaxBuckets).
  std::size_t buckets_allocated() const { return m_counts.size(); }

 private:
  std::vector<std::uint64_t> m_counts;  // grows to the largest sample's bucket
  std::uint64_t m_count = 0, m_min = ~0ull, m_max = 0;
  unsigned __int128 m_sum = 0;  // exact, and independent of sample order
};

// What a formula computes when the stats are written.
using Value = std::variant<std::uint64_t, double, std::string, bool>;

// One named, described member of a group: exactly one of counter, dist and
// formula is set. The name is relative to the group and may contain dots
// ("walker.walks"): it then nests like a subgroup's stat would, but keeps
// its place among the group's own stats in the text order.
struct Stat {
  std::string name;
  std::string desc;
  // Read-only for the output formats; Group::reset() alone writes through
  // them (every counter and distribution is a block's own, non-const field).
  const std::uint64_t* counter = nullptr;
  const Distribution* dist = nullptr;
  std::function<Value()> formula;
};

class Group {
 public:
  explicit Group(std::string name) : m_name(std::move(name)) {}
  // Members point into the block that owns the group: neither may move.
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const std::string& name() const { return m_name; }
  const Group* parent() const { return m_parent; }
  // The names from the root down to this group, joined by dots.
  std::string path() const;

  void add_counter(std::string name, const std::uint64_t* value, std::string desc);
  // A block's counters as one table, registered in order.
  struct CounterSpec {
    const char* name;
    const std::uint64_t* value;
    const char* desc;
  };
  void add_counters(std::initializer_list<CounterSpec> counters);
  void add_distribution(std::string name, const Distribution* d, std::string desc);
  void add_formula(std::string name, std::function<Value()> f, std::string desc);
  // Attaches `child` below this group (a group has at most one parent).
  void add_child(Group& child);

  // The start of the measured region (run --warmup, ROI lines;
  // docs/trace-format.md): zeroes every counter and empties every
  // distribution of the subtree, then calls the reset hooks of its groups.
  // Formulas are not touched: they derive from counters or report model
  // state (frames, stored entries), and model state is kept.
  void reset();
  // `f` runs on reset(), after the counters are zeroed: for a block whose
  // stats need more than zeroing (none does yet; a block keeping a running
  // sum outside its counters would).
  void on_reset(std::function<void()> f) { m_reset_hooks.push_back(std::move(f)); }

  // A group's own stats in the order added, then its children's subtrees
  // in the order attached: the order of stats.txt and of stats.json.
  const std::vector<Stat>& stats() const { return m_stats; }
  const std::vector<Group*>& children() const { return m_children; }
  // Calls f(full_name, stat) for every stat of the subtree in that order;
  // full names start with this group's name ("system.cpu0.accesses").
  void visit(const std::function<void(const std::string&, const Stat&)>& f) const;

  // The counters of the subtree whose names relative to this group match
  // `pattern`, in tree order; '*' matches any characters within one name
  // segment ("cpu*.mmu.itlb.hits").
  std::vector<const std::uint64_t*> counters(const std::string& pattern) const;
  // The distribution named `name` relative to this group, or nullptr.
  const Distribution* distribution(const std::string& name) const;

 private:
  void add(Stat s);
  // Appends the subtree's stats whose names relative to this group match
  // the pattern [p, pe).
  void find(const char* p, const char* pe, std::vector<const Stat*>& out) const;
  void visit(const std::string& prefix,
             const std::function<void(const std::string&, const Stat&)>& f) const;

  std::string m_name;
  Group* m_parent = nullptr;
  std::vector<Stat> m_stats;
  std::vector<Group*> m_children;
  std::vector<std::function<void()>> m_reset_hooks;
};

}  // namespace rmpsim::stats
