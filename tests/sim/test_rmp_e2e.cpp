// The RMP end to end through `rmpsim run`, on small traces counted by hand.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

TEST_CASE("e2e: private memory the guest never validated takes #VC 0x404", "[e2e][rmp]") {
  TempDir tmp;
  // guest.accept=none: nothing but the guest's page tables was validated.
  Json s = run_ok(tmp, kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 R 0x400000\n0 R 0x400008\n",
                  "--set guest.accept=none");
  const Json& sum = s["summary"];
  CHECK(sum["vc_not_validated"] == 1);
  CHECK(sum["guest_terminated"] == true);
  CHECK(sum["termination_reason"].get<std::string>().find("#VC 0x404") != std::string::npos);
  CHECK(sum["accesses"] == 0);
  // The fault-ins assigned 4 page-table pages and the data page.
  CHECK(sum["rmpupdate"] == 5);
  CHECK(sum["npf_rmp"] == 0);
}

TEST_CASE("e2e: validating first avoids the #VC", "[e2e][rmp]") {
  TempDir tmp;
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 PVALIDATE 0x400000 4k validate\n"
                           "0 R 0x400000\n0 R 0x400008\n",
                  "--set guest.accept=none");
  const Json& sum = s["summary"];
  CHECK(sum["vc_not_validated"] == 0);
  CHECK(sum["guest_terminated"] == false);
  CHECK(sum["pvalidate"] == 1);
  CHECK(sum["accesses"] == 2);
}

TEST_CASE("e2e: a host write to private memory is a host RMP fault", "[e2e][rmp]") {
  TempDir tmp;
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 W 0x400000\n"
                           "0 HOST R 0x80000000 8\n0 HOST W 0x80000000 8\n0 HOST W 0x90000000 8\n",
                  "");
  const Json& sum = s["summary"];
  // Only the write to the guest's private page faults; the read sees
  // ciphertext and the write to never-touched memory hits a shared page.
  CHECK(sum["host_rmp_faults"] == 1);
  CHECK(s["stats"]["system"]["cpu0"]["host_writes"] == 2);
  CHECK(s["stats"]["system"]["cpu0"]["host_reads"] == 1);
  CHECK(sum["guest_terminated"] == false);
}

TEST_CASE("e2e: a 2M PVALIDATE on 4K RMP entries falls back to 512 x 4K", "[e2e][rmp]") {
  TempDir tmp;
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x40000000 0x80000000 0x200000 private,2m\n"
                           "0 PVALIDATE 0x40000000 2m validate\n0 R 0x40001000\n",
                  "--set guest.accept=none");
  const Json& sum = s["summary"];
  // 4K backing gives 4K RMP entries: the 2M attempt fails with
  // FAIL_SIZEMISMATCH, then 512 4K PVALIDATEs succeed.
  CHECK(sum["pvalidate"] == 513);
  CHECK(s["stats"]["system"]["cpu0"]["pvalidate_fallbacks"] == 1);
  // Page tables (root, PDPT, PD: the 2M leaf lives in the PD) + 512 data
  // pages are faulted in, each private: 515 RMPUPDATEs.
  CHECK(sum["rmpupdate"] == 515);
  CHECK(sum["vc_not_validated"] == 0);
  CHECK(sum["guest_terminated"] == false);
  CHECK(sum["accesses"] == 1);
}

TEST_CASE("e2e: PVALIDATE of a page already validated terminates a Linux guest", "[e2e][rmp]") {
  TempDir tmp;
  // Under eager acceptance every page is validated already: CF = 1.
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 PVALIDATE 0x400000 4k validate\n",
                  "");
  CHECK(s["summary"]["guest_terminated"] == true);
  CHECK(s["summary"]["termination_reason"].get<std::string>().find("CF=1") != std::string::npos);
  CHECK(s["stats"]["system"]["cpu0"]["pvalidate_cf"] == 1);
}

TEST_CASE("e2e: at VMPL1 the guest page tables need VMPL1 permissions too", "[e2e][rmp]") {
  TempDir tmp;
  // Page-table reads are RMP-checked like any private access (§1.4), so a
  // VMPL1 read through tables VMPL0 never opened to VMPL1 is a VMPL #NPF
  // (bits 31 and 36), which this hypervisor does not resolve.
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 W 0x400000\n"
                           "0 RMPADJUST 0x400000 4k 1 r\n0 VMPL 1\n0 R 0x400000\n"
                           "0 W 0x400000\n",
                  "");
  CHECK(s["summary"]["guest_terminated"] == true);
  CHECK(s["summary"]["termination_reason"].get<std::string>().find("VMPL permission violation") !=
        std::string::npos);
  CHECK(s["summary"]["accesses"] == 1);
}

TEST_CASE("e2e: PVALIDATE through a shared mapping ends the guest cleanly, never crashes",
          "[e2e][rmp]") {
  TempDir tmp;
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x400000 0x80000000 0x1000 shared\n"
                           "0 PVALIDATE 0x400000 4k validate\n",
                  "");
  CHECK(s["summary"]["guest_terminated"] == true);
}
