// The translation path end to end through `rmpsim run`, on traces small
// enough to count by hand.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

namespace {
std::string repeat(const std::string& line, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += line;
  return s;
}
}  // namespace

TEST_CASE("e2e: a mapped page: nested faults on first touch, then L1 hits", "[e2e][translation]") {
  TempDir tmp;
  // MAP builds the guest tables (root, PDPT, PD, PT). The first access walks
  // and takes a not-present #NPF for each of the 4 guest table pages and for
  // the data page: 5 faulting walks, then one that succeeds. The other 999
  // reads hit the L1 DTLB.
  Json s = run_ok(tmp, kMagic + "0 MAP 0x400000 0x80000000 0x1000 private,4k,rw\n" +
                           repeat("0 R 0x400010\n", 1000));
  const Json& sum = s["summary"];
  CHECK(sum["accesses"] == 1000);
  CHECK(sum["npf_not_present"] == 5);
  CHECK(sum["walks"] == 6);
  CHECK(sum["tlb_l1_misses"] == 6);
  CHECK(sum["tlb_l2_misses"] == 6);
  CHECK(sum["tlb_l1_hits"] == 999);
  CHECK(s["stats"]["system"]["guest_os"]["maps"] == 1);
  CHECK(s["stats"]["system"]["guest_os"]["demand_maps"] == 0);
}

TEST_CASE("e2e: 2M demand pages and 2M backing: one fault, one walk per 2M", "[e2e][translation]") {
  TempDir tmp;
  std::string t = kMagic;
  for (int p = 0; p < 512; ++p) t += "0 R " + std::to_string(0x40000000 + p * 0x1000) + "\n";
  Json s = run_ok(tmp, t,
                  "--set guest.demand_page_size=2m --set hypervisor.backing_page_size=2m");
  const Json& sum = s["summary"];
  CHECK(sum["accesses"] == 512);
  CHECK(s["stats"]["system"]["guest_os"]["demand_maps"] == 1);
  // Every later access hits the 2M L1 DTLB entry filled by the first one.
  CHECK(sum["tlb_l1_hits"] == 511);
  // Not-present faults: the 4 guest table pages all lie in the first 2M
  // folio of the page-table region (0xf000000000), so one #NPF backs them
  // all; the data folio is the second.
  CHECK(sum["npf_not_present"] == 2);
}

TEST_CASE("e2e: UNMAP shoots down every vCPU's TLB", "[e2e][translation]") {
  TempDir tmp;
  // vCPU 1 caches the translation, vCPU 0 unmaps, vCPU 1 reads again much
  // later: it must walk, find no mapping and (auto_map off) terminate the
  // guest, instead of using its stale TLB entry.
  const std::string trace = kMagic +
                            "0 MAP 0x400000 0x80000000 0x1000\n"
                            "0 D 200000\n"
                            "1 D 100000\n"
                            "1 R 0x400000\n"
                            "0 UNMAP 0x400000 0x1000\n"
                            "1 D 5000000\n"
                            "1 R 0x400008\n";
  Json s = run_ok(tmp, trace, "--set cpu.count=2 --set guest.auto_map=false");
  const Json& sum = s["summary"];
  CHECK(sum["guest_terminated"] == true);
  CHECK(sum["termination_reason"].get<std::string>().find("GVA 0x400008") != std::string::npos);
  CHECK(s["stats"]["system"]["guest_os"]["shootdowns"] == 1);
  CHECK(sum["accesses"] == 1);  // the second read never completed
}

TEST_CASE("e2e: a write to a read-only mapping terminates with a reason", "[e2e][translation]") {
  TempDir tmp;
  Json s = run_ok(tmp, kMagic + "0 MAP 0x400000 0x80000000 0x1000 private,ro\n0 R 0x400000\n"
                                "0 W 0x400000\n0 R 0x400000\n");
  CHECK(s["summary"]["guest_terminated"] == true);
  CHECK(s["summary"]["termination_reason"].get<std::string>().find("not permitted") !=
        std::string::npos);
  CHECK(s["summary"]["accesses"] == 1);
}

TEST_CASE("e2e: 5-level tables in both dimensions", "[e2e][translation]") {
  TempDir tmp;
  Json s = run_ok(tmp, kMagic + "0 MAP 0x400000 0x80000000 0x1000\n0 R 0x400000\n",
                  "--set walker.guest_levels=5 --set walker.nested_levels=5");
  // 5 guest table pages + the data page each fault once.
  CHECK(s["summary"]["npf_not_present"] == 6);
  CHECK(s["summary"]["walks"] == 7);
}

TEST_CASE("e2e: MAP inside a mapped 2M page is a trace error at its line", "[e2e][errors]") {
  TempDir tmp;
  spit(tmp.file("t.rmpt"), kMagic + "0 MAP 0x400000 0x80000000 0x200000 private,2m\n"
                                    "0 MAP 0x401000 0x90000000 0x1000\n");
  auto r = run_cli("run " + tmp.file("t.rmpt") + " --out " + tmp.file("out"), tmp);
  CHECK(r.status == 2);
  CHECK(r.err.rfind(tmp.file("t.rmpt") + ":3: error: MAP of 4k page at GVA 0x401000", 0) == 0);
}
