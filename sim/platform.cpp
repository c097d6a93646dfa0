#include "sim/platform.hpp"

#include <algorithm>

#include "models/guest/guest_params.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/memory/memory_params.hpp"
#include "models/rmp/rmp_params.hpp"
#include "traces/input_error.hpp"

namespace rmpsim {

namespace {

// A SystemC time resolution of 1 fs makes a cycle an integer number of time
// units (rounded once, at the clock); cycles themselves stay exact integers.
void set_time_resolution_once() {
  static bool done = false;
  if (!done) {
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
    // A run stopped for a bad trace line reports the line itself; SystemC's
    // own "stopped by user" notice would only add noise.
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                            sc_core::SC_DO_NOTHING);
  }
  done = true;
}

}  // namespace

// The module tree. Members are declared in construction order; children are
// created in the constructor so SystemC names them "system.cpu0", ...
struct Platform::System : sc_core::sc_module {
  memory::MemoryModule mem;
  rmp::RmpTable rmp;
  hypervisor::ConversionLog conversions;
  guest::GuestOs os;
  hypervisor::Hypervisor hv;
  std::vector<std::unique_ptr<guest::Vcpu>> cpus;
  bool skip_hv_flushes = false;  // Platform::inject_fault("skip-hv-flush")

  System(const sc_core::sc_module_name& n, const Config& c, const Clock& clock,
         guest::TraceFeed& feed, guest::GuestState& state, EventLog* log);
};

Platform::System::System(const sc_core::sc_module_name& n, const Config& c, const Clock& clock,
                         guest::TraceFeed& feed, guest::GuestState& state, EventLog* log)
    : sc_module(n),
      mem("mem",
          [&] {
            // Geometry relations (entries a multiple of ways) are checked
            // once for every structure when the configuration is resolved.
            c.check_relations("", 0);
            return memory::mem_timing_params_from(c, clock);
          }()),
      os(mem.guest_store(), guest::guest_os_params_from(c, clock),
         // A guest mapping change invalidates the range on every vCPU.
         [this](unsigned, std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
           for (auto& cpu : cpus) cpu->mmu().core().flush_gva_range(asid, gva, len);
         }),
      hv(mem.host_store(), rmp, hypervisor::hypervisor_params_from(c, clock),
         [this](std::uint64_t gpa) { return os.prevalidated(gpa); },
         // RMP or NPT changes: flush the ASID on every vCPU (snp-semantics
         // §2.3: KVM flushes explicitly; hardware coherence is UNKNOWN).
         [this](std::uint16_t asid) {
           if (skip_hv_flushes) return;
           for (auto& cpu : cpus) cpu->mmu().core().flush_asid(asid);
         },
         [this](std::uint64_t spa) { mem.timing().flush_frame(spa); }) {
  const guest::VcpuParams vp = guest::vcpu_params_from(c, clock);
  const rmp::CheckOptions rmp_opt = rmp::check_options_from(c, clock);
  const unsigned vcpus = guest::vcpu_count(c);
  for (unsigned i = 0; i < vcpus; ++i) {
    const std::string cpu = "cpu" + std::to_string(i);
    cpus.push_back(std::make_unique<guest::Vcpu>(
        cpu.c_str(), i,
        guest::VcpuContext{feed, os, hv, state, mem, rmp, conversions, log,
                           [this](std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
                             for (auto& v : cpus) v->mmu().core().flush_gva_range(asid, gva, len);
                           }},
        vp));
    cpus.back()->mmu().core().attach_rmp(&rmp, rmp_opt);
  }
}

Platform::Platform(const Config& config, trace::Reader& reader, EventLog* log, bool check)
    : m_freq_ghz(guest::clock_from(config).ghz), m_feed(reader, guest::vcpu_count(config)) {
  set_time_resolution_once();
  m_system = std::make_unique<System>("system", config, Clock{m_freq_ghz}, m_feed,
                                      m_guest_state, log);
  if (check) {
    std::vector<check::CheckedCpu> cpus;
    for (const auto& cpu : m_system->cpus) {
      guest::Vcpu* v = cpu.get();
      cpus.push_back(check::CheckedCpu{&v->mmu().core(), &v->context(),
                                       [v] { return v->cycles(); }, v});
    }
    m_checker = std::make_unique<check::Checker>(m_system->rmp, m_system->hv, m_system->os,
                                                 std::move(cpus));
    for (const auto& cpu : m_system->cpus) cpu->set_check(m_checker.get());
  }
  m_system->mem.register_stats(m_stats);
  for (const auto& cpu : m_system->cpus) cpu->register_stats(m_stats);
  const auto& os = m_system->os.counters();
  m_stats.add_counters("system.guest_os", {
      {"maps", &os.maps, "pages mapped by MAP lines"},
      {"unmaps", &os.unmaps, "pages unmapped by UNMAP lines"},
      {"demand_maps", &os.demand_maps,
       "first-touch guest page faults resolved by mapping a fresh frame"},
      {"page_faults", &os.page_faults, "guest #PF delivered to the guest OS"},
      {"invlpgs", &os.invlpgs, "local INVLPGs"},
      {"shootdowns", &os.shootdowns, "remote TLB shootdowns"},
  });
  const auto& hv = m_system->hv.counters();
  m_stats.add_counters("system.hypervisor", {
      {"vmexits", &hv.vmexits, "VM exits handled"},
      {"npf", &hv.npf_total, "#NPF exits"},
      {"npf_not_present", &hv.npf_not_present, "#NPF for a non-present NPT entry"},
      {"npt_maps", &hv.npt_maps, "NPT leaves installed"},
      {"npf_rmp", &hv.npf_rmp, "#NPF with the RMP bit"},
      {"npf_rmp_size", &hv.npf_rmp_size,
       "RMP #NPF from a 2M RMP entry used at 4K: resolved by PSMASH + NPT zap"},
      {"npf_rmp_spurious", &hv.npf_rmp_spurious,
       "RMP #NPF on an entry already 4K: spurious, nothing done"},
      {"npf_mismatch", &hv.npf_mismatch,
       "#NPF whose private/shared-ness differs from the GFN's memory attribute " "(implicit "
       "conversion requests)"},
      {"npf_vmpl", &hv.npf_vmpl, "VMPL permission violations"},
      {"userspace_exits", &hv.userspace_exits,
       "exits to the userspace model (memory faults and MAP_GPA_RANGE)"},
      {"memory_fault_exits", &hv.memory_fault_exits, "KVM_EXIT_MEMORY_FAULT exits"},
      {"pages_to_private", &hv.pages_to_private, "4K pages whose memory attribute became private"},
      {"pages_to_shared", &hv.pages_to_shared, "4K pages whose memory attribute became shared"},
      {"npt_zaps", &hv.npt_zaps, "NPT ranges unmapped (after PSMASH, on conversions)"},
      {"tlb_flushes", &hv.tlb_flushes, "flushes of the guest's ASID on every vCPU"},
      {"rmpupdate", &hv.rmpupdate, "RMPUPDATE instructions"},
      {"psmash", &hv.psmash, "PSMASH instructions"},
      {"psmash_inuse_retries", &hv.psmash_inuse_retries, "PSMASH retried after FAIL_INUSE"},
      {"psc_msr_requests", &hv.psc_msr_requests, "MSR-protocol PSC requests handled"},
      {"psc_ghcb_requests", &hv.psc_ghcb_requests, "GHCB PSC requests handled"},
      {"psc_pages", &hv.psc_pages, "4K pages forwarded to userspace by PSC (KVM_HC_MAP_GPA_RANGE)"},
      {"map_gpa_range_exits", &hv.map_gpa_range_exits, "KVM_HC_MAP_GPA_RANGE exits to userspace"},
      {"psc_errors", &hv.psc_errors, "PSC requests answered with an error"},
  });
  m_stats.add_formula("system.hypervisor.private_frames",
                      [this] { return Json(m_system->hv.memory().private_frames); },
                      "4K guest_memfd pages populated at the end of the run");
  m_stats.add_formula("system.hypervisor.shared_frames",
                      [this] { return Json(m_system->hv.memory().shared_frames); },
                      "4K shared host pages backing the guest at the end of the run");
  m_system->conversions.register_stats(m_stats, "system.conversions");
  m_stats.add_formula("system.rmp.stored_entries",
                      [this] { return Json(m_system->rmp.stored_entries()); },
                      "RMP entries ever written (the table is sparse)");
  if (m_checker) {
    // Registered only under --check, so that a normal run's stats are unchanged.
    const auto& k = m_checker->counters();
    m_stats.add_counters("system.check", {
        {"checks", &k.checks, "invariant evaluations (run --check)"},
        {"rmp_entries", &k.rmp_entries, "RMP entries checked (§1.3 and instruction rules)"},
        {"rmp_regions", &k.rmp_regions, "2M RMP regions checked"},
        {"gfns", &k.gfns, "GFNs checked against the NPT, memory attributes and the RMP"},
        {"tlb_probes", &k.tlb_probes,
         "cached translations (TLB, nested TLB, PWC) compared with a fresh walk"},
        {"points", &k.points, "consistency points that had changes to check"},
    });
  }
}

Platform::~Platform() = default;

void Platform::inject_fault(const std::string& kind) {
  if (kind != "skip-hv-flush")
    throw InputError("--check-inject", 0, "unknown fault '" + kind + "' (expected skip-hv-flush)");
  m_system->skip_hv_flushes = true;
}

void Platform::run() {
  sc_core::sc_start();
  for (const auto& cpu : m_system->cpus)
    if (cpu->error()) std::rethrow_exception(cpu->error());
  if (m_checker) m_checker->final_check();
}

std::uint64_t Platform::cycles() const {
  std::uint64_t c = 0;
  for (const auto& cpu : m_system->cpus) c = std::max(c, cpu->cycles());
  return c;
}

std::uint64_t Platform::accesses() const {
  std::uint64_t a = 0;
  for (const auto& cpu : m_system->cpus) a += cpu->accesses();
  return a;
}

Json Platform::summary(double host_seconds) const {
  // Keys and order are the stable contract of OUTPUTS.md. Counters of blocks
  // this build does not model yet are 0 ("0 when the feature did not occur").
  mmu::MmuCounters t;
  guest::SnpOpCounters snp;
  for (const auto& cpu : m_system->cpus) {
    const auto& c = cpu->mmu().core().counters();
    t.l1i_hits += c.l1i_hits;
    t.l1d_hits += c.l1d_hits;
    t.l1i_misses += c.l1i_misses;
    t.l1d_misses += c.l1d_misses;
    t.l2_hits += c.l2_hits;
    t.l2_misses += c.l2_misses;
    t.walks += c.walks;
    t.walk_refs += c.walk_refs;
    t.vc_not_validated += c.vc_not_validated;
    snp.pvalidate += cpu->snp_counters().pvalidate;
    snp.rmpadjust_vc += cpu->snp_counters().rmpadjust_vc;
    snp.psc_requests += cpu->snp_counters().psc_requests;
    snp.psc_pages += cpu->snp_counters().psc_pages;
    snp.host_rmp_faults += cpu->snp_counters().host_rmp_faults;
  }
  const auto& hv = m_system->hv.counters();
  Json s = Json::object();
  s["accesses"] = accesses();
  s["cycles"] = cycles();
  s["tlb_l1_hits"] = t.l1i_hits + t.l1d_hits;
  s["tlb_l1_misses"] = t.l1i_misses + t.l1d_misses;
  s["tlb_l2_hits"] = t.l2_hits;
  s["tlb_l2_misses"] = t.l2_misses;
  s["walks"] = t.walks;
  s["walk_mem_refs"] = t.walk_refs;
  s["npf_total"] = hv.npf_total;
  s["npf_rmp"] = hv.npf_rmp;
  s["npf_not_present"] = hv.npf_not_present;
  s["vc_not_validated"] = t.vc_not_validated + snp.rmpadjust_vc;
  s["host_rmp_faults"] = snp.host_rmp_faults;
  s["vmexits"] = hv.vmexits;
  s["userspace_exits"] = hv.userspace_exits;
  s["psc_requests"] = snp.psc_requests;
  s["psc_pages"] = snp.psc_pages;
  s["rmpupdate"] = hv.rmpupdate;
  s["psmash"] = hv.psmash;
  s["pvalidate"] = snp.pvalidate;
  s["conversions"] = m_system->conversions.count();
  s["conversion_latency_cycles"] = m_system->conversions.all().summary();
  s["guest_terminated"] = m_guest_state.terminated;
  s["termination_reason"] =
      m_guest_state.terminated ? Json(m_guest_state.reason) : Json(nullptr);
  s["host_seconds"] = host_seconds;
  s["accesses_per_host_second"] = host_seconds > 0 ? double(accesses()) / host_seconds : 0.0;
  return s;
}

}  // namespace rmpsim
