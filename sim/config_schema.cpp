// Every configuration key with its default and the default's source.
// Keys are added by the issue that gives them a meaning: a key here is read
// by some model. docs/config.md is generated from this table.
#include "sim/config.hpp"

namespace rmpsim {
namespace {

ConfigKey int_key(std::string path, std::int64_t def, double min, double max, std::string unit,
                  std::string doc, std::string source) {
  return ConfigKey{std::move(path), KeyType::Int, Json(def), min, max, {}, std::move(unit),
                   std::move(doc), std::move(source)};
}
ConfigKey float_key(std::string path, double def, double min, double max, std::string unit,
                    std::string doc, std::string source) {
  return ConfigKey{std::move(path), KeyType::Float, Json(def), min, max, {}, std::move(unit),
                   std::move(doc), std::move(source)};
}

ConfigKey enum_key(std::string path, std::string def, std::vector<std::string> choices,
                   std::string doc, std::string source) {
  return ConfigKey{std::move(path), KeyType::Enum, Json(def), 0, 0, std::move(choices), "",
                   std::move(doc), std::move(source)};
}
ConfigKey bool_key(std::string path, bool def, std::string doc, std::string source) {
  return ConfigKey{std::move(path), KeyType::Bool, Json(def), 0, 0, {}, "", std::move(doc),
                   std::move(source)};
}

// A TLB's geometry: entries, ways (entries = fully associative) and the page
// sizes it holds; sizes it does not hold are smashed into smaller entries.
void tlb_keys(std::vector<ConfigKey>& k, const std::string& name, const std::string& what,
              std::int64_t entries, std::int64_t ways, const std::string& sizes,
              const std::string& source) {
  k.push_back(int_key("mmu." + name + ".entries", entries, 0, 1 << 20, "entries",
                      what + " capacity; 0 disables it", source));
  k.push_back(int_key("mmu." + name + ".ways", ways, 1, 1 << 20, "ways",
                      what + " associativity (ways = entries: fully associative); entries must "
                             "be a multiple of it",
                      source));
  k.push_back(enum_key("mmu." + name + ".page_sizes", sizes, {"4k", "4k,2m", "4k,2m,1g"},
                       what + " page sizes held; larger pages are cached as pieces of the "
                              "largest held size",
                       source));
}

std::vector<ConfigKey> build() {
  std::vector<ConfigKey> k;
  // --- cpu -----------------------------------------------------------------
  k.push_back(int_key("cpu.count", 1, 1, 256, "vCPUs",
                      "Number of vCPUs. Trace events for vCPU numbers >= this are an error.",
                      "assumption: one vCPU, the common case for lackey traces"));
  k.push_back(float_key("cpu.freq_ghz", 2.7, 0.1, 10.0, "GHz",
                        "Core clock; converts the ns latencies below to cycles and cycles to "
                        "time in reports.",
                        "AMD EPYC 9334 (Zen 4) base clock, the host of the exit figures in "
                        "snp-semantics §5 [TUM]"));
  k.push_back(int_key("cpu.access_cycles", 4, 0, 1000, "cycles",
                      "Cost of one guest data access once translated. Data caches are not "
                      "modelled, so every access is charged an L1D hit.",
                      "assumption: Zen 4 L1D load-to-use latency (4 cycles)"));
  // --- mmu -----------------------------------------------------------------
  const std::string zen4 =
      "Zen 4 (AMD Family 19h software optimization guide; general knowledge, not in the spec "
      "digest)";
  tlb_keys(k, "l1d", "L1 data TLB", 72, 72, "4k,2m,1g", zen4 + ": 72 entries, fully associative");
  tlb_keys(k, "l1i", "L1 instruction TLB", 64, 64, "4k,2m,1g",
           zen4 + ": 64 entries, fully associative");
  tlb_keys(k, "l2", "unified L2 TLB", 3072, 12, "4k,2m",
           zen4 + ": 3072 entries holding 4K and 2M, 1G smashed; 12 ways as in Zen 2 "
                  "[WikiChip Zen 2, snp-semantics §5]. Assumption: one L2 serves data and "
                  "instruction misses");
  k.push_back(int_key("mmu.l2.hit_cycles", 7, 0, 1000, "cycles",
                      "Extra latency of an L1 TLB miss that hits the L2 TLB",
                      "assumption: Zen-class L2 DTLB hit latency"));
  // --- walker --------------------------------------------------------------
  k.push_back(int_key("walker.guest_levels", 4, 4, 5, "levels",
                      "Guest page-table levels (5 = LA57)", "x86-64 4-level paging"));
  k.push_back(int_key("walker.nested_levels", 4, 4, 5, "levels", "Nested page-table levels",
                      "KVM's default 4-level NPT"));
  k.push_back(int_key("walker.pwc.entries", 16, 0, 1 << 16, "entries per level",
                      "Guest page-walk cache: entries for each upper guest level (PML5/PML4, "
                      "PDPT, PD); 0 disables it",
                      "assumption: Bhargava et al. page-walk cache [BHAR08]; AMD's sizes are "
                      "not public"));
  k.push_back(int_key("walker.pwc.ways", 16, 1, 1 << 16, "ways", "Guest page-walk cache ways",
                      "assumption: fully associative"));
  k.push_back(int_key("walker.ntlb.entries", 64, 0, 1 << 20, "entries",
                      "Nested TLB (GPA -> SPA) entries; 0 disables it",
                      "assumption: nested TLB of [BHAR08]; AMD's size is not public"));
  k.push_back(int_key("walker.ntlb.ways", 4, 1, 1 << 20, "ways", "Nested TLB ways",
                      "assumption"));
  k.push_back(int_key("walker.cache_hit_cycles", 2, 0, 1000, "cycles",
                      "Latency of a page-walk cache or nested TLB hit during a walk",
                      "assumption"));
  // --- memory --------------------------------------------------------------
  k.push_back(int_key("memory.ptcache.lines", 16384, 0, 1 << 26, "64-byte lines",
                      "Cache of page-table and RMP lines in front of DRAM (data lines are not "
                      "modelled and do not compete); 0 sends every reference to DRAM",
                      "assumption: the 1 MiB L2 of a Zen 4 core (general knowledge)"));
  k.push_back(int_key("memory.ptcache.ways", 8, 1, 1 << 20, "ways", "Page-table line cache ways",
                      "Zen 4 L2: 8 ways (general knowledge)"));
  k.push_back(int_key("memory.ptcache.hit_cycles", 14, 0, 10000, "cycles",
                      "Latency of a page-table reference that hits the line cache",
                      "Zen 4 L2 load-to-use latency, 14 cycles (general knowledge)"));
  k.push_back(float_key("memory.dram.latency_ns", 110.0, 0.0, 100000.0, "ns",
                        "Latency of a page-table reference that misses the line cache",
                        "assumption: idle DRAM latency of a Zen 4 EPYC; an SNP guest measured "
                        "169.3 ns with MLC including translation overheads [AMDSEV225]"));
  k.push_back(int_key("memory.dram.channels", 12, 1, 1024, "channels",
                      "DRAM channels; 64-byte lines interleave over them",
                      "EPYC 9004: 12 DDR5 channels per socket (general knowledge)"));
  k.push_back(float_key("memory.dram.busy_ns", 2.0, 0.0, 100000.0, "ns",
                        "Time a channel is busy per line: later references to a busy channel "
                        "wait",
                        "64 B at DDR5-4800 (38.4 GB/s per channel) = 1.7 ns, rounded up"));
  // --- guest ---------------------------------------------------------------
  k.push_back(int_key("guest.asid", 1, 1, 1006, "", "The guest's ASID (TLB tag)",
                      "assumption: any non-zero SNP ASID"));
  k.push_back(bool_key("guest.auto_map", true,
                       "Demand mapping: the first touch of an unmapped GVA maps a fresh "
                       "guest-physical frame (false: such a touch terminates the guest)",
                       "docs/trace-format.md, traces that carry only accesses"));
  k.push_back(ConfigKey{"guest.shared_ranges", KeyType::RangeList, Json::array(), 0, 0, {}, "",
                        "GVA ranges [start, end) that demand mapping maps shared (C-bit clear); "
                        "everything else is private. JSON list of pairs, e.g. "
                        "[[140737488355328, 140737490452480]]",
                        "docs/trace-format.md, traces that carry only accesses"});
  k.push_back(enum_key("guest.accept", "eager", {"eager", "lazy", "none"},
                       "Memory acceptance. eager: all guest memory was validated at launch; "
                       "lazy: Linux unaccepted memory, a 2 MiB unit is accepted (PSC to private "
                       "+ PVALIDATE, 4K fallback) when the guest OS first hands out a frame "
                       "from it; none: only the kernel's page tables are validated, for traces "
                       "that carry their own PVALIDATE lines. A private access to a page never "
                       "validated takes #VC 0x404, which a Linux guest cannot survive",
                       "snp-semantics §4.7. Assumption: eager is the default so that "
                       "access-only traces measure steady state; Linux defaults to lazy"));
  k.push_back(enum_key("guest.on_vc_not_validated", "terminate", {"terminate", "validate"},
                       "What the guest does on #VC 0x404 (a private access to a page it has not "
                       "validated): terminate, as Linux does, or PVALIDATE the page and retry "
                       "(an enlightened guest)",
                       "snp-semantics §4.7: Linux cannot recover"));
  k.push_back(float_key("guest.vc_handler_ns", 650.0, 0.0, 1e9, "ns",
                        "The guest's #VC handler without an exit",
                        "#VC handled inside an SNP guest, 645-672 ns [TUM], snp-semantics §5"));
  k.push_back(enum_key("guest.psc_protocol", "ghcb", {"ghcb", "msr"},
                       "How CONVERT asks for page state changes: GHCB descriptors (batched) or "
                       "the MSR protocol (one 4K page per VMGEXIT)",
                       "Linux uses the GHCB once it is set up, the MSR protocol in early boot "
                       "(snp-semantics §3.3)"));
  k.push_back(bool_key("guest.psc_2m", true,
                       "CONVERT uses 2M PSC entries and 2M PVALIDATEs where the range is 2M "
                       "aligned (else 4K only)",
                       "Linux __set_pages_state (snp-semantics §3.3)"));
  k.push_back(int_key("guest.psc_max_entries", 64, 1, 253, "entries",
                      "Entries per GHCB PSC request that CONVERT builds",
                      "Linux VMGEXIT_PSC_MAX_ENTRY = 64; the GHCB allows 253 (snp-semantics §3.2)"));
  k.push_back(enum_key("guest.demand_page_size", "4k", {"4k", "2m"},
                       "Page size of demand mappings (2m: transparent huge pages; falls back to "
                       "4k where smaller pages already exist)",
                       "assumption: Linux maps anonymous memory at 4K unless THP applies"));
  k.push_back(float_key("guest.page_fault_ns", 1000.0, 0.0, 1e9, "ns",
                        "Guest kernel time to handle one demand (first-touch) page fault",
                        "assumption: Linux anonymous fault including zeroing a 4K page"));
  k.push_back(int_key("guest.invlpg_cycles", 150, 0, 1000000, "cycles",
                      "One local INVLPG when the guest changes or removes a mapping",
                      "assumption"));
  k.push_back(float_key("guest.tlb_shootdown_ns", 3860.0, 0.0, 1e9, "ns",
                        "Remote TLB shootdown when other vCPUs exist: the IPI costs an SNP "
                        "exit round trip",
                        "assumption: one SNP exit round trip (CPUID in an SNP guest, 3.86 us "
                        "[TUM], snp-semantics §5)"));
  // --- hypervisor ----------------------------------------------------------
  k.push_back(enum_key("hypervisor.policy", "exit-to-userspace",
                       {"exit-to-userspace", "auto-convert", "terminate"},
                       "What the hypervisor does when a guest access's private/shared-ness "
                       "differs from the page's memory attribute (an implicit conversion): "
                       "exit to the userspace model (KVM_EXIT_MEMORY_FAULT), convert in the "
                       "kernel, or terminate the guest",
                       "exit-to-userspace is upstream KVM 6.11+ (snp-semantics §4.1); "
                       "auto-convert the 2021/2022 RFC series (§4.4)"));
  k.push_back(float_key("hypervisor.tlb_flush_ns", 1000.0, 0.0, 1e9, "ns",
                        "Flushing the guest's ASID on every vCPU after an NPT or RMP change "
                        "(kvm_flush_remote_tlbs: IPIs and waiting for them)",
                        "assumption: INVLPGB/TLBSYNC and IPI costs are UNKNOWN (snp-semantics "
                        "§5)"));
  k.push_back(enum_key("hypervisor.backing_page_size", "4k", {"4k", "2m", "1g"},
                       "Folio size of host memory backing guest memory (1g: hugetlb); NPT "
                       "leaves are mapped at this size",
                       "guest_memfd backs private memory with 4 KiB pages today [AMDSEV225]"));
  k.push_back(float_key("hypervisor.exit_roundtrip_ns", 3860.0, 0.0, 1e9, "ns",
                        "SNP VM exit round trip: guest -> KVM -> VMRUN -> guest, without the "
                        "handler's own work",
                        "CPUID in an SNP guest, 3.86 us on EPYC 9334 [TUM], snp-semantics §5"));
  k.push_back(float_key("hypervisor.npt_map_ns", 500.0, 0.0, 1e9, "ns",
                        "KVM's work on a not-present #NPF: fault the backing page in and map "
                        "the NPT entry",
                        "assumption"));
  // --- userspace -----------------------------------------------------------
  k.push_back(float_key("userspace.exit_roundtrip_ns", 6000.0, 0.0, 1e9, "ns",
                        "An exit to the userspace model and back: KVM_RUN returns, userspace "
                        "handles the exit, KVM_RUN re-enters (on top of the VM exit itself)",
                        "assumption: the end-to-end figure is UNKNOWN (snp-semantics §5); the "
                        "in-kernel KVM_RUN path alone is ~2530 cycles [LKML20]"));
  k.push_back(float_key("userspace.convert_page_ns", 500.0, 0.0, 1e9, "ns",
                        "Userspace work per 4K page converted: KVM_SET_MEMORY_ATTRIBUTES and "
                        "discarding the stale backing (fallocate hole punch / madvise)",
                        "assumption: UNKNOWN (snp-semantics §5)"));
  k.push_back(bool_key("userspace.refuse_conversions", false,
                       "The userspace model refuses every conversion (a VMM that does not "
                       "allow implicit conversions or PSC); the guest is then terminated",
                       "QEMU accepts them (snp-semantics §4.1); refusal is the alternative"));
  // --- rmp -----------------------------------------------------------------
  k.push_back(enum_key("rmp.npt_larger_than_rmp", "npf", {"npf", "allow"},
                       "A private access through an NPT leaf larger than its RMP entry (NPT 2M "
                       "over 4K RMP entries): npf raises an RMP #NPF, allow lets it through",
                       "UNKNOWN architecturally (snp-semantics §1.5, §8 point 3); KVM never "
                       "creates it. Assumption: fault"));
  k.push_back(enum_key("rmp.gpt_not_validated", "vc", {"vc", "npf"},
                       "A guest page-table read of a page assigned to the guest but not "
                       "validated: vc takes #VC 0x404, npf an RMP #NPF",
                       "not documented (snp-semantics §1.4): default the not-validated "
                       "outcome"));
  k.push_back(float_key("rmp.rmpupdate_ns", 400.0, 0.0, 1e9, "ns", "One RMPUPDATE",
                        "assumption: no public latency (snp-semantics §5, §8 point 4)"));
  k.push_back(float_key("rmp.psmash_ns", 800.0, 0.0, 1e9, "ns",
                        "One PSMASH (writes 512 entries)",
                        "assumption: no public latency (snp-semantics §5)"));
  k.push_back(float_key("rmp.pvalidate_ns", 300.0, 0.0, 1e9, "ns", "One PVALIDATE",
                        "assumption: no public latency (snp-semantics §5)"));
  k.push_back(float_key("rmp.rmpadjust_ns", 300.0, 0.0, 1e9, "ns", "One RMPADJUST",
                        "assumption: no public latency (snp-semantics §5)"));
  // --- host ----------------------------------------------------------------
  k.push_back(enum_key("host.mapping_page_size", "4k", {"4k", "2m", "1g"},
                       "Page size of the host's own mapping of guest memory. With 2m or 1g a "
                       "host write faults when any 4K page of its 2 MiB region is assigned",
                       "snp-semantics §1.5, §1.7: Linux splits its direct map to 4K around "
                       "converted pages, so 4k is its behaviour"));
  // --- sim -----------------------------------------------------------------
  k.push_back(int_key("sim.quantum_ns", 1000, 1, 1000000, "ns",
                      "Temporal-decoupling quantum: how far a vCPU may run ahead of the "
                      "SystemC kernel before it synchronises. With one vCPU it has no "
                      "effect: the vCPU synchronises only at the end.",
                      "docs/development.md, where the time goes: quantum >= 1 us keeps wait() off the access path"));
  return k;
}

}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = build();
  return schema;
}

}  // namespace rmpsim
