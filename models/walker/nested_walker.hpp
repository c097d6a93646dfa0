#pragma once
// The two-dimensional nested page walker (functional core, no SystemC).
//
// Every guest page-table pointer is a guest-physical address, itself
// translated through the nested page table: for g guest and n nested levels
// a cold walk reads g*(n+1) + n = (g+1)(n+1) - 1 entries, 24 for 4x4
// (snp-semantics §1.8 [BHAR08]). Three caches shorten it, each switchable off:
//   - the guest page-walk cache (PWC): upper-level guest entries, keyed by
//     the GVA prefix they translate, so a hit skips those guest levels;
//   - the nested TLB: GPA -> SPA translations, so a hit skips a nested walk;
//   - the nested page-walk cache (nested PWC): upper-level nested entries,
//     keyed by the GPA prefix they translate, so a nested walk the nested
//     TLB missed (for a guest page-table page or the data page alike)
//     starts below the root. AMD's walk cache holds entries of both
//     dimensions [BHAR08]; its upper levels are the page directory cache of
//     AMD's optimization guides (docs/models.md, "Walk caches").
// With an RMP attached, the walker also performs the RMP checks of
// snp-semantics §1.4: on every guest page-table page it reads (always a
// private access) and on the final SPA, each reading one 16-byte RMP entry
// (§1.8; the result is cached in the TLB with the translation, so hits pay
// nothing).
// The walker reports what happened — every table and RMP reference, cache
// hits, the translation or the fault — never when; timing is the MMU
// module's job.
#include <array>
#include <cstdint>

#include "models/common/translation_cache.hpp"
#include "models/common/x86_fault.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_check.hpp"
#include "models/walker/pte.hpp"

namespace rmpsim::walker {

// Built by walker_params_from() (walker_params.hpp); the defaults live in the schema.
struct WalkerParams {
  unsigned guest_levels;   // 4, or 5 with LA57
  unsigned nested_levels;  // 4, or 5
  unsigned pwc_entries;    // per cached guest level; 0 = off
  unsigned pwc_ways;
  unsigned ntlb_entries;   // 0 = off
  unsigned ntlb_ways;
  unsigned npwc_entries;   // nested PWC, all cached levels together; 0 = off
  unsigned npwc_ways;
  unsigned npwc_lowest_level;  // the lowest nested level it caches (2 = PDEs too)
};

enum class RefKind : std::uint8_t { GuestPte, NestedPte, Rmp };

struct WalkRef {
  std::uint64_t spa;  // system-physical address of the entry read
  RefKind kind;
  std::uint8_t level; // 1 = leaf level of its dimension
};

struct WalkRequest {
  std::uint64_t gva = 0;
  AccessKind kind = AccessKind::Read;
  std::uint16_t asid = 1;
  std::uint8_t vmpl = 0;
  // false for the operand of PVALIDATE/RMPADJUST: those instructions make
  // their own RMP checks on the target page (§2.2), so the walk checks only
  // the guest page-table pages it reads.
  bool check_final_rmp = true;
  std::uint64_t gcr3 = 0;  // GPA of the guest root table
  std::uint64_t ncr3 = 0;  // SPA of the nested root table
};

struct Translation {
  std::uint64_t gpa = 0;  // of the accessed byte
  std::uint64_t spa = 0;  // of the accessed byte
  PageSize guest_size = PageSize::k4K;
  PageSize nested_size = PageSize::k4K;
  PageSize size = PageSize::k4K;  // effective: the smaller of the two
  bool writable = false;  // guest and nested both allow writes
  bool executable = false;
  bool dirty = false;     // the guest leaf's D bit is set (a write needs no assist)
  bool cbit = false;      // C-bit of the guest leaf PTE: data accesses' effective C-bit
  // A fetch through a C=0 PTE, checked as private (fetches always are,
  // docs/snp-semantics.md §1.4): the RMP result holds for fetches only, so
  // the translation must not be cached where data accesses would use it.
  bool fetch_only = false;
};

struct WalkOutcome {
  Translation tr;
  x86::Fault fault;
  unsigned nrefs = 0;
  // (5+1)*(5+1)-1 = 35 table references at most (5-level x 5-level, all
  // misses), plus one RMP entry per guest level and one for the data page,
  // plus one per nested-entry A/D write-back (at most 30: one per nested
  // entry read, §1.4).
  std::array<WalkRef, 80> refs{};
  unsigned pwc_hits = 0;
  unsigned ntlb_hits = 0;
  unsigned ntlb_misses = 0;
  unsigned npwc_hits = 0;    // nested walks that started below the root
  unsigned npwc_misses = 0;  // nested walks that started at the root
  unsigned ad_updates = 0;  // A/D bits written back into guest or nested entries
  unsigned rmp_checks = 0;  // RMP entries read (one per checked page or NPT write-back)
  unsigned guest_refs = 0;  // refs of kind GuestPte (the rest: rmp_checks Rmp, NestedPte)
};

// The outcome of a side-effect-free probe (NestedWalker::probe).
struct ProbeResult {
  bool ok = false;
  Translation tr;                      // when ok (gpa/spa of req.gva)
  x86::FaultKind fault = x86::FaultKind::None;  // when !ok
  std::uint64_t fault_addr = 0;        // GVA (guest #PF) or GPA (#NPF, #VC)
  bool rmp = false;                    // the RMP refused (an RMP #NPF or #VC 0x404)
  bool gpt = false;                    // ... on a guest page-table page
};

// A nested translation read from the tables alone.
struct NestedProbe {
  std::uint64_t spa_page = 0;
  PageSize size = PageSize::k4K;
  bool writable = false, executable = false;
};

class NestedWalker {
 public:
  NestedWalker(memory::PhysStore& guest_mem, memory::PhysStore& host_mem, const WalkerParams& p);

  // Turns the RMP checks on (nullptr: off, as on a machine without SNP).
  void attach_rmp(const rmp::RmpTable* rmp, const rmp::CheckOptions& opt) {
    m_rmp = rmp;
    m_rmp_opt = opt;
  }

  // Walks both dimensions for req.gva. On success out.tr holds the
  // translation and the A (and, for writes, D) bits are set along the way.
  void walk(const WalkRequest& req, WalkOutcome& out);

  // Walk-cache invalidation (the MMU forwards TLB flushes here).
  void flush_all();
  void flush_asid(std::uint16_t asid);
  // Guest PWC entries covering [gva, gva+len) of the ASID.
  void flush_gva_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len);
  // Nested TLB and nested PWC entries covering [gpa, gpa+len) of the ASID.
  void flush_gpa_range(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len);

  const WalkerParams& params() const { return m_p; }
  // What the walks read (WalkLookahead reads ahead in them).
  const memory::PhysStore& guest_mem() const { return m_gmem; }
  const memory::PhysStore& host_mem() const { return m_hmem; }
  const rmp::RmpTable* rmp() const { return m_rmp; }

  // Side-effect-free translation for the invariant checker (`run --check`):
  // the tables and the RMP as they are now, with no walk caches, no A/D
  // updates, no references, no counters. `req.kind` is ignored: the probe
  // reports what a read would get, with the permissions the tables and the
  // RMP grant (the same rules as walk(), §1.4). A separate function rather
  // than a flag on walk(): the hot walk stays as it is.
  void probe(const WalkRequest& req, ProbeResult& out) const;
  // The nested leaf that maps `gpa`, permissions accumulated; false if none.
  bool probe_nested(std::uint64_t ncr3, std::uint64_t gpa, NestedProbe& out) const;
  // The guest table the level-`level` entry for `gva` points to, with W/X
  // accumulated from the root down to that entry (what a PWC entry caches);
  // false if the walk does not reach a table there.
  bool probe_guest_table(std::uint64_t gcr3, std::uint64_t gva, unsigned level,
                         std::uint64_t& table_gpa, bool& writable, bool& executable) const;
  // The same for the nested tables (what a nested PWC entry caches): the
  // table the level-`level` nested entry for `gpa` points to (an SPA).
  bool probe_nested_table(std::uint64_t ncr3, std::uint64_t gpa, unsigned level,
                          std::uint64_t& table_spa, bool& writable, bool& executable) const;

  // Inspection of the walk caches: f(asid, level, gva_base, table_gpa, w, x)
  // per PWC entry; f(asid, gpa_base, NestedProbe) per nested TLB entry.
  template <class F>
  void for_each_pwc(F f) const {
    for (unsigned l = 2; l < m_pwc.size(); ++l)
      m_pwc[l].for_each(
          [&](std::uint16_t asid, unsigned level, std::uint64_t base, const PwcEntry& e) {
            f(asid, level, base, e.table_gpa, e.writable, e.executable);
          });
  }
  // f(asid, level, gpa_base, table_spa, w, x) per nested PWC entry.
  template <class F>
  void for_each_npwc(F f) const {
    m_npwc.for_each(
        [&](std::uint16_t asid, unsigned level, std::uint64_t base, const NpwcEntry& e) {
          f(asid, level, base, e.table_spa, e.writable, e.executable);
        });
  }
  template <class F>
  void for_each_ntlb(F f) const {
    m_ntlb.for_each([&](std::uint16_t asid, unsigned, std::uint64_t base, const NtlbEntry& e) {
      f(asid, base, NestedProbe{e.spa_page, e.size, e.writable, e.executable});
    });
  }

 private:
  struct NestedResult {
    std::uint64_t spa;  // of the translated byte
    PageSize size;
    bool writable;
    bool executable;
  };
  // Translates a GPA through the nested tables (or the nested TLB). Returns
  // false and fills out.fault on a nested fault. `gpt` marks a guest
  // page-table access (#NPF bit 33 instead of 32). nested_translate and
  // rmp_check are inlined into walk(): each runs up to three times per walk,
  // and as calls they cost more in argument and register traffic than in work.
  inline bool nested_translate(const WalkRequest& req, std::uint64_t gpa, bool write, bool gpt,
                               bool cbit, WalkOutcome& out, WalkRef*& cur, NestedResult& res);
  // Writes `value` (new A/D bits) into the nested entry at SPA `slot`, after
  // the RMP check of a hypervisor write (§1.4); false (and out.fault set)
  // when the RMP refuses. `gpa`, `gpt`, `cbit`: the access being translated.
  bool npt_write_back(std::uint64_t slot, std::uint64_t value, std::uint64_t gpa, bool gpt,
                      bool cbit, WalkOutcome& out, WalkRef*& cur);
  // Appends a reference at `cur` (walk() counts them into out.nrefs).
  static void add_ref(WalkRef*& cur, std::uint64_t spa, RefKind kind, unsigned level);
  // The RMP check of one page the walk touches; false (and out.fault set)
  // when it refuses. `fetch`/`write` only for the final access.
  // `perms` receives the VMPL's RMP permissions of a passed private check.
  // Also used by probe() (const: it changes nothing but `out`).
  inline bool rmp_check(const WalkRequest& req, std::uint64_t spa, std::uint64_t gpa,
                        PageSize nested, bool is_private, bool gpt, AccessKind kind,
                        WalkOutcome& out, WalkRef*& cur, std::uint8_t* perms = nullptr) const;

  struct PwcEntry {
    std::uint64_t table_gpa;  // the next-lower guest table
    bool writable, executable;  // accumulated over the levels above
  };
  struct NtlbEntry {
    std::uint64_t spa_page;
    PageSize size;
    bool writable, executable;
  };
  struct NpwcEntry {
    std::uint64_t table_spa;    // the next-lower nested table
    bool writable, executable;  // accumulated over the levels above
  };

  memory::PhysStore& m_gmem;
  memory::PhysStore& m_hmem;
  WalkerParams m_p;
  const rmp::RmpTable* m_rmp = nullptr;
  rmp::CheckOptions m_rmp_opt;
  // One PWC array per cached guest level (2 .. guest_levels), each holding
  // entries of its level only.
  std::array<TranslationCache<PwcEntry, 5>, 6> m_pwc;
  TranslationCache<NtlbEntry> m_ntlb;  // levels 1..3: 4K, 2M, 1G
  // Nested PWC: one array for every cached nested level (lowest .. nested_levels),
  // as AMD's page directory cache is one structure for the levels it holds.
  TranslationCache<NpwcEntry, 5> m_npwc;
  unsigned m_npwc_low = 0;  // lowest cached level (>= 2)
};

}  // namespace rmpsim::walker
