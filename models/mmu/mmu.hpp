#pragma once
// A vCPU's translation unit (functional core): L1 ITLB, L1 DTLB, a unified
// L2 TLB and the 2-D walker with its caches. translate() says where the
// translation came from (L1, L2 or a walk, with the walk's references) or
// which fault it raised; the timed module turns that into cycles.
#include <cstdint>

#include "models/mmu/tlb.hpp"
#include "models/walker/nested_walker.hpp"

namespace rmpsim::mmu {

// Built by mmu_params_from() (mmu_params.hpp); the defaults live in the schema.
struct MmuParams {
  TlbGeometry l1i, l1d, l2;
  walker::WalkerParams walker;
};

enum class HitLevel : std::uint8_t { L1, L2, Walk };

// The offset of `gva` in the page a TLB entry caches.
inline std::uint64_t page_offset(const TlbEntry& e, std::uint64_t gva) {
  return gva & (page_bytes(e.size) - 1);
}

struct TranslateResult {
  HitLevel level = HitLevel::L1;
  bool ok = false;
  std::uint64_t spa = 0;
  std::uint64_t gpa = 0;
  bool cbit = false;
  PageSize size = PageSize::k4K;
  // When !ok: the fault (the walk's, valid until the next translation). A
  // pointer, so that TLB hits do not build and copy a Fault.
  const x86::Fault* fault = nullptr;
  const walker::WalkOutcome* walk = nullptr;  // when level == Walk
};

struct MmuCounters {
  std::uint64_t l1i_hits = 0, l1i_misses = 0, l1d_hits = 0, l1d_misses = 0;
  std::uint64_t l2_hits = 0, l2_misses = 0;
  std::uint64_t walks = 0, walk_refs = 0, walk_guest_refs = 0, walk_nested_refs = 0;
  std::uint64_t pwc_hits = 0, ntlb_hits = 0, ntlb_misses = 0, ad_updates = 0;
  std::uint64_t npwc_hits = 0, npwc_misses = 0;
  std::uint64_t dirty_assists = 0;  // writes that hit a clean entry and re-walked to set D
  std::uint64_t guest_page_faults = 0, nested_page_faults = 0;
  std::uint64_t rmp_refs = 0;            // RMP entries read by walks
  std::uint64_t rmp_npf_final = 0;       // RMP #NPF on the final access
  std::uint64_t rmp_npf_gpt = 0;         // RMP #NPF on a guest page-table access
  std::uint64_t vc_not_validated = 0;    // #VC 0x404 raised by walks
};

// Told of every TLB fill a walk makes (the invariant checker, `run --check`);
// absent, the walk path pays one predictable branch.
class FillObserver {
 public:
  virtual ~FillObserver() = default;
  virtual void tlb_filled(const walker::WalkRequest& req, const walker::Translation& t) = 0;
};

class Mmu {
 public:
  Mmu(memory::PhysStore& guest_mem, memory::PhysStore& host_mem, const MmuParams& p);

  // Translates one access. The context (ASID, VMPL, gCR3, nCR3) is the
  // vCPU's. TLB entries are not tagged by VMPL: a VMPL switch flushes.
  // `insn_operand`: the translation of a PVALIDATE/RMPADJUST operand. It
  // uses the TLBs, but a walk for it skips the final RMP check and fills no
  // TLB entry (an entry must only cache translations that passed it).
  TranslateResult translate(std::uint64_t gva, AccessKind kind, std::uint16_t asid,
                            std::uint64_t gcr3, std::uint64_t ncr3, std::uint8_t vmpl = 0,
                            bool insn_operand = false) {
    const TlbEntry* e = lookup_l1(gva, kind, asid);
    if (e && serves(*e, kind)) {
      count_l1_hit(kind);
      return from_entry(*e, gva, HitLevel::L1);
    }
    return translate_past_l1(e, gva, kind, asid, gcr3, ncr3, vmpl, insn_operand);
  }

  // translate() in steps, for a caller that keeps the common case inline
  // without building a TranslateResult (MmuModule::translate): look the
  // access up in its L1 TLB; if the entry serves the access, count the hit
  // and the entry is the translation; else translate_past_l1() with the
  // lookup's result does the rest (it counts that L1 hit or miss itself).
  const TlbEntry* lookup_l1(std::uint64_t gva, AccessKind kind, std::uint16_t asid) {
    return (kind == AccessKind::Fetch ? m_l1i : m_l1d).lookup(asid, gva);
  }
  // A cached entry serves the access unless the access needs more than it
  // allows: a write to a read-only or clean page, a fetch from an NX page.
  // Those re-walk; the walk then sets D or raises the fault.
  static bool serves(const TlbEntry& e, AccessKind kind) {
    if (kind == AccessKind::Write) return e.writable && e.dirty;
    if (kind == AccessKind::Fetch) return e.executable;
    return true;
  }
  void count_l1_hit(AccessKind kind) {
    ++(kind == AccessKind::Fetch ? m_c.l1i_hits : m_c.l1d_hits);
  }
  // `l1_entry`: what lookup_l1() found (nullptr: a miss), not serving the access.
  __attribute__((noinline)) TranslateResult translate_past_l1(
      const TlbEntry* l1_entry, std::uint64_t gva, AccessKind kind, std::uint16_t asid,
      std::uint64_t gcr3, std::uint64_t ncr3, std::uint8_t vmpl, bool insn_operand);

  void attach_rmp(const rmp::RmpTable* rmp, const rmp::CheckOptions& opt) {
    m_walker.attach_rmp(rmp, opt);
  }

  // Invalidations: TLBs and walk caches together, as INVLPG / ASID flushes do.
  void flush_all();
  void flush_asid(std::uint16_t asid);
  void flush_gva_range(std::uint16_t asid, std::uint64_t gva, std::uint64_t len);
  // TLB entries that translate to guest-physical [gpa, gpa + len), through
  // any GVA (the walk caches hold table pointers and GPA->SPA translations,
  // which an RMP change of a data page leaves valid).
  void flush_gpa_range(std::uint16_t asid, std::uint64_t gpa, std::uint64_t len);

  const MmuCounters& counters() const { return m_c; }
  void set_fill_observer(FillObserver* o) { m_fill_observer = o; }
  // Inspection (the invariant checker): the structures as they are.
  const Tlb& l1i() const { return m_l1i; }
  const Tlb& l1d() const { return m_l1d; }
  const Tlb& l2() const { return m_l2; }
  const walker::NestedWalker& walker() const { return m_walker; }
  const walker::WalkOutcome& last_walk() const { return m_walk; }

 private:
  static TranslateResult from_entry(const TlbEntry& e, std::uint64_t gva, HitLevel level) {
    TranslateResult r;
    r.level = level;
    r.ok = true;
    const std::uint64_t off = page_offset(e, gva);
    r.spa = e.spa_page | off;
    r.gpa = e.gpa_page | off;
    r.cbit = e.cbit;
    r.size = e.size;
    return r;
  }
  // Fills the L1 from an L2 hit. Out of line, so that the translation path,
  // inlined into every access, does not carry the inlined TLB insert.
  __attribute__((noinline)) static void refill(Tlb& l1, std::uint16_t asid, std::uint64_t gva,
                                               const TlbEntry& e);
  // `missed`: both TLBs were looked up and missed (else an entry that did
  // not serve the access is there to be replaced).
  TranslateResult do_walk(std::uint64_t gva, AccessKind kind, std::uint16_t asid,
                          std::uint64_t gcr3, std::uint64_t ncr3, std::uint8_t vmpl,
                          bool insn_operand, Tlb& l1, bool missed = false);

  Tlb m_l1i, m_l1d, m_l2;
  walker::NestedWalker m_walker;
  walker::WalkOutcome m_walk;
  MmuCounters m_c;
  FillObserver* m_fill_observer = nullptr;
};

}  // namespace rmpsim::mmu
