// rmpsim's models in a SystemC platform of your own (docs/embedding.md):
// the memory block, the RMP, one vCPU's MMU (TLBs + nested walker) and the
// hypervisor, driven by a TLM initiator written here instead of rmpsim's
// trace-replaying vCPU. No trace file: a few accesses, a guest #PF, and one
// private->shared conversion over the GHCB MSR protocol, each printed.
#include <cstdint>
#include <cstdio>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/config_schema.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/hypervisor/psc.hpp"
#include "models/memory/memory_module.hpp"
#include "models/memory/memory_params.hpp"
#include "models/mmu/mmu_module.hpp"
#include "models/mmu/mmu_params.hpp"
#include "models/mmu/translation_domain.hpp"
#include "models/rmp/rmp_instructions.hpp"
#include "models/rmp/rmp_params.hpp"
#include "models/rmp/rmp_table.hpp"
#include "models/walker/page_table.hpp"

using namespace rmpsim;
namespace pg = rmpsim::paging;

// The guest side, written for this example: its own page tables (in the
// memory block's guest-physical store) and a core that sends every access
// to the MMU as a TLM transaction carrying the SnpAttrs extension.
class Core : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Core> socket;

  Core(const sc_core::sc_module_name& name, memory::PhysStore& guest_mem,
       hypervisor::Hypervisor& hv, rmp::RmpTable& rmp, mmu::TranslationDomain& tlbs)
      : sc_module(name),
        socket("socket"),
        m_hv(hv),
        m_rmp(rmp),
        m_tlbs(tlbs),
        // Guest page-table pages from GPA 0x100000 up; table entries carry
        // the C-bit (the walker reads guest tables as private).
        m_pt(guest_mem, 4,
             [this, &guest_mem] {
               const std::uint64_t gpa = m_next_table;
               m_next_table += 0x1000;
               guest_mem.zero_frame(gpa >> 12);
               return gpa;
             },
             pg::kWritable | pg::kUser | pg::kCbit),
        m_gcr3(m_pt.new_root()) {
    SC_HAS_PROCESS(Core);
    SC_THREAD(run);
    m_attrs.asid = hv.params().guest_asid;  // the hypervisor's guest
    m_attrs.gcr3 = m_gcr3;
    m_attrs.ncr3 = hv.ncr3();
    m_trans.set_data_length(0);
    m_trans.set_extension(&m_attrs);
  }
  // The payload deletes its extensions; m_attrs is ours.
  ~Core() override { m_trans.clear_extension(&m_attrs); }

 private:
  void run() {
    const std::uint64_t kPriv = pg::kWritable | pg::kUser | pg::kCbit;
    m_pt.map(m_gcr3, 0x400000, 0x200000, PageSize::k4K, kPriv);
    m_pt.map(m_gcr3, 0x401000, 0x201000, PageSize::k4K, kPriv);

    access(0x400010, AccessKind::Read);   // walks; the hypervisor faults the pages in
    access(0x400020, AccessKind::Read);   // L1 TLB hit
    access(0x401008, AccessKind::Write);  // a second page: a shorter walk
    access(0x500000, AccessKind::Read);   // unmapped in the guest: guest #PF

    // Private -> shared as a Linux guest does it (docs/snp-semantics.md
    // §3.3): rescind validation, Page State Change over the GHCB MSR (§3.1),
    // then clear the C-bit in the guest PTE and drop the stale translation.
    const std::uint64_t gva = 0x401000, gpa = 0x201000;
    const std::uint64_t spa = m_attrs.spa & ~0xfffull;  // from the write above
    const rmp::GuestInsnResult pv =
        rmp::pvalidate(m_rmp, spa, gpa, PageSize::k4K, false, m_attrs.asid, m_attrs.vmpl);
    std::printf("PVALIDATE rescind GPA %#llx: rc %u\n", ull(gpa), unsigned(pv.rc));
    ConversionCost cost;
    const std::uint64_t resp =
        m_hv.psc_msr(hypervisor::psc::msr_request(gpa >> 12, hypervisor::psc::kOpShared), cost);
    std::printf("PSC (MSR) GPA %#llx to shared: response %#llx (%s), %llu cycles\n", ull(gpa),
                ull(resp), hypervisor::psc::linux_accepts_msr_response(resp) ? "ok" : "error",
                ull(cost.total()));
    m_pt.set_leaf_flags(m_gcr3, gva, 0, pg::kCbit);
    m_tlbs.shootdown(m_attrs.asid, gva, 0x1000);  // INVLPG
    access(0x401008, AccessKind::Write);  // now shared: faulted in from the shared side
  }

  // One access: translate through the MMU; a #NPF goes to the hypervisor
  // and the access is retried, a guest #PF ends it (no guest OS here).
  void access(std::uint64_t gva, AccessKind kind) {
    const char* what = kind == AccessKind::Write ? "write" : "read";
    m_trans.set_command(kind == AccessKind::Write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    m_trans.set_address(gva);
    m_attrs.kind = kind;
    for (;;) {
      m_attrs.now_cycles = m_cycles;
      sc_core::sc_time unused = sc_core::SC_ZERO_TIME;  // time travels on the extension
      socket->b_transport(m_trans, unused);
      m_cycles += m_attrs.cycles;
      const x86::Fault& f = m_attrs.fault;
      if (f.kind == x86::FaultKind::None) {
        std::printf("%s GVA %#llx -> GPA %#llx SPA %#llx %s, %llu cycles\n", what, ull(gva),
                    ull(m_attrs.gpa), ull(m_attrs.spa), m_attrs.cbit ? "private" : "shared",
                    ull(m_attrs.cycles));
        return;
      }
      if (f.kind != x86::FaultKind::NestedPageFault) {
        std::printf("%s GVA %#llx: %s, error code %#llx\n", what, ull(gva),
                    f.kind == x86::FaultKind::GuestPageFault ? "guest #PF" : "#VC 0x404",
                    ull(f.error_code));
        return;
      }
      const hypervisor::NpfResult r = m_hv.handle_npf(0, f.addr, f.error_code);
      m_cycles += r.cycles;
      std::printf("  #NPF GPA %#llx exitinfo1 %#llx: %s, %llu cycles\n", ull(f.addr),
                  ull(f.error_code), r.resolved ? "resolved" : r.reason.c_str(), ull(r.cycles));
      if (!r.resolved) return;
    }
  }

  static unsigned long long ull(std::uint64_t v) { return v; }

  hypervisor::Hypervisor& m_hv;
  rmp::RmpTable& m_rmp;
  mmu::TranslationDomain& m_tlbs;
  std::uint64_t m_next_table = 0x100000;
  pg::PageTableEditor m_pt;
  std::uint64_t m_gcr3;
  std::uint64_t m_cycles = 0;  // this core's time, in cycles
  tlm::tlm_generic_payload m_trans;
  SnpAttrs m_attrs;
};

int sc_main(int, char*[]) {
  // Every block's parameters come from one configuration: the schema's
  // defaults here (Config::set changes a key, as --set does).
  const Config config = default_config();
  const Clock clock{config.get_float("cpu.freq_ghz")};

  memory::MemoryModule mem("mem", memory::cache_params_from(config, clock, 1));
  rmp::RmpTable rmp;
  mmu::TranslationDomain tlbs;  // every MMU the hypervisor must flush
  // Pages the guest has validated before we start: all of them (as
  // guest.accept=eager), so a private access needs no PVALIDATE first.
  hypervisor::Hypervisor hv(mem.host_store(), rmp,
                            hypervisor::hypervisor_params_from(config, clock),
                            [](std::uint64_t) { return true; }, tlbs);

  mmu::MmuModule mmu("mmu", 0, mem.guest_store(), mem.host_store(),
                     mmu::mmu_params_from(config, clock), mmu::mmu_timing_from(config, clock));
  mmu.mem.bind(mem.timing_export);  // walks are timed by the cache hierarchy
  mmu.core().attach_rmp(&rmp, rmp::check_options_from(config, clock));
  tlbs.attach(mmu.core());

  Core core("core", mem.guest_store(), hv, rmp, tlbs);
  core.socket.bind(mmu.socket);

  sc_core::sc_start();

  const hypervisor::HypervisorCounters& c = hv.counters();
  std::printf("hypervisor: %llu exits, %llu #NPF, %llu RMPUPDATE, %llu PSC, %llu page to shared\n",
              (unsigned long long)c.vmexits, (unsigned long long)c.npf_total,
              (unsigned long long)c.rmpupdate, (unsigned long long)c.psc_msr_requests,
              (unsigned long long)c.pages_to_shared);
  return 0;
}
