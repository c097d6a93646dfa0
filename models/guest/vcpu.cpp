#include "models/guest/vcpu.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace rmpsim::guest {

namespace {
// Livelock guard (models/guest/README.md, "Livelock guards"): a fault
// resolution that does not let the access through within this many rounds
// means the guest livelocks (or the models disagree); the guest ends with
// a reason that names the guard. A legitimate access needs at most a guest
// #PF, a fault-in, a conversion and a #VC: 16 is ample.
constexpr unsigned kMaxFaultRounds = 16;
}  // namespace

Vcpu::Vcpu(const sc_core::sc_module_name& name, unsigned id, const VcpuContext& ctx,
           const VcpuParams& params)
    : sc_module(name),
      socket("socket"),
      m_id(id),
      m_feed(ctx.feed),
      m_os(ctx.os),
      m_hv(ctx.hv),
      m_state(ctx.state),
      m_conversions(ctx.conversions),
      m_log(ctx.log),
      m_tlbs(ctx.tlbs),
      m_region(ctx.region),
      m_params(params),
      m_mmu("mmu", id, ctx.mem.guest_store(), ctx.mem.host_store(), params.mmu,
            params.mmu_timing),
      m_caches(ctx.mem.caches()),
      m_kernel(id, *this, ctx.os, ctx.rmp, ctx.state, ctx.conversions, params.kernel),
      m_host(ctx.hv, ctx.mem.caches(), ctx.rmp, params.host_mapping, id, params.host_rmp_pf),
      m_host_traffic(ctx.mem.caches(), ctx.rmp, ctx.rmpopt, params.host_direct_map, id,
                     params.host_rmp_pf, ctx.host_traffic),
      m_rmpopt(ctx.rmpopt) {
  SC_HAS_PROCESS(Vcpu);
  SC_THREAD(run);
  socket.bind(m_mmu.socket);
  m_mmu.mem.bind(ctx.mem.timing_export);
  m_attrs.asid = m_os.asid();
  m_attrs.vmpl = params.kernel.vmpl;  // guest.vmpl (a VMPL line changes it)
  m_attrs.gcr3 = m_os.gcr3();
  m_attrs.ncr3 = m_hv.ncr3();
  if (params.mlp_window) {
    m_window = std::make_unique<MissWindow>(params.mlp_window);
    m_l1_hit_cycles = m_caches.l1d_hit_cycles();
  }
  register_stats();
  ctx.mem.register_core_stats(id, m_stats);  // this vCPU's L1I, L1D and L2
}

void Vcpu::register_stats() {
  m_stats.add_counters({
      // From the region's start when there is one (region.hpp).
      {"cycles", &m_region_cycles, "core cycles until this vCPU's stream ended"},
      {"accesses", &m_accesses, "guest memory accesses after splitting page-crossing ones"},
      {"reads", &m_by_kind[0], "guest reads (R)"},
      {"writes", &m_by_kind[1], "guest writes (W)"},
      {"fetches", &m_by_kind[2], "guest instruction fetches (X)"},
      {"rmws", &m_by_kind[3], "guest read-modify-writes (M)"},
      {"split_accesses", &m_split,
       "trace accesses that crossed a 4K page and became several accesses"},
      {"delay_cycles", &m_delay_cycles, "cycles of D (compute) events"},
      {"translate_cycles", &m_translate_cycles, "cycles spent translating (L2 TLB hits and walks)"},
      {"fault_cycles", &m_fault_cycles, "cycles spent in fault handling (guest #PF, #NPF exits)"},
  });
  // The guest kernel's and the host's counters stay in this vCPU's group,
  // in their places of before.
  m_kernel.register_stats(m_stats);
  m_stats.add_counter("vmpl_switches", &m_vmpl_switches, "VMPL changes (VMPL lines)");
  m_host.register_stats(m_stats);
  // Only with the window core model: blocking runs keep their stats as they were.
  if (m_window)
    m_stats.add_counter("mlp_stall_cycles", m_window->stall_cycles(),
                        "cycles the vCPU waited because cpu.mlp_window misses were outstanding");
  m_stats.add_child(m_mmu.stats());
}

void Vcpu::check_consistent(const char* after) { m_check->consistent(after); }

void Vcpu::advance(std::uint64_t cycles) {
  m_cycles += cycles;
  // Temporal decoupling: hand control to the kernel only once a quantum of
  // local time has accumulated.
  if (!m_atomic && m_cycles - m_synced_cycles >= m_params.quantum_cycles) sync();
}

void Vcpu::sync() {
  // The kernel's time counts core cycles, one time-resolution unit per cycle:
  // it only orders the vCPUs (nothing reads it as seconds), and so it cannot
  // wrap before the cycle counter does (at 1 fs per 370 fs cycle it wrapped
  // after 5 simulated hours; issue 14, item 2).
  if (m_cycles > m_synced_cycles)
    wait(sc_core::sc_time::from_value(m_cycles - m_synced_cycles));
  m_synced_cycles = m_cycles;
}

void Vcpu::check_gva_range(std::uint64_t first, std::uint64_t last) const {
  // The reader guarantees 57-bit canonical addresses; 4-level paging
  // translates 48 bits, and a guest access beyond them takes #GP: refuse
  // the line rather than let the walker alias it (issue 14, item 4).
  if (canonical(first) && canonical(last)) return;
  throw InputError(m_feed.trace_name(m_id), m_line,
                   fmt::format("expected GVA range [{:#x}, {:#x}] to be canonical for {}-level "
                               "paging (bits 63..{} equal; walker.guest_levels); the guest would "
                               "take #GP",
                               first, last, m_params.mmu.walker.guest_levels, m_va_bits - 1));
}

__attribute__((always_inline)) inline std::uint64_t Vcpu::translate(bool overlap) {
  // Time travels on the extension only (SnpAttrs): the MMU reads the start
  // cycle and returns the latency, as over its TLM socket (see snp_ext.hpp).
  m_attrs.now_cycles = m_cycles;
  m_mmu.translate(m_gva, m_attrs);
  const std::uint64_t cycles = m_attrs.cycles;
  m_translate_cycles += cycles;
  if (m_log) m_log->translate_interval(m_id, m_cycles, cycles);
  // Window core model: a translation that completed is held back and goes
  // into the window together with the data access it leads to (access()),
  // one slot for the whole access; a fault serialises (resolve_and_retry).
  if (overlap && __builtin_expect(m_window != nullptr, 0) &&
      m_attrs.fault.kind == x86::FaultKind::None)
    m_window_translate = cycles;
  else
    m_cycles += cycles;
  return cycles;
}

void Vcpu::drain_window() { m_cycles = m_window->drain(m_cycles); }

void Vcpu::issue_in_window(std::uint64_t cycles) { m_cycles = m_window->issue(m_cycles, cycles); }

bool Vcpu::access_page(std::uint64_t gva, AccessKind kind) {
  m_gva = gva;
  m_attrs.kind = kind;
  translate(true);
  if (m_attrs.fault.kind == x86::FaultKind::None) return true;  // the common case
  return resolve_and_retry(gva);
}

bool Vcpu::resolve_and_retry(std::uint64_t gva) {
  // An implicit conversion started by this access is timed from the fault
  // that needed it to the moment the access completes.
  bool converting = false;
  hypervisor::ConversionRecord rec;
  drain();  // a fault serialises: handlers and exits start once every miss completed
  for (unsigned round = 0; round < kMaxFaultRounds; ++round) {
    if (round > 0) {
      const std::uint64_t cycles = translate();
      if (converting) rec.cost.guest += cycles;  // the retried walks
    }
    const x86::Fault f = m_attrs.fault;
    if (f.kind == x86::FaultKind::None) {
      if (converting) {
        rec.end = m_cycles;
        m_conversions.add(m_id, rec);
      }
      return true;
    }
    if (m_log && f.kind != x86::FaultKind::NestedPageFault)
      m_log->guest_fault(m_id, m_cycles, f.kind == x86::FaultKind::VcNotValidated, gva, f.addr,
                         f.error_code);
    if (f.kind == x86::FaultKind::GuestPageFault) {
      const std::uint64_t cycles = m_kernel.page_fault(f.addr, f.error_code);
      if (converting) rec.cost.guest += cycles;
    } else if (f.kind == x86::FaultKind::VcNotValidated) {
      std::uint64_t cycles = 0;
      m_kernel.vc_not_validated(f, gva, cycles);
      if (converting) rec.cost.pvalidate += cycles;
    } else {
      hypervisor::NpfResult r;
      const std::uint64_t before = m_cycles;
      if (!exit_npf(f.addr, f.error_code, r)) return false;
      if (r.conversion && !converting) {
        converting = true;
        rec = hypervisor::ConversionRecord{};
        rec.trigger = hypervisor::Trigger::Implicit;
        rec.to_private = r.to_private;
        rec.pages = 1;
        rec.start = before;
      }
      if (converting) rec.cost += r.cost;
    }
    if (m_state.terminated) return false;
  }
  // The hypervisor keeps resolving faults that come back (e.g. a private
  // instruction operand on a shared mapping converting the page to and fro):
  // the guest livelocks. Report it as the guest's end, not a crash.
  m_state.terminate(fmt::format("no progress on GVA {:#x} after {} fault rounds (trace line {}): "
                                "the guest livelocks (livelock guard kMaxFaultRounds)",
                                gva, kMaxFaultRounds, m_line));
  return false;
}

bool Vcpu::exit_npf(std::uint64_t gpa, std::uint64_t exitinfo1, hypervisor::NpfResult& r) {
  r = m_hv.handle_npf(m_id, gpa, exitinfo1);
  checkpoint("a #NPF exit");
  if (m_log)
    m_log->npf(m_id, m_cycles, gpa, exitinfo1, r.cycles, r.cost.userspace, r.resolved);
  m_fault_cycles += r.cycles;
  m_cycles += r.cycles;
  m_npf_costs += r.cost;
  if (!r.resolved) m_state.terminate(r.reason);
  return r.resolved;
}

void Vcpu::access(const trace::Event& ev) {
  // An access that crosses a 4K page is one access per page it touches
  // (TRACE-FORMAT.md: "an access that crosses a page is two accesses").
  const std::uint64_t last = ev.addr + (ev.size ? ev.size - 1 : 0);
  if (__builtin_expect(!canonical(ev.addr) || !canonical(last), 0)) check_gva_range(ev.addr, last);
  const std::uint64_t first_page = ev.addr >> 12;
  const std::uint64_t pages = last < ev.addr ? 1 : (last >> 12) - first_page + 1;
  m_split += pages > 1;
  // M (read-modify-write) needs write permission: translate it as a write.
  const AccessKind kind = ev.op == trace::Op::Exec    ? AccessKind::Fetch
                          : ev.op == trace::Op::Read  ? AccessKind::Read
                                                      : AccessKind::Write;
  for (std::uint64_t p = 0; p < pages; ++p) {
    const std::uint64_t gva = p == 0 ? ev.addr : (first_page + p) << 12;
    if (!access_page(gva, kind)) return;
    ++m_accesses;
    ++m_by_kind[unsigned(ev.op)];
    // The access itself, through the caches at its SPA (the L1I for a
    // fetch, else the L1D; a store or RMW dirties its line), issued once its
    // translation completed.
    const std::uint64_t at = m_cycles + m_window_translate;
    const std::uint64_t data = kind == AccessKind::Fetch
                                   ? m_caches.fetch(m_id, m_attrs.spa, at)
                                   : m_caches.data(m_id, m_attrs.spa, kind == AccessKind::Write, at);
    if (__builtin_expect(m_window != nullptr, 0))
      window_access(data);
    else
      advance(data);
  }
}

void Vcpu::window_access(std::uint64_t data) {
  // An access that missed anywhere (its translation plus its data access
  // take longer than an L1D hit) holds one slot for its whole latency and
  // overlaps the earlier misses; the core spends an L1D hit's time issuing
  // every access, hit or miss (docs/models.md, Core timing). A window of
  // one slot is the blocking model.
  const std::uint64_t latency = m_window_translate + data;
  m_window_translate = 0;
  if (latency > m_l1_hit_cycles) issue_in_window(latency);
  advance(std::min(latency, m_l1_hit_cycles));
}

void Vcpu::look_ahead() {
  using walker::WalkLookahead;
  auto at = [this](unsigned distance) {
    WalkLookahead::Upcoming u;
    if (const trace::Event* e = m_feed.upcoming(distance - 1); e && trace::is_guest_access(e->op))
      u = {true, m_feed.upcoming_seq(distance - 1), e->addr};
    return u;
  };
  m_lookahead.step(m_attrs.gcr3, m_attrs.ncr3, at(WalkLookahead::kDistA),
                   at(WalkLookahead::kDistB), at(WalkLookahead::kDistC));
}

void Vcpu::replay() {
  FedEvent fed;
  while (!m_state.terminated && m_feed.next(m_id, fed)) {
    const trace::Event& ev = fed.ev;
    m_line = fed.line;
    // Accesses check their range in access(), on the way.
    if (!trace::is_guest_access(ev.op)) {
      if (const std::uint64_t span = gva_span(ev)) check_gva_range(ev.addr, ev.addr + (span - 1));
      // Window core model: every line but an access or D serialises (exits,
      // PVALIDATE, PSC, mapping changes, ROI); D computes under the misses.
      if (ev.op != trace::Op::Delay) drain();
      // A re-scan whose delay has passed runs before the line's own RMP
      // changes (guest accesses do not wait for it: rmpopt.hpp).
      if (m_rmpopt) m_rmpopt->run_due(m_cycles);
    }
    switch (ev.op) {
      case trace::Op::Read:
      case trace::Op::Write:
      case trace::Op::Exec:
      case trace::Op::Modify: {
        const std::uint64_t walks = m_mmu.core().counters().walks;
        access(ev);
        // In a stretch of walks, read ahead for the next accesses' walks
        // (host caches only: walker/lookahead.hpp).
        if (m_mmu.core().counters().walks != walks) look_ahead();
        break;
      }
      case trace::Op::Delay:
        // The only unbounded cost a line can add (others are bounded by
        // the configuration's ranges): keep the cycle counters, and the
        // sums built on them, far from 2^64 (issue 14, item 2).
        if (ev.len > kMaxCycles - m_cycles)
          throw InputError(m_feed.trace_name(m_id), fed.line,
                           fmt::format("D {} would take vCPU {} past {} cycles (2^62, {:.0f} "
                                       "years of simulated time at {} GHz): expected a shorter "
                                       "delay",
                                       ev.len, m_id, kMaxCycles,
                                       double(kMaxCycles) / (m_params.ghz * 1e9 * 3600 * 24 * 365),
                                       m_params.ghz));
        m_delay_cycles += ev.len;
        advance(ev.len);
        break;
      case trace::Op::Map: {
        std::string error;
        GuestResult r = m_os.map(m_id, ev, error);
        if (!error.empty()) throw InputError(m_feed.trace_name(m_id), fed.line, error);
        advance(r.cycles);
        m_kernel.accept(r.accept_units);
        checkpoint("a MAP line");
        stop_if_requested();
        break;
      }
      case trace::Op::Unmap:
        advance(m_os.unmap(m_id, ev).cycles);
        checkpoint("an UNMAP line");
        stop_if_requested();
        break;
      case trace::Op::Pvalidate:
        pvalidate(ev);
        break;
      case trace::Op::Rmpadjust:
        rmpadjust(ev);
        break;
      case trace::Op::Vmpl:
        set_vmpl(static_cast<unsigned>(ev.addr));
        break;
      case trace::Op::HostRead:
      case trace::Op::HostWrite:
        host_access(ev);
        break;
      case trace::Op::HostMemRead:
      case trace::Op::HostMemWrite:
        host_mem_access(ev);
        break;
      case trace::Op::Rmpopt:
        rmpopt(ev);
        break;
      case trace::Op::Psc:
        psc(ev);
        break;
      case trace::Op::Convert:
        convert(ev);
        stop_if_requested();
        break;
      case trace::Op::Roi:
        roi(ev);
        break;
    }
  }
  drain();
  sync();  // let the kernel see this vCPU's final time
  // A vCPU whose stream ends before the region's start (it may lag the
  // vCPU that began it by up to a quantum) spent no cycles in it.
  m_region_cycles = m_cycles - std::min(m_cycles, m_region.start_cycle());
}

void Vcpu::roi(const trace::Event& ev) {
  if (ev.attrs & trace::kRoiEnd) {
    m_region.end(m_cycles, m_line);
    if (m_log) m_log->region(m_id, m_cycles, /*begin=*/false, m_line, 0);
    m_feed.end_here();  // every vCPU stops at its next line
  } else {
    m_region.begin(m_cycles, m_line, ev.attrs & TraceFeed::kInsertedBegin);
    if (m_log)
      m_log->region(m_id, m_cycles, /*begin=*/true, m_line, m_region.warmup_accesses());
  }
}

void Vcpu::run() {
  try {
    replay();
  } catch (...) {
    // SystemC would turn the exception into an sc_report and lose its type;
    // keep it for the platform to rethrow. The other vCPUs stop at their
    // next trace line rather than by sc_stop(): stopped threads are never
    // unwound, so their objects would outlive the run (LeakSanitizer
    // reported them when a bad line ended a multi-vCPU run). The run writes
    // nothing either way.
    m_error = std::current_exception();
    m_state.terminate("the run stopped on an error");
  }
}

}  // namespace rmpsim::guest
