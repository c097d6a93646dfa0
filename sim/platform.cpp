#include "sim/platform.hpp"

#include <algorithm>
#include <cmath>

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

PageSize size_from_name(const std::string& s) {
  return s == "1g" ? PageSize::k1G : s == "2m" ? PageSize::k2M : PageSize::k4K;
}

mmu::TlbGeometry tlb_geometry(const Config& c, const std::string& name) {
  mmu::TlbGeometry g;
  g.entries = static_cast<unsigned>(c.get_int("mmu." + name + ".entries"));
  g.ways = static_cast<unsigned>(c.get_int("mmu." + name + ".ways"));
  const std::string sizes = c.get_string("mmu." + name + ".page_sizes");
  g.holds = {true, sizes.find("2m") != std::string::npos, sizes.find("1g") != std::string::npos};
  return g;
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
  stats::Group stats{basename()};  // the root of the stats tree: "system"

  System(const sc_core::sc_module_name& n, const Config& c, double ghz, guest::TraceFeed& feed,
         guest::GuestState& state, EventLog* log);
};

Platform::System::System(const sc_core::sc_module_name& n, const Config& c, double ghz,
                         guest::TraceFeed& feed, guest::GuestState& state, EventLog* log)
    : sc_module(n),
      mem("mem",
          [&] {
            memory::MemTimingParams p;
            // Geometry relations (entries a multiple of ways) are checked
            // once for every structure when the configuration is resolved.
            c.check_relations("", 0);
            p.cache_lines = static_cast<unsigned>(c.get_int("memory.ptcache.lines"));
            p.cache_ways = static_cast<unsigned>(c.get_int("memory.ptcache.ways"));
            p.hit_cycles = static_cast<std::uint64_t>(c.get_int("memory.ptcache.hit_cycles"));
            p.dram_cycles = std::llround(c.get_float("memory.dram.latency_ns") * ghz);
            p.dram_busy_cycles = std::llround(c.get_float("memory.dram.busy_ns") * ghz);
            p.channels = static_cast<unsigned>(c.get_int("memory.dram.channels"));
            return p;
          }()),
      os(mem.guest_store(),
         [&] {
           guest::GuestOsParams p;
           p.asid = static_cast<std::uint16_t>(c.get_int("guest.asid"));
           const std::string accept = c.get_string("guest.accept");
           p.accept = accept == "none"   ? guest::Accept::None
                      : accept == "lazy" ? guest::Accept::Lazy
                                         : guest::Accept::Eager;
           p.levels = static_cast<unsigned>(c.get_int("walker.guest_levels"));
           p.auto_map = c.get_bool("guest.auto_map");
           for (const auto& r : c.get("guest.shared_ranges"))
             p.shared_ranges.emplace_back(r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>());
           p.demand_page_size = size_from_name(c.get_string("guest.demand_page_size"));
           p.page_fault_cycles = std::llround(c.get_float("guest.page_fault_ns") * ghz);
           p.invlpg_cycles = static_cast<std::uint64_t>(c.get_int("guest.invlpg_cycles"));
           p.shootdown_cycles = std::llround(c.get_float("guest.tlb_shootdown_ns") * ghz);
           p.vcpus = static_cast<unsigned>(c.get_int("cpu.count"));
           return p;
         }(),
         // A guest mapping change invalidates the range on every vCPU.
         [this](unsigned, std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
           for (auto& cpu : cpus) cpu->mmu().core().flush_gva_range(asid, gva, len);
         }),
      hv(mem.host_store(), rmp,
         [&] {
           hypervisor::HypervisorParams p;
           p.npt_levels = static_cast<unsigned>(c.get_int("walker.nested_levels"));
           p.backing_page_size = size_from_name(c.get_string("hypervisor.backing_page_size"));
           p.exit_cycles = std::llround(c.get_float("hypervisor.exit_roundtrip_ns") * ghz);
           p.npt_map_cycles = std::llround(c.get_float("hypervisor.npt_map_ns") * ghz);
           p.rmpupdate_cycles = std::llround(c.get_float("rmp.rmpupdate_ns") * ghz);
           p.psmash_cycles = std::llround(c.get_float("rmp.psmash_ns") * ghz);
           p.guest_asid = static_cast<std::uint16_t>(c.get_int("guest.asid"));
           const std::string policy = c.get_string("hypervisor.policy");
           p.policy = policy == "auto-convert" ? hypervisor::Policy::AutoConvert
                      : policy == "terminate"  ? hypervisor::Policy::Terminate
                                               : hypervisor::Policy::ExitToUserspace;
           p.tlb_flush_cycles = std::llround(c.get_float("hypervisor.tlb_flush_ns") * ghz);
           p.userspace_cycles = std::llround(c.get_float("userspace.exit_roundtrip_ns") * ghz);
           p.userspace_page_cycles =
               std::llround(c.get_float("userspace.convert_page_ns") * ghz);
           p.userspace_refuses = c.get_bool("userspace.refuse_conversions");
           return p;
         }(),
         [this](std::uint64_t gpa) { return os.prevalidated(gpa); },
         // RMP or NPT changes: flush the ASID on every vCPU (snp-semantics
         // §2.3: KVM flushes explicitly; hardware coherence is UNKNOWN).
         [this](std::uint16_t asid) {
           if (skip_hv_flushes) return;
           for (auto& cpu : cpus) cpu->mmu().core().flush_asid(asid);
         },
         [this](std::uint64_t spa) { mem.timing().flush_frame(spa); }) {
  guest::VcpuParams vp;
  mmu::MmuParams& mp = vp.mmu;
  mp.l1d = tlb_geometry(c, "l1d");
  mp.l1i = tlb_geometry(c, "l1i");
  mp.l2 = tlb_geometry(c, "l2");
  mp.walker.guest_levels = static_cast<unsigned>(c.get_int("walker.guest_levels"));
  mp.walker.nested_levels = static_cast<unsigned>(c.get_int("walker.nested_levels"));
  mp.walker.pwc_entries = static_cast<unsigned>(c.get_int("walker.pwc.entries"));
  mp.walker.pwc_ways = static_cast<unsigned>(c.get_int("walker.pwc.ways"));
  mp.walker.ntlb_entries = static_cast<unsigned>(c.get_int("walker.ntlb.entries"));
  mp.walker.ntlb_ways = static_cast<unsigned>(c.get_int("walker.ntlb.ways"));
  mmu::MmuTiming& mt = vp.mmu_timing;
  mt.l2_hit_cycles = static_cast<std::uint64_t>(c.get_int("mmu.l2.hit_cycles"));
  mt.walk_cache_hit_cycles = static_cast<std::uint64_t>(c.get_int("walker.cache_hit_cycles"));

  vp.access_cycles = static_cast<std::uint64_t>(c.get_int("cpu.access_cycles"));
  vp.pvalidate_cycles = std::llround(c.get_float("rmp.pvalidate_ns") * ghz);
  vp.rmpadjust_cycles = std::llround(c.get_float("rmp.rmpadjust_ns") * ghz);
  vp.invlpg_cycles = static_cast<std::uint64_t>(c.get_int("guest.invlpg_cycles"));
  vp.host_mapping = size_from_name(c.get_string("host.mapping_page_size"));
  vp.vc_validates = c.get_string("guest.on_vc_not_validated") == "validate";
  vp.psc_msr = c.get_string("guest.psc_protocol") == "msr";
  vp.psc_2m = c.get_bool("guest.psc_2m");
  vp.psc_max_entries = static_cast<unsigned>(c.get_int("guest.psc_max_entries"));
  vp.vc_handler_cycles = std::llround(c.get_float("guest.vc_handler_ns") * ghz);
  rmp::CheckOptions rmp_opt;
  rmp_opt.npt_larger_than_rmp_faults = c.get_string("rmp.npt_larger_than_rmp") == "npf";
  rmp_opt.gpt_not_validated_is_npf = c.get_string("rmp.gpt_not_validated") == "npf";
  vp.fs_per_cycle = static_cast<std::uint64_t>(std::llround(1e6 / ghz));
  const auto vcpus = static_cast<unsigned>(c.get_int("cpu.count"));
  // The quantum bounds how far one vCPU runs ahead of the others. With one
  // vCPU there are no others (the vCPU threads are the only SystemC
  // processes, and nothing reads the kernel's time), so it synchronises
  // only at the end: a mid-trace wait() would cost host time and change
  // nothing (a walk-heavy trace reached the quantum every 2-3 accesses).
  vp.quantum_cycles =
      vcpus == 1 ? ~0ull
                 : std::max<std::uint64_t>(
                       1, std::llround(double(c.get_int("sim.quantum_ns")) * ghz));

  for (unsigned i = 0; i < vcpus; ++i) {
    const std::string cpu = "cpu" + std::to_string(i);
    cpus.push_back(std::make_unique<guest::Vcpu>(
        cpu.c_str(), i,
        guest::VcpuContext{feed, os, hv, state, mem, rmp, conversions, log,
                           [this](std::uint16_t asid, std::uint64_t gva, std::uint64_t len) {
                             for (auto& v : cpus) v->mmu().core().flush_gva_range(asid, gva, len);
                           },
                           [this](std::uint16_t asid, std::uint64_t gpa, std::uint64_t len) {
                             for (auto& v : cpus) v->mmu().core().flush_gpa_range(asid, gpa, len);
                           }},
        vp));
    cpus.back()->mmu().core().attach_rmp(&rmp, rmp_opt);
  }
}

Platform::Platform(const Config& config, trace::Reader& reader, EventLog* log, bool check)
    : m_freq_ghz(config.get_float("cpu.freq_ghz")),
      m_feed(reader, static_cast<unsigned>(config.get_int("cpu.count"))) {
  set_time_resolution_once();
  m_system =
      std::make_unique<System>("system", config, m_freq_ghz, m_feed, m_guest_state, log);
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
  if (m_checker) root.add_child(m_checker->stats());
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

std::uint64_t Platform::accesses() const {
  std::uint64_t a = 0;
  for (const auto& cpu : m_system->cpus) a += cpu->accesses();
  return a;
}

const stats::Group& Platform::stats() const { return m_system->stats; }

Json Platform::summary(double host_seconds) const {
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
  s["conversion_latency_cycles"] = distribution_summary(*root.distribution("conversions.latency"));
  s["guest_terminated"] = m_guest_state.terminated;
  s["termination_reason"] =
      m_guest_state.terminated ? Json(m_guest_state.reason) : Json(nullptr);
  s["host_seconds"] = host_seconds;
  s["accesses_per_host_second"] =
      host_seconds > 0 ? double(s["accesses"].get<std::uint64_t>()) / host_seconds : 0.0;
  return s;
}

}  // namespace rmpsim
