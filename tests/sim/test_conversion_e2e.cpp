// Conversions end to end through `rmpsim run`: the three hypervisor policies
// on an implicit conversion, the PSC protocols compared, and TLB coherence
// across vCPUs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "support/run_trace.hpp"

using namespace rmpsim::test;
using Json = nlohmann::json;

namespace {
// The page at GPA 0x80000000 is made shared with an explicit MSR PSC and
// used shared; then the guest maps it private again and writes private data
// to it while the hypervisor still holds it shared: an implicit conversion.
const std::string kImplicit = kMagic +
                              "0 MAP 0x400000 0x80000000 0x1000 shared\n"
                              "0 PSC msr shared 0x80000000\n"
                              "0 W 0x400000\n"
                              "0 UNMAP 0x400000 0x1000\n"
                              "0 MAP 0x400000 0x80000000 0x1000 private\n"
                              "0 W 0x400000\n"
                              "0 W 0x400008\n";
// The converted page is not validated; this guest validates it on #VC.
const std::string kEnlightened = "--set guest.on_vc_not_validated=validate ";
}  // namespace

TEST_CASE("e2e policy exit-to-userspace: a memory-fault exit and a completed conversion",
          "[e2e][conversion]") {
  TempDir tmp;
  Json s = run_ok(tmp, kImplicit, kEnlightened + "--set hypervisor.policy=exit-to-userspace");
  const Json& hv = s["stats"]["system"]["hypervisor"];
  CHECK(s["summary"]["guest_terminated"] == false);
  CHECK(hv["memory_fault_exits"] == 1);
  CHECK(hv["map_gpa_range_exits"] == 1);  // the explicit PSC
  CHECK(s["summary"]["userspace_exits"] == 2);
  CHECK(s["stats"]["system"]["conversions"]["implicit"]["count"] == 1);
  CHECK(s["stats"]["system"]["conversions"]["implicit"]["to_private"] == 1);
  CHECK(s["summary"]["conversions"] == 2);  // the PSC and the implicit one
  CHECK(s["summary"]["accesses"] == 3);
  CHECK(s["stats"]["system"]["conversions"]["implicit"]["cost"]["userspace"] > 0);
}

TEST_CASE("e2e policy auto-convert: an RMPUPDATE and no userspace exit", "[e2e][conversion]") {
  TempDir tmp;
  Json s = run_ok(tmp, kImplicit, kEnlightened + "--set hypervisor.policy=auto-convert");
  const Json& hv = s["stats"]["system"]["hypervisor"];
  CHECK(s["summary"]["guest_terminated"] == false);
  CHECK(hv["memory_fault_exits"] == 0);
  CHECK(s["summary"]["userspace_exits"] == 1);  // only the explicit PSC went to userspace
  const Json& imp = s["stats"]["system"]["conversions"]["implicit"];
  CHECK(imp["count"] == 1);
  CHECK(imp["cost"]["userspace"] == 0);
  CHECK(imp["cost"]["rmpupdate"] > 0);  // the kernel assigned the page itself
  CHECK(s["summary"]["accesses"] == 3);
}

TEST_CASE("e2e policy terminate: the guest is terminated with the GPA and the access",
          "[e2e][conversion]") {
  TempDir tmp;
  Json s = run_ok(tmp, kImplicit, kEnlightened + "--set hypervisor.policy=terminate");
  CHECK(s["summary"]["guest_terminated"] == true);
  const std::string why = s["summary"]["termination_reason"];
  CHECK(why.find("GPA 0x80000000") != std::string::npos);
  CHECK(why.find("private write") != std::string::npos);
  // The explicit PSC still worked: the shared write before completed.
  CHECK(s["summary"]["accesses"] == 1);
  CHECK(s["stats"]["system"]["conversions"]["psc_msr"]["count"] == 1);
}

TEST_CASE("e2e PSC protocols: per-page latency MSR > GHCB 4K > GHCB 2M", "[e2e][conversion]") {
  // 8 MiB converted to shared and back, the Linux way (CONVERT).
  const std::string trace = kMagic +
                            "0 MAP 0x40000000 0x80000000 0x800000 private,2m\n"
                            "0 CONVERT 0x40000000 0x800000 shared\n"
                            "0 CONVERT 0x40000000 0x800000 private\n"
                            "0 R 0x40001000\n";
  const std::string common = "--set hypervisor.backing_page_size=2m ";
  auto per_page = [&](const std::string& opts, const char* trigger) {
    TempDir tmp;
    Json s = run_ok(tmp, trace, common + opts);
    REQUIRE(s["summary"]["guest_terminated"] == false);
    const Json& t = s["stats"]["system"]["conversions"][trigger];
    REQUIRE(t["count"] == 2);
    REQUIRE(t["pages"] == 4096);
    return t["latency"]["mean"].get<double>() * 2 / 4096;  // two conversions of 2048 pages
  };
  const double msr = per_page("--set guest.psc_protocol=msr", "psc_msr");
  const double ghcb4k = per_page("--set guest.psc_2m=false", "psc_ghcb");
  const double ghcb2m = per_page("", "psc_ghcb");
  INFO("MSR " << msr << ", GHCB 4K " << ghcb4k << ", GHCB 2M " << ghcb2m << " cycles per page");
  CHECK(msr > ghcb4k);
  CHECK(ghcb4k > ghcb2m);
}

TEST_CASE("e2e 4 vCPUs: after a conversion no vCPU uses a stale translation", "[e2e][conversion]") {
  TempDir tmp;
  // Every vCPU caches the private translation of the page; vCPU 0 converts
  // it to shared (rescind, PSC, PTE change with a shootdown); the others then
  // read it again much later. Each of them must walk again: with a stale TLB
  // entry the access would complete as a private one without any walk.
  std::string t = kMagic + "0 MAP 0x400000 0x80000000 0x1000\n";
  for (int v = 0; v < 4; ++v) t += std::to_string(v) + " R 0x400000\n";
  t += "0 D 300000\n0 CONVERT 0x400000 0x1000 shared\n";
  for (int v = 1; v < 4; ++v) t += std::to_string(v) + " D 5000000\n" + std::to_string(v) +
                                   " R 0x400008\n";
  Json s = run_ok(tmp, t, "--set cpu.count=4");
  CHECK(s["summary"]["guest_terminated"] == false);
  for (int v = 1; v < 4; ++v) {
    const Json& mmu = s["stats"]["system"]["cpu" + std::to_string(v)]["mmu"];
    INFO("vCPU " << v);
    // Two L1 misses: the first read, and the read after the conversion.
    CHECK(mmu["dtlb"]["misses"].get<int>() >= 2);
    CHECK(mmu["dtlb"]["hits"] == 0);
  }
  CHECK(s["stats"]["system"]["conversions"]["psc_ghcb"]["to_shared"] == 1);
}

TEST_CASE("e2e lazy acceptance: a 2M unit is accepted before its first use, never on a fault",
          "[e2e][conversion]") {
  TempDir tmp;
  // Two first touches in different 2M regions; 2M demand pages come from two
  // different 2M units of guest memory, each accepted when handed out.
  Json s = run_ok(tmp, kMagic + "0 R 0x40000000\n0 R 0x40200000\n0 R 0x40000008\n",
                  "--set guest.accept=lazy --set guest.demand_page_size=2m "
                  "--set hypervisor.backing_page_size=2m");
  const Json& sum = s["summary"];
  CHECK(sum["guest_terminated"] == false);
  CHECK(sum["vc_not_validated"] == 0);
  CHECK(s["stats"]["system"]["cpu0"]["units_accepted"] == 2);
  const Json& lazy = s["stats"]["system"]["conversions"]["lazy_accept"];
  CHECK(lazy["count"] == 2);
  CHECK(lazy["pages"] == 1024);
  // Per unit: one GHCB PSC (a 2M entry) forwarded to userspace, one 2M
  // PVALIDATE on the 2M RMP entry the fault-in created.
  CHECK(sum["psc_requests"] == 2);
  CHECK(sum["userspace_exits"] == 2);
  CHECK(sum["pvalidate"] == 2);
  // RMPUPDATEs: the 2M folio holding the guest page tables, and the two units.
  CHECK(sum["rmpupdate"] == 3);
  CHECK(sum["accesses"] == 3);
}

TEST_CASE("e2e review: a 2M private fault-in never covers GFNs that were made shared",
          "[e2e][conversion]") {
  TempDir tmp;
  // GFN 0x80001 is made shared by an implicit conversion before its 2M
  // folio exists; the later private fault-in of the region must not map it
  // private: the private read of it converts it back instead.
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x40000000 0x80000000 0x200000 private,2m\n"
                           "0 MAP 0x50000000 0x80001000 0x1000 shared\n"
                           "0 W 0x50000000\n"
                           "0 R 0x40000000\n"
                           "0 R 0x40001000\n"
                           "1 D 9000000\n"
                           "1 R 0x50000000\n",
                  kEnlightened + "--set hypervisor.backing_page_size=2m --set cpu.count=2");
  CHECK(s["summary"]["guest_terminated"] == false);
  // To shared (the W), to private (the private R), to shared again (vCPU 1).
  CHECK(s["stats"]["system"]["conversions"]["implicit"]["count"] == 3);
  CHECK(s["summary"]["accesses"] == 4);
}

TEST_CASE("e2e review: converting a whole 2M entry to shared returns it to the host",
          "[e2e][conversion]") {
  TempDir tmp;
  Json s = run_ok(tmp,
                  kMagic + "0 MAP 0x40000000 0x80000000 0x200000 private,2m\n"
                           "0 R 0x40000000\n"
                           "0 CONVERT 0x40000000 0x200000 shared\n"
                           "0 HOST W 0x80000000 8\n0 HOST W 0x801ff000 8\n",
                  "--set hypervisor.backing_page_size=2m");
  CHECK(s["summary"]["guest_terminated"] == false);
  CHECK(s["summary"]["host_rmp_faults"] == 0);  // the 2M entry went back: no host fault
  CHECK(s["summary"]["psmash"] == 0);           // one 2M RMPUPDATE, no smashing
}

TEST_CASE("e2e --events and --vcd: JSON lines and a waveform, nothing left on failure",
          "[e2e][events]") {
  TempDir tmp;
  Json s = run_ok(tmp, kImplicit,
                  kEnlightened + "--events " + tmp.file("ev.jsonl") + " --vcd " + tmp.file("w.vcd"));
  std::istringstream lines(slurp(tmp.file("ev.jsonl")));
  std::string line;
  int npf = 0, conversions = 0, psc = 0;
  while (std::getline(lines, line)) {
    Json e = Json::parse(line);  // every line is one JSON object
    REQUIRE(e.contains("cycle"));
    REQUIRE(e["vcpu"] == 0);
    const std::string type = e["type"];
    npf += type == "npf";
    psc += type == "psc";
    if (type == "conversion") {
      ++conversions;
      CHECK(e["end"].get<std::uint64_t>() - e["cycle"].get<std::uint64_t>() == e["cycles"]);
    }
  }
  CHECK(conversions == s["summary"]["conversions"].get<int>());
  CHECK(npf == s["summary"]["npf_total"].get<int>());
  CHECK(psc == s["summary"]["psc_requests"].get<int>());
  const std::string vcd = slurp(tmp.file("w.vcd"));
  CHECK(vcd.find("$var wire 2 ! cpu0_state $end") != std::string::npos);
  CHECK(vcd.find("$enddefinitions $end") != std::string::npos);
  CHECK(vcd.find("b10 !") != std::string::npos);  // the vCPU was in userspace at some point

  // A run that fails leaves neither file behind.
  spit(tmp.file("bad.rmpt"), kMagic + "0 R 0x1000\n0 BOGUS\n");
  auto r = run_cli("run " + tmp.file("bad.rmpt") + " --events " + tmp.file("ev2.jsonl") +
                       " --vcd " + tmp.file("w2.vcd") + " --out " + tmp.file("o2"),
                   tmp);
  CHECK(r.status == 2);
  CHECK(!std::filesystem::exists(tmp.file("ev2.jsonl")));
  CHECK(!std::filesystem::exists(tmp.file("w2.vcd")));
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("e2e --check: 4 vCPUs, random accesses and conversions, same summary as without",
          "[e2e][conversion][check]") {
  TempDir tmp;
  // 4 vCPUs share 64 private 4K pages; vCPU 0 keeps converting
  // random pages to shared and back (CONVERT: rescind/PSC/PTE, PTE/PSC/
  // validate) while the others read and write them. An enlightened guest
  // validates a page it meets mid-conversion (#VC 0x404) instead of dying.
  auto fmt_hex = [](std::uint64_t v) {
    std::ostringstream o;
    o << "0x" << std::hex << v;
    return o.str();
  };
  std::uint64_t x = 12345;
  auto next = [&x](std::uint64_t n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (x >> 33) % n;
  };
  std::ostringstream t;
  t << kMagic << "0 MAP 0x400000 0x80000000 0x40000 private\n";
  std::vector<bool> shared(64, false);
  for (int i = 0; i < 3000; ++i) {
    const std::uint64_t page = next(64);
    const std::uint64_t gva = 0x400000 + page * 0x1000 + next(512) * 8;
    if (next(20) == 0) {
      t << "0 CONVERT " << fmt_hex(0x400000 + page * 0x1000) << " 0x1000 "
        << (shared[page] ? "private" : "shared") << "\n";
      shared[page] = !shared[page];
    } else {
      t << next(4) << (next(3) == 0 ? " W " : " R ") << fmt_hex(gva) << "\n";
    }
  }
  const std::string opts = "--set cpu.count=4 " + kEnlightened;
  const Json plain = run_ok(tmp, t.str(), opts);
  const Json checked = run_ok(tmp, t.str(), opts + " --check");
  Json a = plain["summary"], b = checked["summary"];
  for (Json* s : {&a, &b}) {
    s->erase("host_seconds");
    s->erase("accesses_per_host_second");
  }
  CHECK(a == b);
  CHECK(a["conversions"].get<int>() > 100);
  CHECK(checked["stats"]["system"]["check"]["tlb_probes"].get<long>() > 1000);
  CHECK(checked["stats"]["system"]["check"]["gfns"].get<long>() > 100);
  CHECK_FALSE(plain["stats"]["system"].contains("check"));
}

TEST_CASE("e2e --check: a skipped flush stops the run with exit 5, a message and no outputs",
          "[e2e][conversion][check]") {
  TempDir tmp;
  // Every vCPU caches the private translation of GPA 0x80000000; then vCPU
  // 0 writes it through a shared alias: an implicit conversion to shared
  // (zap, flush, RMPUPDATE). With the hypervisor's flushes dropped (test-
  // only injection) the TLBs keep the private translation: the checker must
  // stop the run at that #NPF exit.
  std::string t = kMagic + "0 MAP 0x400000 0x80000000 0x1000 private\n" +
                  "0 MAP 0x600000 0x80000000 0x1000 shared\n";
  for (int v = 0; v < 4; ++v) t += std::to_string(v) + " R 0x400000\n";
  t += "0 D 300000\n0 W 0x600000\n";
  spit(tmp.file("t.rmpt"), t);
  const std::string base =
      "run " + tmp.file("t.rmpt") + " --quiet --set cpu.count=4 --out " + tmp.file("out");
  SECTION("the fault is found") {
    auto r = run_cli(base + " --check --check-inject skip-hv-flush", tmp);
    CHECK(r.status == 5);
    CHECK_THAT(r.err, Catch::Contains("rmpsim: invariant violated at cycle ") &&
                          Catch::Contains("TLB coherence") &&
                          Catch::Contains("L1D entry of vCPU 0 for GVA 0x400000") &&
                          Catch::Contains("(vCPU 0, checked after a #NPF exit)"));
    CHECK_FALSE(std::filesystem::exists(tmp.file("out/stats.json")));
  }
  SECTION("without --check the same run completes (the bug goes unnoticed)") {
    auto r = run_cli(base + " --check-inject skip-hv-flush", tmp);
    INFO(r.err);
    CHECK(r.status == 0);
  }
  SECTION("without the fault --check passes") {
    auto r = run_cli(base + " --check", tmp);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(std::filesystem::exists(tmp.file("out/stats.json")));
  }
}

TEST_CASE("issue 15 item 1 e2e: a fetch from a page made shared is an implicit conversion "
          "request decided by hypervisor.policy",
          "[e2e][conversion]") {
  // The page is made shared and read shared; then the guest executes from
  // it. Fetches are always private (§1.4): an RMP #NPF with the C-bit set.
  const std::string trace = kMagic +
                            "0 MAP 0x400000 0x80000000 0x1000 shared,x\n"
                            "0 PSC msr shared 0x80000000\n"
                            "0 R 0x400000\n"
                            "0 X 0x400000\n";
  SECTION("exit-to-userspace converts the page to private") {
    TempDir tmp;
    Json s = run_ok(tmp, trace, kEnlightened + "--set hypervisor.policy=exit-to-userspace");
    CHECK(s["summary"]["guest_terminated"] == false);
    CHECK(s["stats"]["system"]["hypervisor"]["memory_fault_exits"] == 1);
    CHECK(s["stats"]["system"]["conversions"]["implicit"]["to_private"] == 1);
    CHECK(s["summary"]["accesses"] == 2);
  }
  SECTION("terminate ends the guest, naming the private fetch") {
    TempDir tmp;
    Json s = run_ok(tmp, trace, kEnlightened + "--set hypervisor.policy=terminate");
    CHECK(s["summary"]["guest_terminated"] == true);
    const std::string why = s["summary"]["termination_reason"];
    CHECK(why.find("GPA 0x80000000") != std::string::npos);
    CHECK(why.find("private fetch") != std::string::npos);
    CHECK(s["summary"]["accesses"] == 1);  // the shared read
  }
}
