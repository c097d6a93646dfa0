#include "models/hypervisor/hypervisor_params.hpp"

namespace rmpsim::hypervisor {

void hypervisor_schema(SchemaBuilder& b) {
  b.enum_key("hypervisor.policy", "exit-to-userspace",
             {"exit-to-userspace", "auto-convert", "terminate"},
             "What the hypervisor does when a guest access's private/shared-ness "
             "differs from the page's memory attribute (an implicit conversion): "
             "exit to the userspace model (KVM_EXIT_MEMORY_FAULT), convert in the "
             "kernel, or terminate the guest",
             "exit-to-userspace is upstream KVM 6.11+ (snp-semantics §4.1); "
             "auto-convert the 2021/2022 RFC series (§4.4)");
  b.float_key("hypervisor.tlb_flush_ns", 1000.0, 0.0, 1e9, "ns",
              "Flushing the guest's ASID on every vCPU after an NPT or RMP change "
              "(kvm_flush_remote_tlbs: IPIs and waiting for them)",
              "assumption: INVLPGB/TLBSYNC and IPI costs are UNKNOWN (snp-semantics "
              "§5)");
  b.enum_key("hypervisor.backing_page_size", "4k", {"4k", "2m", "1g"},
             "Folio size of host memory backing guest memory (1g: hugetlb); NPT "
             "leaves are mapped at this size",
             "guest_memfd backs private memory with 4 KiB pages today [AMDSEV225]");
  b.enum_key("hypervisor.huge_folio_conversion", "split-merge", {"split-merge", "stay-4k"},
             "With backing_page_size 2m or 1g, what a huge guest_memfd folio does across "
             "conversions. split-merge: it is split when part of it goes shared and whole "
             "again once its 2 MiB range is uniformly private, so the next private fault "
             "maps it with one 2M RMP entry and a 2M NPT leaf; stay-4k: a GFN that was "
             "ever converted is never again part of a 2M RMP entry",
             "upstream guest_memfd has no huge folios (virt/kvm/guest_memfd.c, "
             "kvm_gmem_get_folio: 'TODO: Support huge pages'); split-merge is what the "
             "guest_memfd huge-page series does, with KVM's 2M rule: folio order, all 512 "
             "PFNs unassigned (arch/x86/kvm/svm/sev.c is_large_rmp_possible) and uniform "
             "attributes (arch/x86/kvm/mmu/mmu.c hugepage_has_attrs), snp-semantics §4.2");
  b.float_key("hypervisor.exit_roundtrip_ns", 3860.0, 0.0, 1e9, "ns",
              "SNP VM exit round trip: guest -> KVM -> VMRUN -> guest, without the "
              "handler's own work",
              "CPUID in an SNP guest, 3.86 us on EPYC 9334 [TUM], snp-semantics §5");
  b.float_key("hypervisor.npt_map_ns", 500.0, 0.0, 1e9, "ns",
              "KVM's work on a not-present #NPF: fault the backing page in and map "
              "the NPT entry",
              "assumption");
  // --- userspace -----------------------------------------------------------
  b.float_key("userspace.exit_roundtrip_ns", 6000.0, 0.0, 1e9, "ns",
              "An exit to the userspace model and back: KVM_RUN returns, userspace "
              "handles the exit, KVM_RUN re-enters (on top of the VM exit itself)",
              "assumption: the end-to-end figure is UNKNOWN (snp-semantics §5); the "
              "in-kernel KVM_RUN path alone is ~2530 cycles [LKML20]");
  b.float_key("userspace.convert_page_ns", 500.0, 0.0, 1e9, "ns",
              "Userspace work per 4K page converted: KVM_SET_MEMORY_ATTRIBUTES and "
              "discarding the stale backing (fallocate hole punch / madvise)",
              "assumption: UNKNOWN (snp-semantics §5)");
  b.bool_key("userspace.refuse_conversions", false,
             "The userspace model refuses every conversion (a VMM that does not "
             "allow implicit conversions or PSC); the guest is then terminated",
             "QEMU accepts them (snp-semantics §4.1); refusal is the alternative");
}

HypervisorParams hypervisor_params_from(const Config& c, const Clock& clock) {
  HypervisorParams p;
  p.npt_levels = static_cast<unsigned>(c.get_int("walker.nested_levels"));
  p.backing_page_size = c.get_page_size("hypervisor.backing_page_size");
  p.huge_folio_conversion = c.get_string("hypervisor.huge_folio_conversion") == "stay-4k"
                                ? HugeFolioConversion::Stay4K
                                : HugeFolioConversion::SplitMerge;
  p.exit_cycles = clock.cycles(c.get_float("hypervisor.exit_roundtrip_ns"));
  p.npt_map_cycles = clock.cycles(c.get_float("hypervisor.npt_map_ns"));
  p.rmpupdate_cycles = clock.cycles(c.get_float("rmp.rmpupdate_ns"));
  p.psmash_cycles = clock.cycles(c.get_float("rmp.psmash_ns"));
  p.guest_asid = static_cast<std::uint16_t>(c.get_int("guest.asid"));
  if (c.get_string("guest.svsm") != "none")
    p.boot_grant_vmpl = static_cast<std::uint8_t>(c.get_int("guest.vmpl"));
  const std::string policy = c.get_string("hypervisor.policy");
  p.policy = policy == "auto-convert" ? Policy::AutoConvert
             : policy == "terminate"  ? Policy::Terminate
                                      : Policy::ExitToUserspace;
  p.tlb_flush_cycles = clock.cycles(c.get_float("hypervisor.tlb_flush_ns"));
  p.userspace_cycles = clock.cycles(c.get_float("userspace.exit_roundtrip_ns"));
  p.userspace_page_cycles = clock.cycles(c.get_float("userspace.convert_page_ns"));
  p.userspace_refuses = c.get_bool("userspace.refuse_conversions");
  return p;
}

}  // namespace rmpsim::hypervisor
