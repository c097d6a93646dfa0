#include "models/guest/guest_params.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "traces/input_error.hpp"

#include "models/mmu/mmu_params.hpp"

namespace rmpsim::guest {

void cpu_schema(SchemaBuilder& b) {
  b.int_key("cpu.count", 1, 1, 256, "vCPUs",
            "Number of vCPUs. Trace events for vCPU numbers >= this are an error.",
            "assumption: one vCPU, the common case for lackey traces");
  b.float_key("cpu.freq_ghz", 2.7, 0.1, 10.0, "GHz",
              "Core clock; converts the ns latencies below to cycles and cycles to "
              "time in reports.",
              "AMD EPYC 9334 (Zen 4) base clock, the host of the exit figures in "
              "snp-semantics §5 [TUM]");
  b.enum_key("cpu.core_model", "blocking", {"blocking", "window"},
             "Core timing (docs/models.md, Core timing). blocking: each trace access "
             "completes before the next issues (a dependent chain). window: an access "
             "that misses anywhere (TLB or caches) may overlap up to cpu.mlp_window - 1 "
             "earlier misses; faults, exits and every non-access line but D drain the "
             "window",
             "blocking is the default: the MLC-style idle-latency measurements that "
             "validate the timing (issue 17) are a dependent pointer chase");
  b.int_key("cpu.mlp_window", 24, 1, 256, "misses",
            "Outstanding misses of the window core model (cpu.core_model=window)",
            "assumption: 24 outstanding L1D misses (miss address buffers) for Zen 4; "
            "not checked against AMD's Zen 4 optimization guide (pub. 57647)");
}

void guest_schema(SchemaBuilder& b) {
  b.int_key("guest.asid", 1, 1, 1006, "", "The guest's ASID (TLB tag)",
            "assumption: any non-zero SNP ASID");
  b.bool_key("guest.auto_map", true,
             "Demand mapping: the first touch of an unmapped GVA maps a fresh "
             "guest-physical frame (false: such a touch terminates the guest)",
             "docs/trace-format.md, traces that carry only accesses");
  b.range_list_key("guest.shared_ranges",
                   "GVA ranges [start, end) that demand mapping maps shared (C-bit clear); "
                   "everything else is private. JSON list of pairs of numbers or hex strings, "
                   "e.g. [[\"0x7fff00000000\", \"0x7fff00200000\"]] (--set also takes bare "
                   "hex); 2M-aligned when guest.demand_page_size is 2m. `rmpsim trace stat` "
                   "lists a trace's regions",
                   "docs/trace-format.md, traces that carry only accesses");
  b.enum_key("guest.accept", "eager", {"eager", "lazy", "none"},
             "Memory acceptance. eager: all guest memory was validated at launch; "
             "lazy: Linux unaccepted memory, a 2 MiB unit is accepted (PSC to private "
             "+ PVALIDATE, 4K fallback) when the guest OS first hands out a frame "
             "from it; none: only the kernel's page tables are validated, for traces "
             "that carry their own PVALIDATE lines. A private access to a page never "
             "validated takes #VC 0x404, which a Linux guest cannot survive",
             "snp-semantics §4.7. Assumption: eager is the default so that "
             "access-only traces measure steady state; Linux defaults to lazy");
  b.enum_key("guest.on_vc_not_validated", "terminate", {"terminate", "validate"},
             "What the guest does on #VC 0x404 (a private access to a page it has not "
             "validated): terminate, as Linux does, or PVALIDATE the page and retry "
             "(an enlightened guest)",
             "snp-semantics §4.7: Linux cannot recover");
  b.float_key("guest.vc_handler_ns", 650.0, 0.0, 1e9, "ns",
              "The guest's #VC handler without an exit",
              "#VC handled inside an SNP guest, 645-672 ns [TUM], snp-semantics §5");
  b.enum_key("guest.psc_protocol", "ghcb", {"ghcb", "msr"},
             "How CONVERT asks for page state changes: GHCB descriptors (batched) or "
             "the MSR protocol (one 4K page per VMGEXIT)",
             "Linux uses the GHCB once it is set up, the MSR protocol in early boot "
             "(snp-semantics §3.3)");
  b.bool_key("guest.psc_2m", true,
             "CONVERT uses 2M PSC entries and 2M PVALIDATEs where the range is 2M "
             "aligned (else 4K only)",
             "Linux __set_pages_state (snp-semantics §3.3)");
  b.int_key("guest.psc_max_entries", 64, 1, 253, "entries",
            "Entries per GHCB PSC request that CONVERT builds",
            "Linux VMGEXIT_PSC_MAX_ENTRY = 64; the GHCB allows 253 (snp-semantics §3.2)");
  b.enum_key("guest.demand_page_size", "4k", {"4k", "2m"},
             "Page size of demand mappings (2m: transparent huge pages; falls back to "
             "4k where smaller pages already exist)",
             "assumption: Linux maps anonymous memory at 4K unless THP applies");
  b.float_key("guest.page_fault_ns", 1000.0, 0.0, 1e9, "ns",
              "Guest kernel time to handle one demand (first-touch) page fault",
              "assumption: Linux anonymous fault including zeroing a 4K page");
  b.int_key("guest.invlpg_cycles", 150, 0, 1000000, "cycles",
            "One local INVLPG when the guest changes or removes a mapping", "assumption");
  b.float_key("guest.tlb_shootdown_ns", 3860.0, 0.0, 1e9, "ns",
              "Remote TLB shootdown when other vCPUs exist: the IPI costs an SNP "
              "exit round trip",
              "assumption: one SNP exit round trip (CPUID in an SNP guest, 3.86 us "
              "[TUM], snp-semantics §5)");
  // An SVSM below which the guest runs (docs/snp-semantics.md §3.4).
  b.int_key("guest.vmpl", 0, 0, 3, "",
            "The VMPL the guest kernel runs at (trace VMPL lines change it). Above 0 it "
            "cannot PVALIDATE and needs an SVSM (guest.svsm)",
            "snp-semantics §2.2 (PVALIDATE is a VMPL 0 instruction); 0: a guest without "
            "an SVSM, Linux's default");
  b.enum_key("guest.svsm", "none", {"none", "coconut"},
             "The Secure VM Service Module at VMPL 0. coconut: COCONUT-SVSM's core protocol; "
             "every PVALIDATE (trace lines, CONVERT, lazy acceptance) becomes an "
             "SVSM_CORE_PVALIDATE call of up to 510 entries, two VMPL switches through the "
             "hypervisor each. With guest.vmpl = 0 the guest terminates at boot (reason set "
             "1, code 8), as guest.vmpl > 0 without one does (code 7)",
             "snp-semantics §3.4: Linux svsm_pval_pages, COCONUT-SVSM protocols/core.rs");
  b.float_key("guest.svsm_vmsa_switch_ns", 200.0, 0.0, 1e9, "ns",
              "The hypervisor's switch to the other VMPL's VMSA on an SNP run-VMPL request "
              "(SW_EXITCODE 0x8000_0018), on top of the exit round trip "
              "(hypervisor.exit_roundtrip_ns); paid twice per SVSM call",
              "assumption: UNKNOWN (snp-semantics §5); of the order of KVM's state setup "
              "before VMRUN, ~576 cycles [LKML20]");
  b.float_key("guest.svsm_zero_4k_ns", 100.0, 0.0, 1e9, "ns",
              "The SVSM's zeroing of a 4K page it validated, before granting it to the guest "
              "(x512 for a 2M entry)",
              "assumption: 4 KiB of stores at ~40 GB/s; COCONUT-SVSM core_pvalidate_one "
              "zeroes every validated page (snp-semantics §3.4)");
}

void host_schema(SchemaBuilder& b) {
  b.enum_key("host.mapping_page_size", "4k", {"4k", "2m", "1g"},
             "Page size of the host's own mapping of guest memory. With 2m or 1g a "
             "host write faults when any 4K page of its 2 MiB region is assigned",
             "snp-semantics §1.5, §1.7: Linux splits its direct map to 4K around "
             "converted pages, so 4k is its behaviour");
  b.enum_key("host.direct_map_page_size", "4k", {"4k", "2m", "1g"},
             "Page size of the host's mapping of its own memory (HMEM lines). With 2m or "
             "1g a host write is checked against its whole 2 MiB region and faults when "
             "any 4K page of it is assigned",
             "snp-semantics §1.5, §1.7: Linux splits its direct map to 4K around "
             "converted pages, so 4k is its behaviour");
  b.enum_key("host.access_mode", "kernel", {"kernel", "user"},
             "Who runs HOST lines: the hypervisor in the host kernel (KVM) or a "
             "device model in host userspace (the VMM). Decides what a host RMP #PF "
             "does under host.on_rmp_pf = linux",
             "assumption: HOST lines are the hypervisor's own accesses (docs/trace-format.md "
             "names it first); user mode is the VMM's device models");
  b.enum_key("host.on_rmp_pf", "linux", {"linux", "continue"},
             "What a host write the RMP refuses (host #PF with bit 31) leads to. linux: "
             "what Linux does in host.access_mode -- kernel: fatal (an oops), the run "
             "ends; user: SIGBUS terminates the host process (the VMM), the run ends. "
             "continue: the fault is counted and the trace goes on (a host that "
             "recovers)",
             "snp-semantics §1.6: Linux treats a kernel RMP #PF as fatal; user mode: "
             "SIGBUS, SNP host series 'x86/fault: Handle RMP page faults for user "
             "addresses' (M. Roth, kvm@vger)");
}

void sim_schema(SchemaBuilder& b) {
  b.int_key("sim.quantum_ns", 1000, 1, 1000000, "ns",
            "Temporal-decoupling quantum: how far a vCPU may run ahead of the "
            "SystemC kernel before it synchronises. With one vCPU it has no "
            "effect: the vCPU synchronises only at the end.",
            "docs/development.md, where the time goes: quantum >= 1 us keeps wait() off the "
            "access path");
  b.int_key("sim.warmup_accesses", 0, 0, 4.0e18, "access lines",
            "Warm-up: the first N guest access lines of the trace (R, W, X, M lines, all "
            "vCPUs together, in trace order) run normally, then every stat starts again "
            "from zero; model state (TLBs, RMP, page tables, memory) is kept. 0: the whole "
            "trace is measured. Also `run --warmup N`; not with ROI lines "
            "(docs/trace-format.md, ROI)",
            "ChampSim --warmup-instructions, whose default is 0 (no warm-up)");
}

Clock clock_from(const Config& c) { return Clock{c.get_float("cpu.freq_ghz")}; }

unsigned vcpu_count(const Config& c) { return static_cast<unsigned>(c.get_int("cpu.count")); }

std::uint64_t warmup_accesses(const Config& c) {
  return static_cast<std::uint64_t>(c.get_int("sim.warmup_accesses"));
}

GuestOsParams guest_os_params_from(const Config& c, const Clock& clock) {
  GuestOsParams p;
  p.asid = static_cast<std::uint16_t>(c.get_int("guest.asid"));
  const std::string accept = c.get_string("guest.accept");
  p.accept = accept == "none" ? Accept::None : accept == "lazy" ? Accept::Lazy : Accept::Eager;
  p.levels = static_cast<unsigned>(c.get_int("walker.guest_levels"));
  p.auto_map = c.get_bool("guest.auto_map");
  for (const auto& r : c.get("guest.shared_ranges"))
    p.shared_ranges.emplace_back(r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>());
  p.demand_page_size = c.get_page_size("guest.demand_page_size");
  // A 2M demand mapping is wholly shared or wholly private (the C-bit comes
  // from the final guest PTE, docs/snp-semantics.md §1.4), so a shared range
  // that ends inside a 2M page cannot be honoured: refuse it rather than
  // round it silently (issue 16, item 6).
  if (p.demand_page_size == PageSize::k2M)
    for (const auto& [lo, hi] : p.shared_ranges)
      if ((lo | hi) & 0x1fffff)
        throw InputError(
            "rmpsim", 0,
            fmt::format("guest.shared_ranges [{:#x}, {:#x}) is not 2M-aligned but "
                        "guest.demand_page_size is 2m (a 2M page is wholly shared or private): "
                        "expected multiples of 0x200000, e.g. [{:#x}, {:#x})",
                        lo, hi, lo & ~0x1fffffull, (hi + 0x1fffff) & ~0x1fffffull));
  p.page_fault_cycles = clock.cycles(c.get_float("guest.page_fault_ns"));
  p.invlpg_cycles = static_cast<std::uint64_t>(c.get_int("guest.invlpg_cycles"));
  p.shootdown_cycles = clock.cycles(c.get_float("guest.tlb_shootdown_ns"));
  p.vcpus = vcpu_count(c);
  return p;
}

GuestKernelParams guest_kernel_params_from(const Config& c, const Clock& clock) {
  GuestKernelParams p;
  p.pvalidate_cycles = clock.cycles(c.get_float("rmp.pvalidate_ns"));
  p.rmpadjust_cycles = clock.cycles(c.get_float("rmp.rmpadjust_ns"));
  p.invlpg_cycles = static_cast<std::uint64_t>(c.get_int("guest.invlpg_cycles"));
  p.vc_validates = c.get_string("guest.on_vc_not_validated") == "validate";
  p.vc_handler_cycles = clock.cycles(c.get_float("guest.vc_handler_ns"));
  p.psc_msr = c.get_string("guest.psc_protocol") == "msr";
  p.psc_2m = c.get_bool("guest.psc_2m");
  p.psc_max_entries = static_cast<unsigned>(c.get_int("guest.psc_max_entries"));
  p.vmpl = static_cast<std::uint8_t>(c.get_int("guest.vmpl"));
  p.svsm = c.get_string("guest.svsm") != "none";
  p.svsm_vmsa_switch_cycles = clock.cycles(c.get_float("guest.svsm_vmsa_switch_ns"));
  p.svsm_zero_4k_cycles = clock.cycles(c.get_float("guest.svsm_zero_4k_ns"));
  return p;
}

VcpuParams vcpu_params_from(const Config& c, const Clock& clock) {
  VcpuParams p;
  p.mmu = mmu::mmu_params_from(c, clock);
  p.mmu_timing = mmu::mmu_timing_from(c, clock);
  p.kernel = guest_kernel_params_from(c, clock);
  p.mlp_window = c.get_string("cpu.core_model") == "window"
                     ? static_cast<unsigned>(c.get_int("cpu.mlp_window"))
                     : 0;
  p.host_mapping = c.get_page_size("host.mapping_page_size");
  p.host_direct_map = c.get_page_size("host.direct_map_page_size");
  p.host_rmp_pf.kernel_mode = c.get_string("host.access_mode") == "kernel";
  p.host_rmp_pf.fatal = c.get_string("host.on_rmp_pf") == "linux";
  p.ghz = clock.ghz;
  // The quantum bounds how far one vCPU runs ahead of the others. With one
  // vCPU there are no others (the vCPU threads are the only SystemC
  // processes, and nothing reads the kernel's time), so it synchronises
  // only at the end: a mid-trace wait() would cost host time and change
  // nothing (a walk-heavy trace reached the quantum every 2-3 accesses).
  p.quantum_cycles = vcpu_count(c) == 1 ? ~0ull
                                        : std::max<std::uint64_t>(
                                              1, clock.cycles(double(c.get_int("sim.quantum_ns"))));
  return p;
}

}  // namespace rmpsim::guest
