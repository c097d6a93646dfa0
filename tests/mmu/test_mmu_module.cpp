// MmuModule: the vCPU's direct call (translate) and the TLM path embedders
// use (b_transport through a socket) give the same responses and counters.
#include <catch2/catch.hpp>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/mmu/mmu_module.hpp"
#include "models/mmu/mmu_params.hpp"
#include "walker/walk_fixture.hpp"

using namespace rmpsim;
using namespace rmpsim::mmu;

namespace {

// Each table reference of a chain takes 10 cycles.
struct FixedTiming : sc_core::sc_object, memory::MemTimingIf {
  explicit FixedTiming(const char* name) : sc_core::sc_object(name) {}
  std::uint64_t reference(unsigned, std::uint64_t, std::uint64_t) override { return 10; }
  std::uint64_t reference_chain(unsigned, const std::uint64_t*, std::size_t, unsigned n,
                                std::uint64_t) override {
    return 10ull * n;
  }
};

struct TestInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<TestInitiator> socket{"socket"};
  explicit TestInitiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
};

// One world per MMU: walks write accessed/dirty bits into the tables.
struct World : test::PagingWorld {
  World() {
    gpt.map(gcr3, 0x5000, 0x4000'5000, PageSize::k4K, test::kRw);
    back_guest_tables();
    npt.map(ncr3, 0x4000'5000, 0x2'0000'5000, PageSize::k4K, test::kRw);
  }
};

}  // namespace

TEST_CASE("issue 17 item 6: MmuModule::translate answers as b_transport does", "[mmu]") {
  const MmuParams p = mmu_params_from(
      test::config_with({{"mmu.l1d.entries", 2}, {"mmu.l1d.ways", 2}, {"mmu.l1i.entries", 2},
                         {"mmu.l1i.ways", 2}, {"mmu.l2.entries", 16}, {"mmu.l2.ways", 4}}),
      test::kClock);
  const MmuTiming t{7, 3};
  World wd, wt;
  FixedTiming mem("mem");
  MmuModule direct("direct", 0, wd.gmem, wd.hmem, p, t);
  MmuModule tlm("tlm", 0, wt.gmem, wt.hmem, p, t);
  TestInitiator init("init");
  direct.mem.bind(mem);
  tlm.mem.bind(mem);
  init.socket.bind(tlm.socket);
  TestInitiator unused("unused");  // SystemC wants every target socket bound
  unused.socket.bind(direct.socket);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);

  SnpAttrs a, b;
  a.gcr3 = b.gcr3 = wd.gcr3;
  a.ncr3 = b.ncr3 = wd.ncr3;
  tlm::tlm_generic_payload trans;
  trans.set_extension(&b);
  struct Step {
    std::uint64_t gva;
    AccessKind kind;
    HitLevel level;  // L1: 0 cycles; L2: the L2 hit's 7; a walk: 7 plus its references
  };
  const Step steps[] = {
      {0x5010, AccessKind::Read, HitLevel::Walk},
      {0x5020, AccessKind::Read, HitLevel::L1},
      {0x5020, AccessKind::Write, HitLevel::Walk},  // a clean entry: re-walks (dirty assist)
      {0x5028, AccessKind::Write, HitLevel::L1},
      {0x5000, AccessKind::Fetch, HitLevel::L2},  // ITLB miss, L2 hit
      {0x5004, AccessKind::Fetch, HitLevel::L1},
      {0x9000, AccessKind::Read, HitLevel::Walk},  // not mapped: guest #PF
  };
  for (const Step& s : steps) {
    INFO("gva " << std::hex << s.gva << " kind " << unsigned(s.kind));
    a.kind = b.kind = s.kind;
    a.now_cycles = b.now_cycles = 100;
    direct.translate(s.gva, a);
    trans.set_address(s.gva);
    trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time zero = sc_core::SC_ZERO_TIME;
    init.socket->b_transport(trans, zero);
    CHECK(trans.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK(a.cycles == b.cycles);
    CHECK(a.fault.kind == b.fault.kind);
    if (a.fault.kind == x86::FaultKind::None) {
      CHECK(a.spa == b.spa);
      CHECK(a.gpa == b.gpa);
      CHECK(a.cbit == b.cbit);
      CHECK(a.spa == 0x2'0000'5000 + (s.gva & 0xfff));
    } else {
      CHECK(a.fault.addr == b.fault.addr);
      CHECK(a.fault.error_code == b.fault.error_code);
    }
    if (s.level == HitLevel::L1) CHECK(a.cycles == 0);
    if (s.level == HitLevel::L2) CHECK(a.cycles == 7);
    if (s.level == HitLevel::Walk) CHECK(a.cycles > 7);
  }
  const MmuCounters& cd = direct.core().counters();
  const MmuCounters& ct = tlm.core().counters();
  CHECK(cd.l1d_hits == 3);
  CHECK(cd.l1d_hits == ct.l1d_hits);
  CHECK(cd.l1d_misses == ct.l1d_misses);
  CHECK(cd.l1i_hits == 1);
  CHECK(cd.l1i_hits == ct.l1i_hits);
  CHECK(cd.l1i_misses == ct.l1i_misses);
  CHECK(cd.l2_hits == 1);
  CHECK(cd.l2_hits == ct.l2_hits);
  CHECK(cd.walks == 3);
  CHECK(cd.walks == ct.walks);
  CHECK(cd.dirty_assists == 1);
  CHECK(cd.dirty_assists == ct.dirty_assists);
  CHECK(cd.guest_page_faults == 1);
  CHECK(cd.guest_page_faults == ct.guest_page_faults);
  CHECK(direct.walk_cycles() > 0);
  CHECK(direct.walk_cycles() == tlm.walk_cycles());
  trans.clear_extension(&b);
}
