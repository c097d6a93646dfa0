// Issue 20: a guest at VMPL 2 whose PVALIDATEs go to a COCONUT-SVSM at
// VMPL 0 (models/guest/svsm.*, guest_kernel_svsm.cpp). The expectations
// come from Linux's svsm_pval_pages and COCONUT-SVSM's core_pvalidate as
// docs/snp-semantics.md §3.4 states them: the call count, the entries each
// call carries, the RMP state and permissions left behind, the result codes
// and the termination codes — worked out by hand, not read off the model.
#include <catch2/catch.hpp>

#include "guest/kernel_world.hpp"
#include "models/guest/svsm.hpp"
#include "models/rmp/rmp_check.hpp"

namespace rmpsim::test {
namespace {

using Catch::Matchers::Contains;
using namespace kernel_world;
namespace svsm = guest::svsm;

const std::initializer_list<std::pair<std::string, Json>> kVmpl2 = {{"guest.vmpl", 2},
                                                                     {"guest.svsm", "coconut"}};

struct SvsmWorld : World {
  explicit SvsmWorld(std::initializer_list<std::pair<std::string, Json>> more = kVmpl2)
      : World(more), params(guest::guest_kernel_params_from(config(more), kClock)) {}
  guest::GuestKernelParams params;
  // The time of one SVSM call's two VMPL switches (§3.4).
  std::uint64_t switches() const {
    return 2 * (FakeCpu::kExitCycles + params.svsm_vmsa_switch_cycles);
  }
  unsigned count(const std::string& call) const {
    unsigned n = 0;
    for (const auto& c : cpu.calls) n += c == call;
    return n;
  }
};

TEST_CASE("issue 20 item 1: under an SVSM a PVALIDATE line is one SVSM call", "[guest][svsm]") {
  SvsmWorld w;
  const std::uint64_t gva = 0x4000'0000;
  const std::uint64_t gpa = w.map(gva);
  w.assign(gpa);
  const std::uint64_t before = w.cpu.cycle;

  w.kernel.pvalidate(gva, PageSize::k4K, true);

  REQUIRE_FALSE(w.state.terminated);
  const auto& c = w.kernel.counters();
  CHECK(c.svsm_calls == 1);
  CHECK(c.svsm_entries == 1);
  CHECK(c.pvalidate == 1);     // the SVSM's, at VMPL 0
  CHECK(c.svsm_rmpadjust == 1);  // the grant
  // To VMPL 0 and back to the guest's VMPL 2.
  CHECK(w.count("run vmpl 0") == 1);
  CHECK(w.count("run vmpl 2") == 1);
  CHECK(w.cpu.vmpl_now == 2);
  CHECK(w.entry(gpa).validated);
  CHECK(w.entry(gpa).perms[2] == rmp::kPermAll);
  // Switches, PVALIDATE, zeroing, RMPADJUST: nothing else.
  const std::uint64_t svsm = w.switches() + w.params.pvalidate_cycles +
                             w.params.svsm_zero_4k_cycles + w.params.rmpadjust_cycles;
  CHECK(c.svsm_cycles == svsm);
  CHECK(w.cpu.cycle - before == svsm);
}

TEST_CASE("issue 20 item 1: switched to VMPL 0 (a VMPL line), the kernel PVALIDATEs itself",
          "[guest][svsm]") {
  // Only below VMPL 0 is PVALIDATE delegated; a trace that switches to
  // VMPL 0 runs as the SVSM would, and a call returns to the VMPL it left.
  SvsmWorld w;
  const std::uint64_t gva = 0x4000'0000;
  w.assign(w.map(gva));
  w.cpu.vmpl_now = 0;
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().svsm_calls == 0);
  CHECK(w.kernel.counters().pvalidate == 1);

  w.cpu.vmpl_now = 3;
  w.kernel.pvalidate(gva, PageSize::k4K, false);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().svsm_calls == 1);
  CHECK(w.cpu.vmpl_now == 3);
}

TEST_CASE("issue 20 item 2: a page validated without the SVSM's grant faults at VMPL 2",
          "[guest][svsm]") {
  // §1.4 rule 4: a validated page whose VMPL 2 mask lacks the access
  // raises #NPF with the RMP and VMPL bits (§6 row 5).
  SvsmWorld w;
  const rmp::CheckOptions opt{true, false};
  auto access_at_vmpl2 = [&](std::uint64_t gpa) {
    rmp::GuestAccess a;
    a.spa = gpa + kSpaOffset;
    a.gpa = gpa;
    a.asid = kAsid;
    a.vmpl = 2;
    a.kind = AccessKind::Write;
    return rmp::check_guest_access(w.rmp, a, opt);
  };
  const std::uint64_t bare = w.map(0x4000'0000);
  w.assign(bare);
  // PVALIDATE at VMPL 0 and nothing else (no RMPADJUST).
  REQUIRE(rmp::pvalidate(w.rmp, bare + kSpaOffset, bare, PageSize::k4K, true, kAsid, 0).rc ==
          rmp::kSuccess);
  const rmp::CheckOutcome denied = access_at_vmpl2(bare);
  CHECK(denied.result == rmp::CheckResult::Npf);
  CHECK(denied.npf_bits == x86::rmp_npf_bits(x86::RmpViolation::Vmpl));

  const std::uint64_t gva = 0x4010'0000;
  const std::uint64_t granted = w.map(gva);
  w.assign(granted);
  w.kernel.pvalidate(gva, PageSize::k4K, true);  // through the SVSM: PVALIDATE + grant
  REQUIRE_FALSE(w.state.terminated);
  CHECK(access_at_vmpl2(granted).result == rmp::CheckResult::Ok);
}

TEST_CASE("issue 20 item 2: the SVSM's rescind revokes the grant, then flushes the page",
          "[guest][svsm]") {
  SvsmWorld w;
  const std::uint64_t gva = 0x4000'0000;
  const std::uint64_t gpa = w.map_validated(gva);

  w.kernel.pvalidate(gva, PageSize::k4K, false);

  REQUIRE_FALSE(w.state.terminated);
  CHECK_FALSE(w.entry(gpa).validated);
  CHECK(w.entry(gpa).perms[2] == 0);
  CHECK(w.kernel.counters().svsm_flushes == 1);
  // The operand translated, then INVLPGB + TLBSYNC of the page's GPA inside
  // the call (before the switch back).
  const std::vector<std::string> expected = {"operand", "run vmpl 0", "invalidate gpa",
                                             "run vmpl 2"};
  CHECK(w.cpu.calls == expected);
  CHECK(w.cpu.invalidated.back() == gpa);
}

TEST_CASE("issue 20 item 1: CONVERT under an SVSM makes one call per PSC descriptor",
          "[guest][svsm]") {
  // Linux validates per descriptor (psc_max_entries entries): 40 4K pages
  // with 16-entry descriptors are 3 calls each way (16 + 16 + 8).
  SvsmWorld w({{"guest.vmpl", 2},
               {"guest.svsm", "coconut"},
               {"guest.psc_max_entries", 16},
               {"guest.psc_2m", false}});
  w.conversions.add_svsm_stats();
  const std::uint64_t gva = 0x4000'0000, pages = 40;
  for (std::uint64_t p = 0; p < pages; ++p) w.assign(w.map(gva + (p << 12)));

  w.kernel.convert(gva, pages << 12, /*to_private=*/true);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().svsm_calls == 3);
  CHECK(w.kernel.counters().svsm_entries == pages);
  for (std::uint64_t p = 0; p < pages; ++p) {
    const std::uint64_t gpa = w.os.lookup(gva + (p << 12))->pa;
    CHECK(w.entry(gpa).validated);
    CHECK(w.entry(gpa).perms[2] == rmp::kPermAll);
  }

  w.kernel.convert(gva, pages << 12, /*to_private=*/false);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().svsm_calls == 6);
  CHECK(w.kernel.counters().svsm_flushes == pages);
  // Both conversions carry their SVSM time as the svsm component.
  const auto svsm = w.conversions.stats().counters("psc_ghcb.cost.svsm");
  REQUIRE(svsm.size() == 1);
  CHECK(*svsm[0] == w.kernel.counters().svsm_cycles);
  CHECK(*w.conversions.stats().counters("psc_ghcb.cost.pvalidate")[0] == 0);
}

TEST_CASE("issue 20 item 3: a 2M entry over 4K RMP entries is redone as 4K, 510 entries a call",
          "[guest][svsm]") {
  // Lazy acceptance of a 2 MiB unit whose PSC left 4K RMP entries: the
  // SVSM answers 0x8000_1006 for the 2M entry; Linux sets it aside and
  // validates its 512 pages in calls of 510 and 2.
  SvsmWorld w({{"guest.vmpl", 2}, {"guest.svsm", "coconut"}, {"guest.accept", "lazy"}});
  const std::uint64_t unit = 0x20'0000;
  w.kernel.accept({unit});

  REQUIRE_FALSE(w.state.terminated);
  const auto& c = w.kernel.counters();
  CHECK(c.svsm_calls == 3);
  CHECK(c.svsm_entries == 1 + 512);
  CHECK(c.svsm_errors == 1);
  CHECK(c.pvalidate_fallbacks == 1);
  for (std::uint64_t p = 0; p < 512; ++p) {
    CHECK(w.entry(unit + (p << 12)).validated);
    CHECK(w.entry(unit + (p << 12)).perms[2] == rmp::kPermAll);
  }
}

TEST_CASE("issue 20 item 3: the SVSM's result codes for bad entries and headers",
          "[guest][svsm]") {
  SvsmWorld w;
  guest::GuestKernelCounters c;
  svsm::Svsm s(w.cpu, w.rmp, w.state, w.params, c);
  const std::uint64_t a = 0x10'0000, b = 0x10'1000;
  w.assign(a);
  w.assign(b);
  auto call = [&](std::vector<std::uint64_t> entries, std::uint16_t next = 0) {
    svsm::PvalidateCall pc{std::move(entries), next};
    const std::uint64_t rax = s.core_pvalidate(pc);
    return std::make_pair(rax, pc.next);
  };
  // Header: no entries, more than fit, nothing left after `next`.
  CHECK(call({}).first == svsm::kErrInvalidParameter);
  CHECK(call(std::vector<std::uint64_t>(511, svsm::make_entry(a, PageSize::k4K, true))).first ==
        svsm::kErrInvalidParameter);
  CHECK(call({svsm::make_entry(a, PageSize::k4K, true)}, 1).first ==
        svsm::kErrInvalidParameter);
  CHECK_FALSE(w.entry(a).validated);
  // Entries: a reserved page size (3), a 2M entry at a GPA not 2M aligned.
  CHECK(call({a | 3}) == std::make_pair(svsm::kErrInvalidParameter, std::uint16_t(0)));
  CHECK(call({svsm::make_entry(0x1000, PageSize::k2M, true)}).first ==
        svsm::kErrInvalidParameter);
  // The first bad entry ends the call; `next` names it, earlier ones are done.
  const auto r = call({svsm::make_entry(a, PageSize::k4K, true), a | 2,
                       svsm::make_entry(b, PageSize::k4K, true)});
  CHECK(r == std::make_pair(svsm::kErrInvalidParameter, std::uint16_t(1)));
  CHECK(w.entry(a).validated);
  CHECK_FALSE(w.entry(b).validated);
  // PVALIDATE that changes nothing (CF = 1): 0x8000_1010, unless the entry
  // says to ignore it.
  CHECK(call({svsm::make_entry(a, PageSize::k4K, true)}).first == 0x8000'1010u);
  CHECK(call({svsm::make_entry(a, PageSize::k4K, true, /*ignore_cf=*/true)}).first ==
        svsm::kSuccess);
  // A 2M PVALIDATE over 4K RMP entries: 0x8000_1000 + FAIL_SIZEMISMATCH (6).
  for (std::uint64_t p = 0; p < 512; ++p) w.assign(0x20'0000 + (p << 12));
  CHECK(call({svsm::make_entry(0x20'0000, PageSize::k2M, true)}).first == 0x8000'1006u);
}

TEST_CASE("issue 20 item 3: any other SVSM error terminates Linux (reason set 1, code 2)",
          "[guest][svsm]") {
  SvsmWorld w;
  const std::uint64_t gva = 0x4000'0000;
  w.map_validated(gva);
  w.kernel.pvalidate(gva, PageSize::k4K, true);  // already validated: CF = 1
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("0x80001010") && Contains("reason set 1, code 2"));
}

TEST_CASE("issue 20 item 3: an SVSM with the guest at VMPL 0 terminates it (set 1, code 8)",
          "[guest][svsm]") {
  SvsmWorld w({{"guest.vmpl", 0}, {"guest.svsm", "coconut"}});
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("reason set 1, code 8"));
}

TEST_CASE("issue 20 item 3: a guest below VMPL 0 without an SVSM terminates (set 1, code 7)",
          "[guest][svsm]") {
  SvsmWorld w({{"guest.vmpl", 2}});
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("reason set 1, code 7"));
}

TEST_CASE("issue 20 item 5: CONVERT per page under an SVSM costs VMPL 0's plus the switches "
          "and the SVSM's work",
          "[guest][svsm]") {
  // The same CONVERT to private of 64 4K pages at VMPL 0 and at VMPL 2:
  // one descriptor of 64 entries, so one SVSM call; the SVSM adds its two
  // switches, and per page the zeroing and the grant.
  const std::uint64_t gva = 0x4000'0000, pages = 64;
  auto run = [&](std::initializer_list<std::pair<std::string, Json>> cfg) {
    SvsmWorld w(cfg);
    for (std::uint64_t p = 0; p < pages; ++p) w.assign(w.map(gva + (p << 12)));
    const std::uint64_t before = w.cpu.cycle;
    w.kernel.convert(gva, pages << 12, /*to_private=*/true);
    REQUIRE_FALSE(w.state.terminated);
    return std::make_pair(w.cpu.cycle - before, w.params);
  };
  const std::uint64_t vmpl0 = run({{"guest.psc_2m", false}}).first;
  const auto [vmpl2, q] =
      run({{"guest.vmpl", 2}, {"guest.svsm", "coconut"}, {"guest.psc_2m", false}});
  const std::uint64_t switches = 2 * (FakeCpu::kExitCycles + q.svsm_vmsa_switch_cycles);
  CHECK(vmpl2 == vmpl0 + switches + pages * (q.svsm_zero_4k_cycles + q.rmpadjust_cycles));
  CHECK(vmpl2 / pages > vmpl0 / pages);
}

}  // namespace
}  // namespace rmpsim::test
