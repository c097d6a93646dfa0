#pragma once
// Walk look-ahead: a host-side speed-up with no effect on any simulated
// state or statistic. It only reads the page tables and the RMP and asks
// the host CPU to prefetch cache lines.
//
// On a walk-dominated trace (random accesses over a large footprint) every
// access walks, and three reads of the walk land on host memory far too big
// for the host's caches, each depending on the one before: the guest leaf
// PTE, the nested leaf PTE of the data page, and the data page's RMP entry.
// The trace says which GVAs come next, so after each access that walked the
// vCPU hands the next few GVAs here and the look-ahead works on them in
// three stages, each a few accesses before the walk that needs its line:
//   A (kDistA ahead): the guest tables down to the leaf PTE; prefetch it.
//   B (kDistB ahead): read that PTE (cached by now), the nested tables down
//                     to the data page's leaf PTE; prefetch it. Also
//                     prefetch the RMP entry of the leaf PTE's own page
//                     (the walk checks it, §1.4), whose nested entry is
//                     one of few and stays cached.
//   C (kDistC ahead): read that PTE, prefetch the page's RMP entry.
// An access passes A, B and C on three successive steps; a stage whose
// earlier stage did not run for that access (the look-ahead was idle, a
// run of trace events ended) skips it. The upper table levels it reads are
// the ones every walk reads, and stay cached.
//
// Reading ahead is safe however the tables change before the walk: nothing
// is written, and a pointer kept from one step to the next points into
// memory that lives as long as its store (PhysStore frames and RMP regions
// are never freed during a run), so a stale one costs only a useless
// prefetch.
#include <array>
#include <cstdint>

#include "models/walker/nested_walker.hpp"

namespace rmpsim::walker {

class WalkLookahead {
 public:
  // How many accesses ahead each stage works, tuned on scripts/bench's walk
  // trace (docs/development.md, "Where the time goes"): (3,2,1) and (4,3,2)
  // ran alike, (6,4,2) was slower.
  static constexpr unsigned kDistA = 4, kDistB = 3, kDistC = 2;

  // An upcoming access: its position in the trace (any increasing count
  // that identifies it) and its GVA.
  struct Upcoming {
    bool valid = false;
    std::uint64_t seq = 0;
    std::uint64_t gva = 0;
  };

  explicit WalkLookahead(const NestedWalker& walker) : m_w(walker) {}

  // One step, after an access: `a`, `b` and `c` are the accesses kDistA,
  // kDistB and kDistC positions after it (valid false where there is none,
  // or the event there is not a guest access).
  void step(std::uint64_t gcr3, std::uint64_t ncr3, const Upcoming& a, const Upcoming& b,
            const Upcoming& c);

  // Where in host memory the leaf entry is that a walk of `va` reads in the
  // guest (`nested` false: the tables at `root` in guest memory) or the
  // nested dimension (host memory), and its level; nullptr when an upper
  // level is not present or the frame does not exist. Reads the upper
  // levels only, never the leaf entry. Public for the tests.
  const std::uint64_t* leaf(bool nested, std::uint64_t root, std::uint64_t va,
                            unsigned& level) const;

 private:
  struct Slot {
    std::uint64_t seq = ~0ull;
    const std::uint64_t* gpte = nullptr;  // stage A's result
    const std::uint64_t* npte = nullptr;  // stage B's result
    unsigned glevel = 0, nlevel = 0;
    std::uint64_t gpa = 0;
    std::uint64_t gpt_gpa = kNoTable;  // stage A: the guest leaf table's GPA
  };
  static constexpr std::uint64_t kNoTable = ~0ull;
  // An access's slot lives from its stage A to its stage C, while the
  // stages A of the accesses after it fill kDistA - kDistC other slots.
  static constexpr unsigned kSlots = 8;
  static_assert(kDistA > kDistB && kDistB > kDistC && kDistC >= 1 && kDistA - kDistC < kSlots);
  Slot& slot(std::uint64_t seq) { return m_slots[seq % kSlots]; }

  // Where the level-2 entry for a 2 MiB region lives, per dimension: a
  // direct-mapped memo, so that a stage reads the level-2 entry and the
  // leaf's frame instead of every upper level again (the look-ahead cost
  // ~100 host instructions per stage, 6 % of a walk-bound run). 4096
  // regions cover an 8 GiB footprint (128 KiB per dimension): with 64, the
  // bench's 4 GiB of random loads hit it 3 % of the time (kMemo 64 -> 4096:
  // -205 M instructions on its 1 M loads, callgrind). The
  // level-2 entry itself is re-read each time, so a new level-1 table or a
  // 2M leaf is seen at once; an upper level that changed after the memo was
  // filled leaves a pointer into a live frame (frames are never freed)
  // that costs a useless prefetch at worst, like any stale pointer here.
  struct Memo {
    std::uint64_t root = ~0ull, region = ~0ull;  // ~0: empty
    const std::uint64_t* l2e = nullptr;
  };
  static constexpr unsigned kMemo = 4096;
  using MemoTable = std::array<Memo, kMemo>;
  // leaf() through `memo`; a level-1 leaf's table address goes to `table`
  // when given (left alone for a larger leaf).
  const std::uint64_t* memo_leaf(MemoTable& memo, const memory::PhysStore& mem, unsigned levels,
                                 std::uint64_t root, std::uint64_t va, unsigned& level,
                                 std::uint64_t* table = nullptr);

  const NestedWalker& m_w;
  std::array<Slot, kSlots> m_slots{};
  MemoTable m_gmemo{}, m_nmemo{};  // guest, nested
};

}  // namespace rmpsim::walker
