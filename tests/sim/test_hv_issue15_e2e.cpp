// Issue 15 item 4, end to end through `rmpsim run`: with huge guest_memfd
// folios, a 2M range converted to shared and back is mapped 2M again.
// Expectations are counted by hand from the trace.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

namespace {
// 8 MiB of private 2M pages: touched, converted to shared and back the
// Linux way (CONVERT: 2M PSC entries and 2M PVALIDATEs), touched again.
const std::string k8MiBRoundTrip = kMagic +
                                   "0 MAP 0x40000000 0x80000000 0x800000 private,2m\n"
                                   "0 R 0x40001000\n"
                                   "0 CONVERT 0x40000000 0x800000 shared\n"
                                   "0 CONVERT 0x40000000 0x800000 private\n"
                                   "0 R 0x40001000\n";
}  // namespace

TEST_CASE("issue 15 item 4: a 2M range converted to shared and back is mapped 2M again",
          "[e2e][conversion][issue15]") {
  TempDir tmp;
  Json s = run_ok(tmp, k8MiBRoundTrip, "--set hypervisor.backing_page_size=2m");
  const Json& hv = s["stats"]["system"]["hypervisor"];
  const Json& cpu = s["stats"]["system"]["cpu0"];
  CHECK(s["summary"]["guest_terminated"] == false);
  // The way back: each of the 4 fresh 2M folios is uniformly private and
  // unassigned, so its first private fault (the 2M PVALIDATE's operand)
  // installs one 2M RMP entry and one 2M NPT leaf; the 2M PVALIDATE fits.
  CHECK(cpu["pvalidate_fallbacks"] == 0);
  CHECK(cpu["pvalidate"] == 8);  // 4 x 2M rescind, 4 x 2M validate
  // #NPFs: the guest page tables' folio, the first touch, 3 rescind
  // operands not yet mapped, and only 4 on the way back.
  CHECK(hv["npf"] == 1 + 1 + 3 + 4);
  // RMPUPDATEs: the page-table folio, 4 x 2M to private at the first
  // touches, 4 x 2M back to shared, 4 x 2M to private again.
  CHECK(hv["rmpupdate"] == 13);
  CHECK(hv["psmash"] == 0);
}

TEST_CASE("issue 15 item 4: hypervisor.huge_folio_conversion=stay-4k keeps converted GFNs at 4K",
          "[e2e][conversion][issue15]") {
  TempDir tmp;
  Json s = run_ok(tmp, k8MiBRoundTrip,
                  "--set hypervisor.backing_page_size=2m "
                  "--set hypervisor.huge_folio_conversion=stay-4k");
  const Json& hv = s["stats"]["system"]["hypervisor"];
  const Json& cpu = s["stats"]["system"]["cpu0"];
  CHECK(s["summary"]["guest_terminated"] == false);
  // Every 2M PVALIDATE on the way back meets 4K entries and falls back to
  // 512 x 4K, each faulting its page in: 4 x 512 #NPFs on the way back
  // (the 2M operand's fault maps the first page of each).
  CHECK(cpu["pvalidate_fallbacks"] == 4);
  CHECK(hv["npf"] == 1 + 1 + 3 + 4 * 512);
}
