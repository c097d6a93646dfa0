// The hypervisor changes the RMP only through the SNP instructions
// (models/rmp/rmp_instructions.hpp), so that every change is seen by the
// RmpObserver (the invariant checker of `run --check`) as part of an
// instruction. An observer records which entries each instruction wrote;
// after every hypervisor operation, every entry that differs from before
// must have been written by an instruction, and no write may be left
// outside one (a raw RmpTable::set_raw would be).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "models/config_schema.hpp"
#include "models/common/x86_fault.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_instructions.hpp"
#include "models/rmp/rmp_table.hpp"
#include "support/config_params.hpp"

using namespace rmpsim;

namespace {

constexpr std::uint16_t kAsid = 5;
// A private access to a GPA the NPT does not map (§1.6): not present,
// final GPA, encrypted.
constexpr std::uint64_t kPrivateNotPresent =
    x86::npf_exitinfo1(/*present=*/false, /*write=*/false, /*fetch=*/false,
                       /*guest_page_table=*/false, /*encrypted=*/true);
// A shared access (C-bit 0) refused by the RMP: the page is guest-private.
constexpr std::uint64_t kSharedRmpFault =
    x86::npf_exitinfo1(/*present=*/true, /*write=*/false, /*fetch=*/false,
                       /*guest_page_table=*/false, /*encrypted=*/false,
                       x86::rmp_npf_bits(x86::RmpViolation::Entry));

struct ChangeLog : rmp::RmpObserver {
  std::vector<std::uint64_t> open;   // written since the last instruction ended
  std::set<std::uint64_t> by_insn;   // written inside an instruction
  std::map<rmp::RmpOp, unsigned> insns;  // instructions that wrote, by kind
  void rmp_written(std::uint64_t pfn, const rmp::RmpEntry& /*before*/) override {
    open.push_back(pfn);
  }
  void rmp_instruction_done(rmp::RmpOp op, std::uint64_t /*spa*/) override {
    if (open.empty()) return;
    ++insns[op];
    by_insn.insert(open.begin(), open.end());
    open.clear();
  }
};

std::map<std::uint64_t, rmp::RmpEntry> snapshot(const rmp::RmpTable& t) {
  std::map<std::uint64_t, rmp::RmpEntry> m;
  t.for_each_stored([&](std::uint64_t pfn, const rmp::RmpEntry& e) { m[pfn] = e; });
  return m;
}

struct World {
  memory::PhysStore hmem;
  rmp::RmpTable rmp;
  ChangeLog log;
  mmu::TranslationDomain tlbs;
  hypervisor::Hypervisor hv;
  World(PageSize backing, bool prevalidated)
      : hv(hmem, rmp,
           [&] {
             hypervisor::HypervisorParams p =
                 hypervisor::hypervisor_params_from(default_config(), test::kClock);
             p.backing_page_size = backing;
             p.guest_asid = kAsid;
             return p;
           }(),
           [prevalidated](std::uint64_t) { return prevalidated; }, tlbs) {
    rmp.set_observer(&log);
  }
  ~World() { rmp.set_observer(nullptr); }

  // Runs one hypervisor operation and checks that it changed the RMP only
  // through instructions; returns how many instructions of each kind wrote.
  template <class F>
  std::map<rmp::RmpOp, unsigned> through_instructions(F op) {
    const auto before = snapshot(rmp);
    log = ChangeLog{};
    op();
    CHECK(log.open.empty());  // no write outside an instruction
    const auto after = snapshot(rmp);
    unsigned changed = 0;
    for (const auto& [pfn, e] : after) {
      const auto b = before.find(pfn);
      if (b != before.end() && b->second == e) continue;
      ++changed;
      INFO("PFN " << pfn);
      CHECK(log.by_insn.count(pfn) == 1);
    }
    CHECK(changed > 0);  // each operation below changes the RMP
    return log.insns;
  }
  std::uint64_t spa_of(std::uint64_t gpa) {
    std::uint64_t spa = 0;
    REQUIRE(hv.backing_of(gpa, spa));
    return spa;
  }
};

}  // namespace

TEST_CASE("a fault-in of a pre-validated private page validates it with PVALIDATE",
          "[hypervisor][rmp]") {
  const PageSize backing = GENERATE(PageSize::k4K, PageSize::k2M);
  World w(backing, /*prevalidated=*/true);
  const std::uint64_t gpa = 0x4020'3000;
  const auto insns = w.through_instructions(
      [&] { REQUIRE(w.hv.handle_npf(0, gpa, kPrivateNotPresent).resolved); });
  CHECK(insns.at(rmp::RmpOp::Rmpupdate) == 1);
  CHECK(insns.at(rmp::RmpOp::Pvalidate) == 1);
  const rmp::Governing g = w.rmp.governing(w.spa_of(gpa));
  CHECK(g.entry.assigned);
  CHECK(g.entry.validated);
  CHECK(g.size == backing);
  CHECK(g.page_gpa == gpa);
}

TEST_CASE("a fault-in of a page the guest has not validated leaves it unvalidated",
          "[hypervisor][rmp]") {
  World w(PageSize::k4K, /*prevalidated=*/false);
  const auto insns = w.through_instructions(
      [&] { REQUIRE(w.hv.handle_npf(0, 0x5000, kPrivateNotPresent).resolved); });
  CHECK(insns.count(rmp::RmpOp::Pvalidate) == 0);
  CHECK(!w.rmp.governing(w.spa_of(0x5000)).entry.validated);
}

TEST_CASE("conversions change the RMP only through RMPUPDATE and PSMASH", "[hypervisor][rmp]") {
  World w(PageSize::k2M, /*prevalidated=*/true);
  const std::uint64_t gpa = 0x4020'3000;
  w.through_instructions([&] { REQUIRE(w.hv.handle_npf(0, gpa, kPrivateNotPresent).resolved); });
  REQUIRE(w.rmp.governing(w.spa_of(gpa)).size == PageSize::k2M);

  // A shared access to one 4K page of the 2M private entry: an implicit
  // conversion to shared, which smashes the 2M entry and returns one page.
  auto insns = w.through_instructions([&] {
    const hypervisor::NpfResult r = w.hv.handle_npf(0, gpa, kSharedRmpFault);
    REQUIRE(r.resolved);
    REQUIRE(r.conversion);
  });
  CHECK(insns.at(rmp::RmpOp::Psmash) == 1);
  CHECK(insns.at(rmp::RmpOp::Rmpupdate) == 1);
  CHECK(!w.hv.memory().is_private(gpa));

  // Back to private (a PSC), then the next private access faults it in.
  w.through_instructions([&] {
    hypervisor::ConversionCost cost;
    REQUIRE(w.hv.userspace_convert(gpa, 1, /*to_private=*/true, cost));
    REQUIRE(w.hv.handle_npf(0, gpa, kPrivateNotPresent).resolved);
  });
  CHECK(w.rmp.governing(w.spa_of(gpa)).entry.assigned);

  // The whole 2 MiB goes shared: the 512 4K entries go back one by one.
  const std::uint64_t spa = w.spa_of(gpa);
  insns = w.through_instructions([&] {
    hypervisor::ConversionCost cost;
    REQUIRE(w.hv.userspace_convert(gpa & ~0x1fffffull, 512, /*to_private=*/false, cost));
  });
  CHECK(insns.at(rmp::RmpOp::Rmpupdate) == 512);
  CHECK(w.rmp.assigned_in_region(spa) == 0);
}
