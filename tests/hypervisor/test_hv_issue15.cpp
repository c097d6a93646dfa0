// Issue 15, hypervisor behaviour, against the KVM sources the spec cites:
// a huge folio's 2M range comes back as one 2M entry once uniformly private
// (item 4, §4.2), auto-convert zaps the whole 2M GFN range (item 5, snp-semantics §4.4) and
// RMP #NPFs that sev_handle_rmp_fault only warns about are skipped, not a
// termination (item 6, §4.1 step 4).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "models/common/x86_fault.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_table.hpp"
#include "support/config_params.hpp"

using namespace rmpsim;

namespace {

constexpr std::uint16_t kAsid = 3;
constexpr std::uint64_t kPrivateNotPresent =
    x86::npf_exitinfo1(/*present=*/false, /*write=*/false, /*fetch=*/false,
                       /*guest_page_table=*/false, /*encrypted=*/true);
// An access through a present NPT leaf that the RMP refused (§1.6).
constexpr std::uint64_t rmp_fault(bool is_private) {
  return x86::npf_exitinfo1(/*present=*/true, /*write=*/false, /*fetch=*/false,
                            /*guest_page_table=*/false, is_private,
                            x86::rmp_npf_bits(x86::RmpViolation::Entry));
}

struct World {
  memory::PhysStore hmem;
  rmp::RmpTable rmp;
  mmu::TranslationDomain tlbs;
  hypervisor::Hypervisor hv;
  explicit World(const std::string& policy, const std::string& backing = "4k",
                 bool launch_validated = false)
      : hv(hmem, rmp,
           [&] {
             hypervisor::HypervisorParams p = hypervisor::hypervisor_params_from(
                 test::config_with({{"hypervisor.policy", policy},
                                    {"hypervisor.backing_page_size", backing}}),
                 test::kClock);
             p.guest_asid = kAsid;
             return p;
           }(),
           [launch_validated](std::uint64_t) { return launch_validated; }, tlbs) {}
  bool mapped(std::uint64_t gpa) const {
    return const_cast<World*>(this)->hv.npt().lookup(hv.ncr3(), gpa).has_value();
  }
  rmp::Governing entry_of(std::uint64_t gpa) {
    std::uint64_t spa = 0;
    REQUIRE(hv.backing_of(gpa, spa));
    return rmp.governing(spa);
  }
  void convert(std::uint64_t gpa, std::uint64_t pages, bool to_private) {
    hypervisor::ConversionCost cost;
    REQUIRE(hv.userspace_convert(gpa, pages, to_private, cost));
  }
};

}  // namespace

TEST_CASE("issue 15 item 4: a 2M folio range is one 2M RMP entry again once uniformly private",
          "[hypervisor][issue15]") {
  SECTION("the whole range went shared and back: 2M, not validated") {
    World w("exit-to-userspace", "2m", /*launch_validated=*/true);
    REQUIRE(w.hv.handle_npf(0, 0x200000, kPrivateNotPresent).resolved);
    REQUIRE(w.entry_of(0x200000).size == PageSize::k2M);
    w.convert(0x200000, 512, /*to_private=*/false);
    w.convert(0x200000, 512, /*to_private=*/true);
    REQUIRE(w.hv.handle_npf(0, 0x345000, kPrivateNotPresent).resolved);
    const rmp::Governing g = w.entry_of(0x345000);
    CHECK(g.entry.assigned);
    CHECK(g.size == PageSize::k2M);
    CHECK(!g.entry.validated);  // converted pages are the guest's to validate
    const auto leaf = w.hv.npt().lookup(w.hv.ncr3(), 0x345000);
    REQUIRE(leaf);
    CHECK(leaf->size == PageSize::k2M);
  }
  SECTION("part of the range still shared: 4K") {
    World w("exit-to-userspace", "2m");
    w.convert(0x201000, 1, /*to_private=*/false);
    REQUIRE(w.hv.handle_npf(0, 0x200000, kPrivateNotPresent).resolved);
    CHECK(w.entry_of(0x200000).size == PageSize::k4K);
  }
  SECTION("one page converted, the others validated at launch and never converted: 4K") {
    World w("exit-to-userspace", "2m", /*launch_validated=*/true);
    w.convert(0x201000, 1, /*to_private=*/false);
    w.convert(0x201000, 1, /*to_private=*/true);
    REQUIRE(w.hv.handle_npf(0, 0x200000, kPrivateNotPresent).resolved);
    CHECK(w.entry_of(0x200000).size == PageSize::k4K);
    CHECK(w.entry_of(0x200000).entry.validated);
    REQUIRE(w.hv.handle_npf(0, 0x201000, kPrivateNotPresent).resolved);
    CHECK(!w.entry_of(0x201000).entry.validated);
  }
}

TEST_CASE("issue 15 item 5: auto-convert zaps the whole 2M GFN range", "[hypervisor][issue15]") {
  World w("auto-convert");
  // Three private pages of one 2M range faulted in (4K folios: 4K leaves),
  // and one in the next 2M range.
  for (std::uint64_t gpa : {0x200000ull, 0x201000ull, 0x3ff000ull, 0x400000ull})
    REQUIRE(w.hv.handle_npf(0, gpa, kPrivateNotPresent).resolved);
  // A shared access to 0x201000: the RFC's in-kernel conversion to shared.
  const hypervisor::NpfResult r = w.hv.handle_npf(0, 0x201000, rmp_fault(/*private=*/false));
  REQUIRE(r.resolved);
  CHECK(r.conversion);
  CHECK(!w.hv.memory().is_private(0x201000));
  // The converted page is mapped again at once (shared); every other leaf of
  // its 2M range is gone, so the NPT is rebuilt at the new RMP size; the
  // next 2M range is untouched.
  CHECK(w.mapped(0x201000));
  CHECK(!w.mapped(0x200000));
  CHECK(!w.mapped(0x3ff000));
  CHECK(w.mapped(0x400000));
  // One zap for the range, one ASID flush for it (§2.3).
  CHECK(w.hv.counters().npt_zaps == 1);
  CHECK(w.hv.counters().tlb_flushes == 1);
}

TEST_CASE("issue 15 item 6: RMP #NPFs KVM only warns about are skipped, not a termination",
          "[hypervisor][issue15]") {
  World w("exit-to-userspace");
  std::uint64_t spa = 0;
  SECTION("a shared access to a shared GFN (the GFN is not private)") {
    hypervisor::ConversionCost cost;
    REQUIRE(w.hv.userspace_convert(0x5000, 1, /*to_private=*/false, cost));
    const hypervisor::NpfResult r = w.hv.handle_npf(0, 0x5000, rmp_fault(/*private=*/false));
    CHECK(r.resolved);
    CHECK(r.reason.empty());
    CHECK(!r.conversion);
  }
  SECTION("a private GFN with no guest_memfd page") {
    const hypervisor::NpfResult r = w.hv.handle_npf(0, 0x6000, rmp_fault(/*private=*/true));
    CHECK(r.resolved);
    CHECK(r.reason.empty());
    CHECK(!w.hv.backing_of(0x6000, spa));  // nothing allocated on the way
  }
  SECTION("a private GFN whose page has no assigned RMP entry") {
    spa = w.hv.host_backing(0x7000);  // the page exists, never RMPUPDATEd
    const hypervisor::NpfResult r = w.hv.handle_npf(0, 0x7000, rmp_fault(/*private=*/true));
    CHECK(r.resolved);
    CHECK(r.reason.empty());
    CHECK(!w.rmp.governing(spa).entry.assigned);
  }
  CHECK(w.hv.counters().npf_rmp_unexpected == 1);
  CHECK(w.hv.counters().rmpupdate == 0);
  CHECK(w.hv.counters().psmash == 0);
}
