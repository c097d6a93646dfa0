#pragma once
// The Reverse Map Table (functional core): one entry per 4 KiB of system
// physical memory saying who owns the page (snp-semantics §1.1-§1.3).
// Sparse: entries are stored 512 at a time, one block per 2 MiB region that
// was ever written (8 KiB each, like the real table's 16-byte entries), so
// memory follows the regions touched; an absent entry is the all-zero
// hypervisor-owned state.
//
// The 2M-aligned entry is authoritative for its region: when it has the
// page-size bit set, it governs all 512 pages (§1.1 "Authoritative entry").
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/common/chunk_directory.hpp"
#include "models/common/host_prefetch.hpp"
#include "models/common/huge_pages.hpp"
#include "models/common/flat_map.hpp"
#include "models/common/stats.hpp"
#include "models/common/types.hpp"

namespace rmpsim::rmp {

// Per-VMPL permission bits, in the RMPADJUST operand order (§2.2).
inline constexpr std::uint8_t kPermR = 1, kPermW = 2, kPermXu = 4, kPermXs = 8;
inline constexpr std::uint8_t kPermAll = kPermR | kPermW | kPermXu | kPermXs;

struct RmpEntry {
  bool assigned = false;
  bool large = false;  // page-size bit: a 2 MiB entry (only at 2M-aligned PFNs)
  bool immutable = false;
  bool validated = false;
  bool vmsa = false;
  std::uint16_t asid = 0;
  std::uint64_t gpa = 0;  // guest-physical page (base of the 2M page for a 2M entry)
  std::array<std::uint8_t, 4> perms{};  // per VMPL 0..3
  bool operator==(const RmpEntry& o) const;
};

// The entry that governs one 4K page, with the GPA this page must have.
struct Governing {
  RmpEntry entry;
  PageSize size = PageSize::k4K;  // 2M when a 2M entry governs the region
  std::uint64_t page_gpa = 0;     // entry.gpa + this page's offset in a 2M entry
};

// The RMP table lives in system memory at RMP_BASE; entry p is 16 bytes at
// RMP_BASE + 16 KiB + 16*p (§1.1). rmpsim places it above everything it
// allocates (docs/models.md).
inline constexpr std::uint64_t kRmpBase = 0x7000'0000'0000;

// The SNP instructions that write RMP entries, for RmpObserver.
enum class RmpOp : std::uint8_t { Rmpupdate, Psmash, Pvalidate, Rmpadjust };
const char* rmp_op_name(RmpOp op);

// Told of every entry write and of the end of every instruction that wrote
// (the invariant checker, `run --check`). Not on any per-access path.
class RmpObserver {
 public:
  virtual ~RmpObserver() = default;
  virtual void rmp_written(std::uint64_t pfn, const RmpEntry& before) = 0;
  virtual void rmp_instruction_done(RmpOp op, std::uint64_t spa) = 0;
};

// Told when a write makes a page assigned (RMPUPDATE to a guest): the
// hardware clears the RMPOPT bit of its 1 GiB region (models/rmp/rmpopt.hpp).
class AssignObserver {
 public:
  virtual ~AssignObserver() = default;
  virtual void page_assigned(std::uint64_t spa) = 0;
};

class RmpTable {
 public:
  RmpTable();

  // An entry as stored: 16 bytes. `flags` holds the RmpEntry booleans and
  // kStored, set once a PFN has been written with a non-zero entry (it then
  // counts in stored_entries(), as a slot of the old per-entry table did).
  struct Stored {
    std::uint64_t gpa = 0;
    std::uint16_t asid = 0;
    std::uint8_t flags = 0;
    std::array<std::uint8_t, 4> perms{};
    bool assigned() const { return flags & kAssigned; }
    bool immutable() const { return flags & kImmutable; }
    bool validated() const { return flags & kValidated; }
  };
  static constexpr std::uint8_t kAssigned = 1, kLarge = 2, kImmutable = 4, kValidated = 8,
                                kVmsa = 16, kStored = 128;

  // The stored entry of a PFN (not resolved through a 2M entry).
  RmpEntry raw(std::uint64_t pfn) const;
  // The entry that decides for the page at `spa` (§1.1).
  Governing governing(std::uint64_t spa) const;
  // governing() without copying the entry out, for the checks a walk makes
  // on every TLB miss: the stored entry (an all-zero one when none is), its
  // size and the GPA this page must have.
  const Stored& governing_stored(std::uint64_t spa, PageSize& size,
                                 std::uint64_t& page_gpa) const {
    const std::uint64_t pfn = spa >> 12;
    size = PageSize::k4K;
    const Region* slot = m_region_dir.get(pfn >> 9);
    if (!slot) {  // nothing stored in the region: all entries zero, 4K
      page_gpa = 0;
      return kZero;
    }
    if (large_slot(slot)) {
      const Stored& head = untag(slot)->e[0];
      size = PageSize::k2M;
      page_gpa = head.gpa + ((pfn & 511) << 12);
      return head;
    }
    const Stored& e = slot->e[pfn & 511];  // an untagged slot is the region
    page_gpa = e.gpa;
    return e;
  }
  // Asks the host CPU to fetch the line a check of `spa` reads (its own
  // entry, or its region's 2M head entry): walker/lookahead.hpp. No effect
  // on the table.
  void prefetch(std::uint64_t spa) const {
    if (const Region* slot = m_region_dir.get(spa >> 21))
      host_prefetch(large_slot(slot) ? &untag(slot)->e[0] : &slot->e[(spa >> 12) & 511]);
  }
  // Writes an entry and keeps the per-2M assigned counts up to date.
  void set_raw(std::uint64_t pfn, const RmpEntry& e);

  // System-physical address of a PFN's RMP entry (a memory reference).
  static std::uint64_t entry_address(std::uint64_t pfn) { return kRmpBase + 0x4000 + 16 * pfn; }

  // 4K pages of the 2 MiB region holding `spa` that are assigned (a 2M
  // assigned entry counts 512): the host's large-mapping rule (§1.5).
  std::uint64_t assigned_in_region(std::uint64_t spa) const;
  // The same over the 1 GiB region holding `spa`: what RMPOPT verifies
  // (docs/snp-semantics.md §2.4).
  std::uint64_t assigned_in_1g(std::uint64_t spa) const;
  void set_assign_observer(AssignObserver* o) { m_assign_observer = o; }
  // Visits every 1 GiB region holding an assigned page as f(region number).
  template <class F>
  void for_each_assigned_1g(F f) const {
    for (const auto& [region, count] : m_assigned_1g) f(region);
  }

  // VMSA pages of running vCPUs and entries another CPU is updating are
  // "in use": RMPUPDATE and PSMASH fail with FAIL_INUSE on them (§2.1).
  void set_in_use(std::uint64_t pfn, bool in_use);
  bool in_use(std::uint64_t pfn) const;

  // The well-formedness invariant of §1.3 over every stored entry; returns
  // the first violation, or "" when the table is consistent.
  std::string check_invariants() const;
  // The §1.3 rule for one entry: "" when it holds, else what is wrong.
  static std::string entry_violation(std::uint64_t pfn, const RmpEntry& e);

  void set_observer(RmpObserver* o) { m_observer = o; }
  // Called by the SNP instructions after they changed entries.
  void instruction_done(RmpOp op, std::uint64_t spa) const {
    if (m_observer) m_observer->rmp_instruction_done(op, spa);
  }

  std::size_t stored_entries() const { return m_pfns.size(); }
  // "rmp": stored_entries.
  stats::Group& stats() { return m_stats; }
  // Visits every stored entry as f(pfn, entry) (the invariant checker).
  template <class F>
  void for_each_stored(F f) const {
    for (const std::uint64_t pfn : m_pfns) f(pfn, raw(pfn));
  }

 private:
  // The 512 entries of one 2 MiB region side by side: a check reads the
  // region's 2M-aligned head entry and its own entry from one block, found
  // through a ChunkDirectory (walks over a large footprint used to pay a
  // hash probe per entry, each a host cache miss).
  struct Region {
    std::array<Stored, 512> e{};
  };
  // 256 to a host huge page, which a slab of them fills exactly.
  static_assert(sizeof(Region) * 256 == kHostHugePage, "a region is 8 KiB");
  static_assert(alignof(Region) >= 2, "a directory slot keeps the 2M bit in bit 0");
  static RmpEntry unpack(const Stored& p);
  static Stored pack(const RmpEntry& e);
  static const Stored kZero;
  const Region* region(std::uint64_t rn) const { return untag(m_region_dir.get(rn)); }

  // A region's directory slot carries the head entry's 2M bit in bit 0
  // (regions are 8-byte aligned), kept by set_raw(). A check then reads one
  // line, its own entry, instead of the head's line as well: on a walk-bound
  // run the heads of 2048 regions were a host cache miss per check
  // (docs/development.md, "Speed budget").
  static bool large_slot(const Region* slot) {
    return reinterpret_cast<std::uintptr_t>(slot) & 1;
  }
  static Region* tag(Region* r, bool large) {
    return reinterpret_cast<Region*>(reinterpret_cast<std::uintptr_t>(r) | std::uintptr_t(large));
  }
  template <class R>  // Region or const Region
  static R* untag(R* slot) {
    return reinterpret_cast<R*>(reinterpret_cast<std::uintptr_t>(slot) & ~std::uintptr_t(1));
  }

  ChunkDirectory<Region> m_region_dir;  // 2M region number -> region (tagged)
  // Regions come from slabs of 1, 2, 4, ... up to 256 (one 2 MiB host huge
  // page: common/huge_pages.hpp), never freed before the table.
  SlabPool<Region> m_regions{1, kHostHugePage / sizeof(Region)};
  std::vector<std::uint64_t> m_pfns;  // stored PFNs in the order they were first written
  FlatMap m_in_use{16};
  RmpObserver* m_observer = nullptr;
  // Assigned 4K pages (a 2M entry counts 512) per 2 MiB region with any
  // (§1.5), kept beside the regions so that a region stays 8 KiB.
  FlatMap m_assigned_2m{16};
  // Assigned 4K pages per 1 GiB region with any (changed only when a page's
  // assigned state does, so not on any per-access path).
  std::unordered_map<std::uint64_t, std::uint64_t> m_assigned_1g;
  AssignObserver* m_assign_observer = nullptr;
  stats::Group m_stats{"rmp"};
};

}  // namespace rmpsim::rmp
