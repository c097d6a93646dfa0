// A long random sequence of SNP instructions over a small physical range:
// after every step the table is well formed (§1.3), a guest completes a
// private access only to a validated page of its own, and the host
// completes a write only to a hypervisor-owned page. Ownership is read from
// the raw entries here, independently of RmpTable::governing().
#include <random>

#include "models/config_schema.hpp"
#include "rmp_fixture.hpp"

#include "models/rmp/rmp_check.hpp"
#include "models/rmp/rmp_params.hpp"
#include "support/config_params.hpp"

using namespace rmpsim;
using namespace rmpsim::rmp;

namespace {
// The entry that owns a page, straight from the raw table: the 2M head if it
// is a 2M entry, else the page's own.
RmpEntry owner_of(const RmpTable& t, std::uint64_t pfn, std::uint64_t& expected_gpa) {
  const RmpEntry head = t.raw(pfn & ~511ull);
  if (head.large) {
    expected_gpa = head.gpa + ((pfn & 511) << 12);
    return head;
  }
  const RmpEntry e = t.raw(pfn);
  expected_gpa = e.gpa;
  return e;
}
}  // namespace

TEST_CASE("random instruction sequences keep the RMP invariants", "[rmp][invariants]") {
  RmpTable t;
  const CheckOptions options = check_options_from(default_config(), test::kClock);
  std::mt19937_64 rng(7);
  const std::uint16_t asids[] = {0, 5, 6};
  constexpr std::uint64_t kBase = 0x4000000, kPages = 2048;  // 8 MiB: four 2M regions
  auto pick_spa = [&](bool big) {
    std::uint64_t pfn = rng() % kPages;
    if (big) pfn &= ~511ull;
    return kBase + (pfn << 12);
  };
  for (int step = 0; step < 20000; ++step) {
    const bool big = rng() % 4 == 0;
    const std::uint64_t spa = pick_spa(big);
    const PageSize size = big ? PageSize::k2M : PageSize::k4K;
    const std::uint64_t gpa = (spa - kBase) + 0x100000;  // a fixed GPA<->SPA pairing
    const std::uint16_t asid = asids[rng() % 3];
    switch (rng() % 5) {
      case 0: {
        RmpState s;
        s.assigned = rng() % 3 != 0;
        s.asid = s.assigned ? std::max<std::uint16_t>(asid, 5) : 0;
        s.gpa = gpa;
        s.size = size;
        s.immutable = rng() % 50 == 0;
        (void)rmpupdate(t, spa, s, rng() % 20 == 0 ? 5 : 0);
        break;
      }
      case 1:
        (void)psmash(t, spa & ~0x1fffffull);
        break;
      case 2:
        (void)pvalidate(t, spa, gpa, size, rng() % 2, asid, static_cast<std::uint8_t>(rng() % 2));
        break;
      case 3:
        (void)rmpadjust(t, spa, gpa, size, static_cast<std::uint8_t>(1 + rng() % 3),
                        static_cast<std::uint8_t>(rng() % 16), rng() % 2, asid,
                        static_cast<std::uint8_t>(rng() % 2));
        break;
      case 4:
        t.set_in_use(spa >> 12, rng() % 2);
        break;
    }
    REQUIRE(t.check_invariants() == "");
    // Probe a few pages with accesses.
    for (int probe = 0; probe < 4; ++probe) {
      const std::uint64_t pspa = pick_spa(false), pgpa = (pspa - kBase) + 0x100000;
      std::uint64_t want_gpa = 0;
      const RmpEntry o = owner_of(t, pspa >> 12, want_gpa);
      GuestAccess a;
      a.spa = pspa;
      a.gpa = pgpa;
      a.asid = asids[1 + rng() % 2];
      a.kind = AccessKind(rng() % 3);
      a.is_private = true;
      a.nested_size = o.large ? PageSize::k2M : PageSize::k4K;
      if (check_guest_access(t, a, options).result == CheckResult::Ok) {
        INFO("private access completed at SPA " << std::hex << pspa);
        REQUIRE(o.assigned);
        REQUIRE(!o.immutable);
        REQUIRE(o.asid == a.asid);
        REQUIRE(o.validated);
        REQUIRE(want_gpa == pgpa);
      }
      if (!host_write_faults(t, pspa, PageSize::k4K)) REQUIRE(!o.assigned);
    }
  }
}
