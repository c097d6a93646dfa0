// The guest kernel's SNP behaviour (models/guest/guest_kernel.*), driven
// through a fake CpuPort: the expectations come from the Linux guest's
// rules in snp-semantics §3.1, §3.3, §4.7 and §6 rows 3, 8-9, not from the
// simulator's numbers. The fake CPU translates an operand by the guest page
// tables (GuestOs), places guest-physical memory at a fixed offset in
// system-physical memory, answers #NPF with "not resolved", and stands in
// for a hypervisor that carries out every PSC request at once (RMPUPDATE
// to the guest or back to the host). It records what the kernel asked of
// it, in order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/guest/guest_kernel.hpp"
#include "models/guest/guest_params.hpp"
#include "models/hypervisor/psc.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_instructions.hpp"
#include "models/walker/pte.hpp"
#include "support/config_params.hpp"

namespace rmpsim::test {
namespace {

using Catch::Matchers::Contains;
namespace psc = hypervisor::psc;

constexpr std::uint16_t kAsid = 3;
constexpr std::uint64_t kSpaOffset = 0x40'0000'0000;  // SPA = GPA + this

struct FakeCpu final : guest::CpuPort {
  guest::GuestOs& os;
  rmp::RmpTable& rmp;
  std::uint64_t cycle = 0;
  std::vector<std::string> calls;  // "operand", "psc private", "psc shared", "npf", "invalidate"
  std::vector<std::uint64_t> operands;
  std::vector<std::uint64_t> invalidated;  // GVAs of broadcast invalidations
  unsigned conversions_done = 0;
  bool npf_resolves = false;  // #NPF exits "resolved" without changing anything
  bool psc_stalls = false;    // GHCB PSC answered without progress

  FakeCpu(guest::GuestOs& o, rmp::RmpTable& r) : os(o), rmp(r) {}

  std::uint16_t asid() const override { return kAsid; }
  std::uint8_t vmpl() const override { return 0; }
  std::uint64_t now() const override { return cycle; }
  void elapse(std::uint64_t c) override { cycle += c; }
  void elapse_in_exit(std::uint64_t c) override { cycle += c; }
  void charge_handler(std::uint64_t c) override { cycle += c; }
  void set_atomic(bool) override {}
  bool translate_operand(std::uint64_t gva, Operand& out) override {
    calls.push_back("operand");
    operands.push_back(gva);
    const auto m = os.lookup(gva);
    REQUIRE(m);
    out.gpa = m->pa + (gva & (page_bytes(m->size) - 1));
    out.spa = out.gpa + kSpaOffset;
    return true;
  }
  bool npt_backing(std::uint64_t gpa, std::uint64_t& spa) const override {
    spa = gpa + kSpaOffset;
    return true;
  }
  bool npf_exit(std::uint64_t, std::uint64_t) override {
    calls.push_back("npf");
    return npf_resolves;
  }
  // The hypervisor's side of a conversion of one 4K page.
  void convert_page(std::uint64_t gfn, unsigned op) {
    rmp::RmpState s;
    if (op == 1) {  // private (§3.2 op 1)
      s.assigned = true;
      s.asid = kAsid;
      s.gpa = gfn << 12;
    }
    REQUIRE(rmp::rmpupdate(rmp, (gfn << 12) + kSpaOffset, s) == rmp::kSuccess);
  }
  std::uint64_t psc_msr(std::uint64_t request, ConversionCost&) override {
    const psc::MsrRequest r = psc::decode_msr_request(request);
    calls.push_back(r.op == 1 ? "psc private" : "psc shared");
    convert_page(r.gfn, r.op);
    return psc::msr_response(0);
  }
  hypervisor::GhcbPscResult psc_ghcb(std::uint8_t* scratch, std::size_t len, std::size_t,
                                     ConversionCost&) override {
    psc::DecodeResult d = psc::decode(scratch, len);
    REQUIRE(d.ok);
    psc::PscBuffer& b = d.buffer;
    calls.push_back(b.entries.at(0).op == 1 ? "psc private" : "psc shared");
    if (psc_stalls) return {};
    for (std::size_t i = b.header.cur_entry; i <= b.header.end_entry; ++i) {
      const psc::PscEntry& e = b.entries[i];
      for (std::uint64_t p = 0; p < e.page_count(); ++p) convert_page(e.gfn + p, e.op);
    }
    b.header.cur_entry = static_cast<std::uint16_t>(b.header.end_entry + 1);
    psc::encode(b, scratch, len);
    return {};
  }
  void broadcast_invalidate(std::uint64_t gva, std::uint64_t, std::uint64_t) override {
    calls.push_back("invalidate");
    invalidated.push_back(gva);
  }
  void consistent(const char*) override {}
  void conversion_done(const std::vector<guest::PscPage>&, bool, bool) override {
    ++conversions_done;
  }
};

struct World {
  memory::PhysStore gmem;
  rmp::RmpTable rmp;
  mmu::TranslationDomain tlbs;  // no MMUs: the guest OS's flushes reach nobody
  guest::GuestOs os;
  guest::GuestState state;
  hypervisor::ConversionLog conversions;
  FakeCpu cpu;
  guest::GuestKernel kernel;

  static Config config(std::initializer_list<std::pair<std::string, Json>> more = {}) {
    Config c = config_with({{"guest.asid", kAsid},
                            {"guest.accept", "none"},
                            {"guest.auto_map", true},
                            {"guest.demand_page_size", "4k"},
                            {"guest.psc_protocol", "ghcb"},
                            {"guest.on_vc_not_validated", "terminate"}});
    for (const auto& [key, value] : more) c.set(key, value, "test", 0);
    return c;
  }

  explicit World(std::initializer_list<std::pair<std::string, Json>> more = {})
      : os(gmem, guest::guest_os_params_from(config(more), kClock), tlbs),
        cpu(os, rmp),
        kernel(0, cpu, os, rmp, state, conversions,
               guest::guest_kernel_params_from(config(more), kClock)) {}

  // Maps `gva` (a first touch the guest OS demand-maps) and returns its GPA.
  std::uint64_t map(std::uint64_t gva) {
    REQUIRE_FALSE(os.handle_page_fault(0, gva, x86::pf::kUser).terminated);
    return os.lookup(gva)->pa;
  }
  // The #VC 0x404 a private access to the page at `gpa` raises (§1.4).
  static x86::Fault vc_not_validated(std::uint64_t gpa) {
    x86::Fault f;
    f.kind = x86::FaultKind::VcNotValidated;
    f.addr = gpa;
    f.spa = gpa + kSpaOffset;
    return f;
  }
  // The RMP entry of the page at `gpa`, as the hypervisor left it.
  rmp::RmpEntry entry(std::uint64_t gpa) const { return rmp.governing(gpa + kSpaOffset).entry; }
  // Makes [gpa, gpa + 4K) guest-owned, as a PSC to private would.
  void assign(std::uint64_t gpa, PageSize size = PageSize::k4K) {
    rmp::RmpState s;
    s.assigned = true;
    s.asid = kAsid;
    s.gpa = gpa;
    s.size = size;
    REQUIRE(rmp::rmpupdate(rmp, gpa + kSpaOffset, s) == rmp::kSuccess);
  }
};

TEST_CASE("guest kernel: a 2M PVALIDATE over 4K RMP entries is redone as 512 x 4K",
          "[guest]") {
  // §6 row 9: FAIL_SIZEMISMATCH, no fault; the guest retries 512 x 4K (§3.3).
  World w({{"guest.demand_page_size", "2m"}});
  const std::uint64_t gva = 0x4000'0000;
  const std::uint64_t gpa = w.map(gva);
  REQUIRE(gpa % 0x200000 == 0);
  for (std::uint64_t p = 0; p < 512; ++p) w.assign(gpa + (p << 12));  // 4K entries

  w.kernel.pvalidate(gva, PageSize::k2M, true);

  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().pvalidate_fallbacks == 1);
  CHECK(w.kernel.counters().pvalidate == 1 + 512);
  REQUIRE(w.cpu.operands.size() == 1 + 512);
  CHECK(w.cpu.operands[0] == gva);
  for (std::uint64_t p = 0; p < 512; ++p) {
    CHECK(w.cpu.operands[1 + p] == gva + (p << 12));  // each 4K page once, in order
    CHECK(w.entry(gpa + (p << 12)).validated);
  }
}

TEST_CASE("guest kernel: PVALIDATE with CF=1 terminates the guest as Linux does", "[guest]") {
  // §6 row 8: validating a validated page returns SUCCESS with CF = 1 and
  // changes nothing; Linux terminates (reason set 1, code 2).
  World w;
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().pvalidate_cf == 0);

  w.kernel.pvalidate(gva, PageSize::k4K, true);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("CF=1") && Contains("reason set 1, code 2"));
  CHECK(w.kernel.counters().pvalidate_cf == 1);
}

TEST_CASE("guest kernel: rescinding a page that is not validated terminates too", "[guest]") {
  World w;  // §6 row 8, the rescind case
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, false);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("rescind") && Contains("reason set 1, code 2"));
  CHECK(w.cpu.invalidated.empty());
}

TEST_CASE("guest kernel: a rescind is followed by a broadcast invalidation", "[guest]") {
  // §1.8, §2.3: the TLBs keep RMP results; a page the guest gave up must not
  // stay usable anywhere.
  World w;
  const std::uint64_t gva = 0x5000'0000;
  w.assign(w.map(gva));
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  CHECK(w.cpu.invalidated.empty());  // validating lowers nothing
  w.kernel.pvalidate(gva, PageSize::k4K, false);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.cpu.invalidated == std::vector<std::uint64_t>{gva});
}

TEST_CASE("guest kernel: CONVERT to shared rescinds before the PSC, to private validates after",
          "[guest]") {
  // §3.3: private -> shared: (1) PVALIDATE rescind, (2) PSC op 2;
  //       shared -> private: (1) PSC op 1, (2) PVALIDATE validate.
  World w;
  const std::uint64_t gva = 0x6000'0000;
  const std::uint64_t gpa = w.map(gva);
  w.assign(gpa);
  w.kernel.pvalidate(gva, PageSize::k4K, true);
  w.cpu.calls.clear();

  w.kernel.convert(gva, 0x1000, /*to_private=*/false);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.cpu.calls == std::vector<std::string>{"operand", "invalidate", "psc shared"});
  CHECK_FALSE(w.entry(gpa).assigned);
  CHECK((w.os.lookup(gva)->pte & paging::kCbit) == 0);  // the PTE says shared after

  w.cpu.calls.clear();
  w.kernel.convert(gva, 0x1000, /*to_private=*/true);
  REQUIRE_FALSE(w.state.terminated);
  CHECK(w.cpu.calls == std::vector<std::string>{"psc private", "operand"});
  CHECK(w.entry(gpa).assigned);
  CHECK(w.entry(gpa).validated);
  CHECK((w.os.lookup(gva)->pte & paging::kCbit) != 0);
  CHECK(w.kernel.counters().converts == 2);
  CHECK(w.cpu.conversions_done == 2);
}

TEST_CASE("guest kernel: the MSR protocol names one 4K page per request", "[guest]") {
  // §3.1: a 2M PSC entry becomes 512 MSR requests, all of them accepted.
  World w({{"guest.psc_protocol", "msr"}});
  w.kernel.psc({guest::PscPage{0x20'0000'0000, PageSize::k2M}}, trace::PscOp::Private,
               trace::PscProto::Msr);
  CHECK_FALSE(w.state.terminated);
  CHECK(w.kernel.counters().psc_requests == 512);
  CHECK(w.kernel.counters().psc_pages == 512);
  CHECK(w.cpu.calls.size() == 512);
  CHECK(w.entry(0x20'0000'0000 + 511 * 0x1000).assigned);
}

TEST_CASE("guest kernel: #VC 0x404 terminates Linux, an enlightened guest validates",
          "[guest]") {
  // §4.7, §6 row 3: Linux has no #VC 0x404 handler.
  const std::uint64_t gva = 0x7000'0000;
  {
    World w;
    const std::uint64_t gpa = w.map(gva);
    w.assign(gpa);
    std::uint64_t cycles = 0;
    CHECK_FALSE(w.kernel.vc_not_validated(World::vc_not_validated(gpa), gva, cycles));
    CHECK(w.state.terminated);
    CHECK_THAT(w.state.reason, Contains("#VC 0x404") && Contains("cannot recover"));
    CHECK_FALSE(w.entry(gpa).validated);
  }
  {
    World w({{"guest.on_vc_not_validated", "validate"}});
    const std::uint64_t gpa = w.map(gva);
    w.assign(gpa);
    std::uint64_t cycles = 0;
    CHECK(w.kernel.vc_not_validated(World::vc_not_validated(gpa), gva, cycles));
    CHECK_FALSE(w.state.terminated);
    CHECK(w.entry(gpa).validated);
    CHECK(w.kernel.counters().vc_validated == 1);
    CHECK(cycles > 0);
  }
}

// Issue 15 item 11: the livelock guards are documented constants
// (models/guest/README.md); one that fires names itself in the reason.
TEST_CASE("issue 15 item 11: the kMaxInsnRounds guard names itself", "[guest]") {
  World w({{"guest.demand_page_size", "2m"}});
  const std::uint64_t gva = 0x4000'0000;
  w.assign(w.map(gva), PageSize::k2M);
  w.cpu.npf_resolves = true;  // a hypervisor that never PSMASHes
  w.kernel.pvalidate(gva, PageSize::k4K, true);  // 4K inside a 2M entry: SIZEM #NPF
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxInsnRounds"));
}

TEST_CASE("issue 15 item 11: the kMaxVcRounds guard names itself", "[guest]") {
  World w({{"guest.demand_page_size", "2m"}, {"guest.on_vc_not_validated", "validate"}});
  const std::uint64_t gpa = w.map(0x4000'0000);
  w.assign(gpa, PageSize::k2M);
  w.cpu.npf_resolves = true;
  std::uint64_t cycles = 0;
  CHECK_FALSE(w.kernel.vc_not_validated(World::vc_not_validated(gpa), 0x4000'0000, cycles));
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxVcRounds"));
}

TEST_CASE("issue 15 item 11: the kMaxPscRounds guard names itself", "[guest]") {
  World w;
  const std::uint64_t gpa = w.map(0x5000'0000);
  w.cpu.psc_stalls = true;  // every answer accepted by Linux, none makes progress
  w.kernel.psc({guest::PscPage{gpa, PageSize::k4K}}, trace::PscOp::Private,
               trace::PscProto::Ghcb);
  CHECK(w.state.terminated);
  CHECK_THAT(w.state.reason, Contains("livelock guard kMaxPscRounds"));
}

}  // namespace
}  // namespace rmpsim::test
