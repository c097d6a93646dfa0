// The invariant checker of `run --check` must catch real bugs: each case
// builds the functional models (guest OS, hypervisor, RMP, one vCPU's MMU),
// lets them reach a consistent state the way the simulator does, then
// injects one fault through the models' own interfaces — the step KVM's
// ordering or the guest's flush would have done is skipped — and requires
// the checker to name the invariant. A positive control per case does the
// same operation correctly and must pass.
#include <catch2/catch.hpp>
#include <cstdio>

#include "models/check/checker.hpp"
#include "models/guest/guest_params.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/mmu/mmu_params.hpp"
#include "models/rmp/rmp_instructions.hpp"
#include "models/rmp/rmp_params.hpp"
#include "support/config_params.hpp"

namespace rmpsim::test {
namespace {

using Catch::Matchers::Contains;

constexpr std::uint16_t kAsid = 1;

struct World {
  Config cfg;
  memory::PhysStore gmem, hmem;
  rmp::RmpTable rmp;
  mmu::Mmu mmu;
  mmu::TranslationDomain tlbs;  // this one vCPU's MMU
  guest::GuestOs os;
  hypervisor::Hypervisor hv;
  SnpAttrs ctx;
  check::Checker checker;

  // The guest's ASID, and pages assigned already validated.
  static Config config() {
    return config_with({{"guest.asid", kAsid},
                        {"guest.accept", "eager"},
                        {"mmu.l1d.entries", 64},
                        {"mmu.l1d.ways", 64},
                        {"mmu.l1d.page_sizes", "4k,2m,1g"},
                        {"mmu.l1i.entries", 64},
                        {"mmu.l1i.ways", 64},
                        {"mmu.l1i.page_sizes", "4k,2m,1g"},
                        {"mmu.l2.entries", 512},
                        {"mmu.l2.ways", 8},
                        {"mmu.l2.page_sizes", "4k,2m"}});
  }
  // The same, then `extra`.
  static Config config(std::initializer_list<std::pair<std::string, Json>> extra) {
    Config c = config();
    for (const auto& [key, value] : extra) c.set(key, value, "test", 0);
    return c;
  }

  explicit World(std::initializer_list<std::pair<std::string, Json>> extra = {})
      : cfg(config(extra)),
        mmu(gmem, hmem, mmu::mmu_params_from(cfg, kClock)),
        os(gmem, guest::guest_os_params_from(cfg, kClock), attached(tlbs, mmu)),
        hv(hmem, rmp, hypervisor::hypervisor_params_from(cfg, kClock),
           [this](std::uint64_t gpa) { return os.prevalidated(gpa); }, tlbs),
        ctx(make_ctx(os, hv)),
        checker(rmp, hv, os, {check::CheckedCpu{&mmu, &ctx, [] { return 1234; }, nullptr}}) {
    mmu.attach_rmp(&rmp, rmp::check_options_from(cfg, kClock));
  }
  static mmu::TranslationDomain& attached(mmu::TranslationDomain& d, mmu::Mmu& m) {
    d.attach(m);
    return d;
  }
  static SnpAttrs make_ctx(guest::GuestOs& os, hypervisor::Hypervisor& hv) {
    SnpAttrs a;
    a.asid = kAsid;
    a.gcr3 = os.gcr3();
    a.ncr3 = hv.ncr3();
    return a;
  }

  // One access, with the faults resolved as the vCPU does, and a
  // consistency point after each exit. Returns the translation.
  mmu::TranslateResult touch(std::uint64_t gva, AccessKind kind = AccessKind::Read) {
    for (int round = 0; round < 8; ++round) {
      mmu::TranslateResult r = mmu.translate(gva, kind, kAsid, ctx.gcr3, ctx.ncr3, ctx.vmpl);
      if (r.ok) return r;
      if (r.fault->kind == x86::FaultKind::GuestPageFault) {
        REQUIRE_FALSE(os.handle_page_fault(0, r.fault->addr, r.fault->error_code).terminated);
        checker.consistent("a guest #PF");
      } else {
        REQUIRE(r.fault->kind == x86::FaultKind::NestedPageFault);
        REQUIRE(hv.handle_npf(0, r.fault->addr, r.fault->error_code).resolved);
        checker.consistent("a #NPF exit");
      }
    }
    FAIL("no progress");
    return {};
  }
};

}  // namespace

TEST_CASE("check: a consistent run passes, also across a correct conversion", "[check]") {
  World w;
  for (std::uint64_t p = 0; p < 8; ++p) w.touch(0x400000 + p * 0x1000, AccessKind::Write);
  const auto r = w.touch(0x402000);
  REQUIRE(r.cbit);
  // A conversion done KVM's way (attributes, zap + flush, then RMPUPDATE).
  hypervisor::ConversionCost cost;
  REQUIRE(w.hv.userspace_convert(r.gpa & ~0xfffull, 1, false, cost));
  w.checker.consistent("a conversion");
  w.checker.final_check();
  CHECK(w.checker.counters().tlb_probes > 8);
  CHECK(w.checker.counters().gfns > 0);
  CHECK(w.checker.counters().rmp_entries > 0);
}

TEST_CASE("check: a corrupted RMP entry violates §1.3", "[check]") {
#ifdef NDEBUG  // debug builds assert the same rule inside set_raw()
  World w;
  const auto r = w.touch(0x400000);
  rmp::RmpEntry bad;  // hypervisor-owned but validated
  bad.validated = true;
  w.rmp.set_raw((r.spa >> 12) + 1, bad);
  REQUIRE_THROWS_WITH(w.checker.consistent("the corruption"),
                      Contains("invariant violated at cycle 1234") &&
                          Contains("RMP entry well-formedness (snp-semantics §1.3)") &&
                          Contains("validated but not guest-assigned"));
#else
  WARN("skipped: debug builds assert §1.3 in RmpTable::set_raw");
#endif
}

TEST_CASE("check: a 2M entry over an assigned 4K sub-entry violates the 2M-region rule",
          "[check]") {
  World w;
  w.touch(0x400000);
  const auto r = w.touch(0x401000);  // two 4K guest_memfd pages of one 2M region
  const std::uint64_t head = (r.spa >> 12) & ~511ull;
  REQUIRE(w.rmp.raw((r.spa >> 12)).assigned);
  REQUIRE((r.spa >> 12) != head);
  rmp::RmpEntry big = w.rmp.raw(head);
  big.large = true;  // well-formed on its own (§1.3), wrong in its region
  big.gpa &= ~0x1fffffull;
  w.rmp.set_raw(head, big);
  REQUIRE_THROWS_WITH(w.checker.consistent("the injected 2M entry"),
                      Contains("2M-region rule") && Contains("overlaps the assigned 4K entry"));
}

TEST_CASE("check: an RMPUPDATE that keeps Validated on reassignment violates §2.2", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  const std::uint64_t pfn = r.spa >> 12;
  rmp::RmpEntry e = w.rmp.raw(pfn);
  REQUIRE(e.validated);
  // The instruction's effect as a buggy RMPUPDATE would write it: a new GPA
  // but the old Validated bit.
  e.gpa += 0x1000;
  w.rmp.set_raw(pfn, e);
  REQUIRE_THROWS_WITH(w.rmp.instruction_done(rmp::RmpOp::Rmpupdate, r.spa),
                      Contains("RMPUPDATE reassignment resets Validated"));
}

TEST_CASE("issue 15 item 2: check: an RMPUPDATE that assigns a nested page-table page is caught",
          "[check]") {
  World w;
  w.touch(0x400000);
  // The nested root page (hypervisor memory, §1.4), assigned to the guest
  // by a buggy hypervisor: RMPUPDATE itself would allow it.
  rmp::RmpState s;
  s.assigned = true;
  s.asid = kAsid;
  s.gpa = 0x7654'3000;
  REQUIRE_THROWS_WITH(rmp::rmpupdate(w.rmp, w.hv.ncr3(), s),
                      Contains("nested page-table pages are hypervisor-owned") &&
                          Contains("checked after RMPUPDATE"));
  // Positive control: the same RMPUPDATE of a page outside the NPT passes.
  World ok;
  const auto r = ok.touch(0x400000);
  REQUIRE_NOTHROW(rmp::rmpupdate(ok.rmp, (r.spa & ~0xfffull) + 0x10'0000, s));
}

TEST_CASE("check: an in-use entry changed by RMPUPDATE violates FAIL_INUSE (§2.1)", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  const std::uint64_t pfn = r.spa >> 12;
  w.rmp.set_in_use(pfn, true);  // a running vCPU's VMSA, say
  // The real instruction refuses ...
  REQUIRE(rmp::rmpupdate(w.rmp, r.spa & ~0xfffull, rmp::RmpState{}) == rmp::kFailInUse);
  // ... a buggy one that writes anyway is caught.
  w.rmp.set_raw(pfn, rmp::RmpEntry{});
  REQUIRE_THROWS_WITH(w.rmp.instruction_done(rmp::RmpOp::Rmpupdate, r.spa),
                      Contains("in-use RMP entries do not change"));
}

TEST_CASE("check: a PVALIDATE that changes more than Validated violates §2.2", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  const std::uint64_t pfn = r.spa >> 12;
  rmp::RmpEntry e = w.rmp.raw(pfn);
  e.validated = false;
  e.perms[1] = rmp::kPermR;  // not PVALIDATE's business
  w.rmp.set_raw(pfn, e);
  REQUIRE_THROWS_WITH(w.rmp.instruction_done(rmp::RmpOp::Pvalidate, r.spa),
                      Contains("PVALIDATE changes only the Validated bit"));
}

TEST_CASE("check: RMPUPDATE to shared without the NPT zap breaks KVM's order (§2.3)", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  REQUIRE(rmp::rmpupdate(w.rmp, r.spa & ~0xfffull, rmp::RmpState{}) == rmp::kSuccess);
  w.mmu.flush_asid(kAsid);  // even with the TLBs flushed, the NPT still maps it
  REQUIRE_THROWS_WITH(w.checker.consistent("the RMPUPDATE"),
                      Contains("a private GFN is mapped only to a page RMPUPDATEd to the guest"));
}

TEST_CASE("check: a TLB flush skipped after an RMP change leaves a stale private translation",
          "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  // Zap the NPT as KVM does, but "forget" the flush, then return the page.
  w.hv.npt().unmap(w.hv.ncr3(), r.gpa);
  REQUIRE(rmp::rmpupdate(w.rmp, r.spa & ~0xfffull, rmp::RmpState{}) == rmp::kSuccess);
  REQUIRE_THROWS_WITH(w.checker.consistent("the conversion"),
                      Contains("a cached translation the tables no longer give") &&
                          Contains("L1D entry of vCPU 0 for GVA 0x400000"));
}

TEST_CASE("check: a PVALIDATE rescind without INVLPGB leaves a stale private translation",
          "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  const auto res = rmp::pvalidate(w.rmp, r.spa, r.gpa, PageSize::k4K, false, kAsid, 0);
  REQUIRE(res.rc == rmp::kSuccess);
  REQUIRE_FALSE(res.cf);
  REQUIRE_THROWS_WITH(w.checker.consistent("the rescind"),
                      Contains("no stale private translation") && Contains("#VC 0x404"));
}

TEST_CASE("check: a PVALIDATE rescind followed by the flush passes", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  REQUIRE(rmp::pvalidate(w.rmp, r.spa, r.gpa, PageSize::k4K, false, kAsid, 0).rc == rmp::kSuccess);
  w.mmu.flush_gva_range(kAsid, 0x400000, 0x1000);
  w.checker.consistent("the rescind and its flush");
  w.checker.final_check();
}

TEST_CASE("check: a stale nested TLB entry is caught when a walk fills from it", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  // Move the GFN to another page behind the walker's back: the NPT leaf is
  // rewritten, only the (guest) TLBs and PWC are flushed, not the nested TLB.
  w.hv.npt().map(w.hv.ncr3(), r.gpa & ~0xfffull, 0x5000'0000'0000, PageSize::k4K,
                 paging::kWritable | paging::kUser);
  w.mmu.flush_gva_range(kAsid, 0x400000, 0x1000);
  REQUIRE_THROWS_WITH(w.touch(0x400000), Contains("fill entry of vCPU 0 for GVA 0x400000") &&
                                             Contains("after a TLB fill"));
}

// Issue 17 (walk caching): the nested page-walk cache is flushed with the
// nested TLB, by the hypervisor's ASID flush. The nested TLB is off here so
// that the nested PWC entry is the only stale structure: the NPT's PDP entry
// for the GPA's 1 GiB region is replaced (a 1G leaf, then zapped) under a
// cached PDP entry that still points to the old page directory.
TEST_CASE("check: issue 17 a stale nested page-walk cache entry is caught", "[check]") {
  World w({{"walker.ntlb.entries", 0}});
  const auto r = w.touch(0x400000);
  const std::uint64_t gib = 1ull << 30, base = r.gpa & ~(gib - 1);
  w.hv.npt().map(w.hv.ncr3(), base, 0x40'0000'0000, PageSize::k1G,
                 paging::kWritable | paging::kUser);
  w.hv.npt().unmap(w.hv.ncr3(), base);
  w.mmu.flush_gva_range(kAsid, 0x400000, 0x1000);  // the guest's TLB entries, not the NPT's
  SECTION("without the hypervisor's flush") {
    char entry[64];
    std::snprintf(entry, sizeof entry, "for GPA %#llx at level 3",
                  static_cast<unsigned long long>(base));
    REQUIRE_THROWS_WITH(w.checker.consistent("the NPT change"),
                        Contains("nested page-walk cache coherence") &&
                            Contains(std::string("nested PWC entry of vCPU 0 ") + entry) &&
                            Contains("has no table there"));
  }
  SECTION("with it (positive control)") {
    w.tlbs.flush_asid(kAsid);
    w.checker.consistent("the NPT change and its flush");
    w.checker.final_check();
  }
}

TEST_CASE("check: a guest PTE change without a shootdown is caught", "[check]") {
  World w;
  w.touch(0x400000);
  // Clear the C-bit as set_encrypted() would, without its flush.
  w.os.page_tables().set_leaf_flags(w.os.gcr3(), 0x400000, 0, paging::kCbit);
  REQUIRE_THROWS_WITH(w.checker.consistent("the PTE change"),
                      Contains("L1D entry of vCPU 0 for GVA 0x400000"));
}

TEST_CASE("check: a conversion to private that was not validated is reported", "[check]") {
  World w;
  const auto r = w.touch(0x400000);
  const std::uint64_t gpa = r.gpa & ~0xfffull;
  hypervisor::ConversionCost cost;
  REQUIRE(w.hv.userspace_convert(gpa, 1, false, cost));
  w.checker.consistent("to shared");
  REQUIRE(w.hv.userspace_convert(gpa, 1, true, cost));  // PSC to private, no PVALIDATE
  w.checker.consistent("to private");
  const std::vector<guest::PscPage> range{guest::PscPage{gpa, PageSize::k4K}};
  w.checker.conversion_done(range, true, /*validated=*/false);  // a PSC line: fine
  REQUIRE_THROWS_WITH(w.checker.conversion_done(range, true, /*validated=*/true),
                      Contains("after a conversion to private the page is assigned to the guest "
                               "and validated"));
}

TEST_CASE("check: the end-of-run check finds what no consistency point looked at", "[check]") {
  World w;
  w.touch(0x400000);
  w.checker.consistent("settle");
  // A stale entry injected and never followed by a consistency point.
  w.hv.npt().unmap(w.hv.ncr3(), w.touch(0x401000).gpa);
  REQUIRE_THROWS_WITH(w.checker.final_check(), Contains("checked after the end of the run"));
}

}  // namespace rmpsim::test
