#pragma once
// The guest kernel driven through a fake CpuPort (test_guest_kernel.cpp,
// test_svsm.cpp). The fake CPU translates an operand by the guest page
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

namespace rmpsim::test::kernel_world {

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
  std::uint8_t vmpl_now = 0;  // the VMPL the CPU runs at (run_vmpl)
  static constexpr std::uint64_t kExitCycles = 1000;  // a run-VMPL exit round trip

  FakeCpu(guest::GuestOs& o, rmp::RmpTable& r) : os(o), rmp(r) {}

  std::uint16_t asid() const override { return kAsid; }
  std::uint8_t vmpl() const override { return vmpl_now; }
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
  bool npt_mapped(std::uint64_t gpa, std::uint64_t& spa) const override {
    return npt_backing(gpa, spa);
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
  void invalidate_gpa(std::uint64_t gpa, std::uint64_t) override {
    calls.push_back("invalidate gpa");
    invalidated.push_back(gpa);
  }
  std::uint64_t run_vmpl(std::uint8_t v) override {
    calls.push_back("run vmpl " + std::to_string(v));
    vmpl_now = v;
    return kExitCycles;
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
               guest::guest_kernel_params_from(config(more), kClock)) {
    cpu.vmpl_now = static_cast<std::uint8_t>(config(more).get_int("guest.vmpl"));
  }

  // Maps `gva` (a first touch the guest OS demand-maps) and returns its GPA.
  std::uint64_t map(std::uint64_t gva) {
    REQUIRE_FALSE(os.handle_page_fault(0, gva, x86::pf::kUser).terminated);
    return os.lookup(gva)->pa;
  }
  // Maps `gva`, makes its page guest-owned and has the kernel validate it
  // (a PVALIDATE line); returns its GPA, the calls recorded so far cleared.
  std::uint64_t map_validated(std::uint64_t gva) {
    const std::uint64_t gpa = map(gva);
    assign(gpa);
    kernel.pvalidate(gva, PageSize::k4K, true);
    REQUIRE_FALSE(state.terminated);
    cpu.calls.clear();
    return gpa;
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

}  // namespace rmpsim::test::kernel_world
