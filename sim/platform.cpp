#include "sim/platform.hpp"

#include <algorithm>

#include "models/guest/guest_params.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/memory/memory_params.hpp"
#include "models/rmp/rmp_params.hpp"
#include "traces/input_error.hpp"

namespace rmpsim {

namespace {

// The kernel's time counts core cycles, one resolution unit per cycle
// (guest::Vcpu::sync): it only orders the vCPUs. The resolution is set once,
// before anything makes a time.
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
  rmp::Rmpopt rmpopt;  // issue 19; inert unless rmp.rmpopt is on
  hypervisor::HostTrafficCounters host_traffic;  // HMEM lines, every CPU
  mmu::TranslationDomain tlbs;  // every vCPU's MMU: the one coherence path
  hypervisor::ConversionLog conversions;
  guest::GuestOs os;
  hypervisor::Hypervisor hv;
  std::vector<std::unique_ptr<guest::Vcpu>> cpus;
  stats::Group stats{basename()};  // the root of the stats tree: "system"

  System(const sc_core::sc_module_name& n, const Config& c, const Clock& clock,
         guest::TraceFeed& feed, guest::GuestState& state, guest::Region& region, EventLog* log);
};

Platform::System::System(const sc_core::sc_module_name& n, const Config& c, const Clock& clock,
                         guest::TraceFeed& feed, guest::GuestState& state,
                         guest::Region& region, EventLog* log)
    : sc_module(n),
      mem("mem",
          [&] {
            // Geometry relations (entries a multiple of ways) are checked
            // once for every structure when the configuration is resolved.
            c.check_relations("", 0);
            return memory::cache_params_from(c, clock, guest::vcpu_count(c));
          }()),
      rmpopt(rmp, rmp::rmpopt_params_from(c, clock, guest::vcpu_count(c))),
      conversions(log),
      os(mem.guest_store(), guest::guest_os_params_from(c, clock), tlbs),
      hv(mem.host_store(), rmp, hypervisor::hypervisor_params_from(c, clock),
         [this](std::uint64_t gpa) { return os.prevalidated(gpa); }, tlbs,
         [this](std::uint64_t spa) { return mem.caches().flush_frame(spa); }) {
  const guest::VcpuParams vp = guest::vcpu_params_from(c, clock);
  if (vp.kernel.svsm) conversions.add_svsm_stats();
  const rmp::CheckOptions rmp_opt = rmp::check_options_from(c, clock);
  const unsigned vcpus = guest::vcpu_count(c);
  for (unsigned i = 0; i < vcpus; ++i) {
    const std::string cpu = "cpu" + std::to_string(i);
    cpus.push_back(std::make_unique<guest::Vcpu>(
        cpu.c_str(), i,
        guest::VcpuContext{feed, os, hv, state, mem, rmp, conversions, log, tlbs, region,
                           host_traffic, rmpopt.enabled() ? &rmpopt : nullptr},
        vp));
    cpus.back()->mmu().core().attach_rmp(&rmp, rmp_opt);
    tlbs.attach(cpus.back()->mmu().core());
  }
  // Linux runs RMPOPT over all RAM once SNP is initialised, before any
  // guest (snp-semantics §2.4).
  rmpopt.snp_init();
}

Platform::Platform(const Config& config, trace::Reader& reader, EventLog* log, bool check)
    : m_freq_ghz(guest::clock_from(config).ghz),
      m_feed(reader, guest::vcpu_count(config)),
      m_region(reader.name(), guest::warmup_accesses(config)) {
  set_time_resolution_once();
  m_system = std::make_unique<System>("system", config, Clock{m_freq_ghz}, m_feed,
                                      m_guest_state, m_region, log);
  m_feed.set_warmup(guest::warmup_accesses(config));
  // The region's begin: what was simulated so far is warm-up; every stat
  // of the tree starts again from zero, the models keep their state.
  m_region.on_begin([this] {
    m_region_host_start = std::chrono::steady_clock::now();
    const std::uint64_t warmup = accesses();
    m_system->stats.reset();
    m_system->host_traffic.group.reset();  // joins the tree only after the run
    return warmup;
  });
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
  // Each block describes its own stats; the platform only builds the tree.
  stats::Group& root = m_system->stats;
  root.add_child(m_system->mem.stats());
  for (const auto& cpu : m_system->cpus) root.add_child(cpu->stats());
  root.add_child(m_system->os.stats());
  root.add_child(m_system->hv.stats());
  root.add_child(m_system->conversions.stats());
  root.add_child(m_system->rmp.stats());
  if (m_system->rmpopt.enabled()) root.add_child(m_system->rmpopt.stats());
  if (m_checker) root.add_child(m_checker->stats());
}

Platform::~Platform() = default;

void Platform::stop_when(const volatile std::sig_atomic_t* flag) {
  m_feed.stop_when(flag);
  m_system->os.stop_when(flag);
}

void Platform::inject_fault(const std::string& kind) {
  if (kind != "skip-hv-flush")
    throw InputError("--check-inject", 0, "unknown fault '" + kind + "' (expected skip-hv-flush)");
  m_system->tlbs.drop_asid_flushes();
}

void Platform::run() {
  sc_core::sc_start();
  for (const auto& cpu : m_system->cpus)
    if (cpu->error()) std::rethrow_exception(cpu->error());
  if (!m_feed.stopped()) m_region.check_reached();  // an interrupted run reports what it did
  if (m_checker) m_checker->final_check();
  // Only a run with a region says where it began: the others' stats stay as they were.
  if (m_region.used()) m_system->stats.add_child(m_region.stats());
  // Runs without host traffic or RMPOPT keep their stats as they were.
  if (m_system->host_traffic.used() || m_system->rmpopt.enabled())
    m_system->stats.add_child(m_system->host_traffic.group);
}

std::uint64_t Platform::accesses() const {
  std::uint64_t a = 0;
  for (const auto& cpu : m_system->cpus) a += cpu->accesses();
  return a;
}

const stats::Group& Platform::stats() const { return m_system->stats; }

Json Platform::summary(double host_seconds, double region_host_seconds) const {
  // Keys and order are the stable contract of OUTPUTS.md. Counters of blocks
  // this build does not model yet are 0 ("0 when the feature did not occur").
  // Each key is the sum (cycles: the maximum) of the named stats of the tree.
  static const std::vector<SummaryKey> kTreeKeys = {
      {"accesses", Reduce::Sum, {"cpu*.accesses"}},
      {"cycles", Reduce::Max, {"cpu*.cycles"}},
      {"tlb_l1_hits", Reduce::Sum, {"cpu*.mmu.itlb.hits", "cpu*.mmu.dtlb.hits"}},
      {"tlb_l1_misses", Reduce::Sum, {"cpu*.mmu.itlb.misses", "cpu*.mmu.dtlb.misses"}},
      {"tlb_l2_hits", Reduce::Sum, {"cpu*.mmu.l2tlb.hits"}},
      {"tlb_l2_misses", Reduce::Sum, {"cpu*.mmu.l2tlb.misses"}},
      {"walks", Reduce::Sum, {"cpu*.mmu.walker.walks"}},
      {"walk_mem_refs", Reduce::Sum, {"cpu*.mmu.walker.refs"}},
      {"npf_total", Reduce::Sum, {"hypervisor.npf"}},
      {"npf_rmp", Reduce::Sum, {"hypervisor.npf_rmp"}},
      {"npf_not_present", Reduce::Sum, {"hypervisor.npf_not_present"}},
      {"vc_not_validated", Reduce::Sum, {"cpu*.mmu.vc_not_validated", "cpu*.rmpadjust_vc"}},
      {"host_rmp_faults", Reduce::Sum, {"cpu*.host_rmp_faults"}},
      {"vmexits", Reduce::Sum, {"hypervisor.vmexits"}},
      {"userspace_exits", Reduce::Sum, {"hypervisor.userspace_exits"}},
      {"psc_requests", Reduce::Sum, {"cpu*.psc_requests"}},
      {"psc_pages", Reduce::Sum, {"cpu*.psc_pages"}},
      {"rmpupdate", Reduce::Sum, {"hypervisor.rmpupdate"}},
      {"psmash", Reduce::Sum, {"hypervisor.psmash"}},
      {"pvalidate", Reduce::Sum, {"cpu*.pvalidate"}},
      // Every conversion is counted once, under its trigger.
      {"conversions", Reduce::Sum, {"conversions.*.count"}},
  };
  const stats::Group& root = stats();
  Json s = Json::object();
  add_summary_keys(s, root, kTreeKeys);
  // HMEM lines' refused writes are host RMP #PFs too (issue 19); their
  // group exists only in runs that use it.
  if (m_system->host_traffic.rmp_faults)
    s["host_rmp_faults"] = s["host_rmp_faults"].get<std::uint64_t>() +
                           m_system->host_traffic.rmp_faults;
  if (m_region.used()) {  // OUTPUTS.md keys stay; these two only with a region
    s["warmup_accesses"] = *root.counters("region.warmup_accesses").at(0);
    s["region_start_cycle"] = m_region.start_cycle();
  }
  if (!root.counters("cpu*.svsm_calls").empty()) {  // only under an SVSM (guest.svsm)
    static const std::vector<SummaryKey> kSvsmKeys = {
        {"svsm_calls", Reduce::Sum, {"cpu*.svsm_calls"}},
        {"svsm_entries", Reduce::Sum, {"cpu*.svsm_entries"}},
        {"svsm_cycles", Reduce::Sum, {"cpu*.svsm_cycles"}},
    };
    add_summary_keys(s, root, kSvsmKeys);
  }
  s["conversion_latency_cycles"] = distribution_summary(*root.distribution("conversions.latency"));
  s["guest_terminated"] = m_guest_state.terminated;
  s["termination_reason"] =
      m_guest_state.terminated ? Json(m_guest_state.reason) : Json(nullptr);
  s["host_seconds"] = host_seconds;
  s["accesses_per_host_second"] = region_host_seconds > 0
                                      ? double(s["accesses"].get<std::uint64_t>()) /
                                            region_host_seconds
                                      : 0.0;
  return s;
}

}  // namespace rmpsim
