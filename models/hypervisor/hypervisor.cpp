#include "models/hypervisor/hypervisor.hpp"

#include <fmt/format.h>

#include "models/rmp/rmp_instructions.hpp"
#include "models/common/x86_fault.hpp"

namespace rmpsim::hypervisor {

namespace pg = paging;

Hypervisor::Hypervisor(memory::PhysStore& host_mem, rmp::RmpTable& rmp, const HypervisorParams& p,
                       std::function<bool(std::uint64_t)> prevalidated,
                       mmu::TranslationDomain& tlbs,
                       std::function<std::uint64_t(std::uint64_t)> clflush)
    : m_mem(host_mem),
      m_rmp(rmp),
      m_p(p),
      m_prevalidated(std::move(prevalidated)),
      m_tlbs(tlbs),
      m_clflush(std::move(clflush)),
      m_npt(host_mem, p.npt_levels,
            [this] {
              const std::uint64_t spa = m_next_npt_spa;
              m_next_npt_spa += 0x1000;
              m_mem.zero_frame(spa >> 12);
              return spa;
            },
            pg::kWritable | pg::kUser),
      m_ncr3(m_npt.new_root()),
      m_gm(p.backing_page_size) {
  register_stats();
}

void Hypervisor::register_stats() {
  m_stats.add_counters({
      {"vmexits", &m_c.vmexits, "VM exits handled"},
      {"npf", &m_c.npf_total, "#NPF exits"},
      {"npf_not_present", &m_c.npf_not_present, "#NPF for a non-present NPT entry"},
      {"npt_maps", &m_c.npt_maps, "NPT leaves installed"},
      {"npf_rmp", &m_c.npf_rmp, "#NPF with the RMP bit"},
      {"npf_rmp_size", &m_c.npf_rmp_size,
       "RMP #NPF from a 2M RMP entry used at 4K: resolved by PSMASH + NPT zap"},
      {"npf_rmp_spurious", &m_c.npf_rmp_spurious,
       "RMP #NPF on an entry already 4K: spurious, nothing done"},
      {"npf_rmp_unexpected", &m_c.npf_rmp_unexpected,
       "RMP #NPF KVM warns about and ignores (GFN not private, no guest_memfd page, or no "
       "assigned RMP entry): the guest re-executes"},
      {"npf_mismatch", &m_c.npf_mismatch,
       "#NPF whose private/shared-ness differs from the GFN's memory attribute (implicit "
       "conversion requests)"},
      {"npf_vmpl", &m_c.npf_vmpl, "VMPL permission violations"},
      {"userspace_exits", &m_c.userspace_exits,
       "exits to the userspace model (memory faults and MAP_GPA_RANGE)"},
      {"memory_fault_exits", &m_c.memory_fault_exits, "KVM_EXIT_MEMORY_FAULT exits"},
      {"pages_to_private", &m_c.pages_to_private,
       "4K pages whose memory attribute became private"},
      {"pages_to_shared", &m_c.pages_to_shared, "4K pages whose memory attribute became shared"},
      {"npt_zaps", &m_c.npt_zaps, "NPT ranges unmapped (after PSMASH, on conversions)"},
      {"tlb_flushes", &m_c.tlb_flushes, "flushes of the guest's ASID on every vCPU"},
      {"rmpupdate", &m_c.rmpupdate, "RMPUPDATE instructions"},
      {"psmash", &m_c.psmash, "PSMASH instructions"},
      {"psmash_inuse_retries", &m_c.psmash_inuse_retries, "PSMASH retried after FAIL_INUSE"},
      {"psc_msr_requests", &m_c.psc_msr_requests, "MSR-protocol PSC requests handled"},
      {"psc_ghcb_requests", &m_c.psc_ghcb_requests, "GHCB PSC requests handled"},
      {"psc_pages", &m_c.psc_pages,
       "4K pages forwarded to userspace by PSC (KVM_HC_MAP_GPA_RANGE)"},
      {"map_gpa_range_exits", &m_c.map_gpa_range_exits,
       "KVM_HC_MAP_GPA_RANGE exits to userspace"},
      {"psc_errors", &m_c.psc_errors, "PSC requests answered with an error"},
  });
  m_stats.add_formula("private_frames", [this] { return stats::Value(m_gm.private_frames); },
                      "4K guest_memfd pages populated at the end of the run");
  m_stats.add_formula("shared_frames", [this] { return stats::Value(m_gm.shared_frames); },
                      "4K shared host pages backing the guest at the end of the run");
}

bool Hypervisor::backing_of(std::uint64_t gpa, std::uint64_t& spa) const {
  return m_gm.find_backing(gpa, m_gm.is_private(gpa), spa);
}

bool Hypervisor::npt_mapped(std::uint64_t gpa, std::uint64_t& spa) const {
  const auto m = m_npt.lookup(m_ncr3, gpa);
  if (!m) return false;
  spa = m->pa + (gpa & (page_bytes(m->size) - 1));
  return true;
}

void Hypervisor::flush(ConversionCost& cost) {
  m_tlbs.flush_asid(m_p.guest_asid);
  ++m_c.tlb_flushes;
  cost.flush += m_p.tlb_flush_cycles;
}

void Hypervisor::zap(std::uint64_t gpa, std::uint64_t len) {
  for (std::uint64_t a = gpa; a < gpa + len;) {
    auto m = m_npt.unmap(m_ncr3, a);
    a = m ? (a & ~(page_bytes(m->size) - 1)) + page_bytes(m->size) : (a & ~0xfffull) + 0x1000;
  }
  ++m_c.npt_zaps;
}

bool Hypervisor::uniform_2m(std::uint64_t gpa) const {
  // A 2M entry (and a 2M NPT leaf) only where the 2M range's memory
  // attributes are uniformly private: KVM refuses a huge mapping over mixed
  // attributes (arch/x86/kvm/mmu/mmu.c, hugepage_has_attrs and
  // KVM_LPAGE_MIXED_FLAG; snp-semantics §4.2). The caller adds the folio
  // order and "all 512 PFNs unassigned" (sev_gmem_prepare).
  const std::uint64_t base = gpa & ~(k2M - 1);
  if (m_p.huge_folio_conversion == HugeFolioConversion::Stay4K) {
    for (std::uint64_t a = base; a < base + k2M; a += 0x1000)
      if (!m_gm.is_private(a) || m_gm.ever_converted(a)) return false;
    return true;
  }
  // split-merge: a folio split on the way to shared is whole again once the
  // range is uniformly private (hypervisor.huge_folio_conversion). One more
  // condition keeps the launch-time validation replay (assign_private)
  // honest: a page validated at launch and never converted would, on
  // hardware, still hold its own assigned RMP entry, so once any page of the
  // range was converted, a page like that keeps the range at 4K (§4.2: 2M
  // only when all 512 PFNs are unassigned).
  bool any_converted = false, launch_validated = false;
  for (std::uint64_t a = base; a < base + k2M; a += 0x1000) {
    if (!m_gm.is_private(a)) return false;
    if (m_gm.ever_converted(a))
      any_converted = true;
    else if (m_prevalidated(a))
      launch_validated = true;
  }
  return !(any_converted && launch_validated);
}

PageSize Hypervisor::assign_private(std::uint64_t gpa, ConversionCost& cost, std::string& error) {
  const std::uint64_t spa = m_gm.backing(gpa, true);
  const rmp::Governing g = m_rmp.governing(spa);
  if (g.entry.assigned) return g.size;  // already prepared
  rmp::RmpState s;
  s.assigned = true;
  s.asid = m_p.guest_asid;
  // sev_gmem_prepare (§4.2): a 2M entry only for a folio of at least 2M
  // whose 512 entries are all unassigned; otherwise 4K.
  const bool big = m_gm.folio_size() != PageSize::k4K && m_rmp.assigned_in_region(spa) == 0 &&
                   uniform_2m(gpa);
  s.size = big ? PageSize::k2M : PageSize::k4K;
  const std::uint64_t base_gpa = gpa & ~(page_bytes(s.size) - 1);
  const std::uint64_t base_spa = spa & ~(page_bytes(s.size) - 1);
  s.gpa = base_gpa;
  const std::uint32_t rc = rmp::rmpupdate(m_rmp, base_spa, s);
  ++m_c.rmpupdate;
  cost.rmpupdate += m_p.rmpupdate_cycles;
  if (rc != rmp::kSuccess) {
    error = fmt::format("RMPUPDATE of SPA {:#x} to private for GPA {:#x} failed with {}",
                        base_spa, base_gpa, rc);
    return PageSize::k4K;
  }
  if (big)  // the whole folio is prepared: every page of it is populated
    for (std::uint64_t a = base_gpa; a < base_gpa + k2M; a += 0x1000) m_gm.backing(a, true);
  // Pages the guest validated before the trace began (guest.accept) are
  // modelled as validated already: their PVALIDATE happened at boot (eager
  // acceptance validates all memory at boot, snp-semantics §4.7; the kernel's
  // page tables were built before the trace began). That PVALIDATE is
  // replayed here, the guest's VMPL0 one of the entry just assigned (§2.2),
  // so that the change goes through the instruction and its observers; it
  // costs the trace nothing, the boot not being part of it. A page
  // converted since then is not validated: the guest validates it itself.
  if (m_prevalidated(base_gpa) && !m_gm.ever_converted(base_gpa)) {
    const rmp::GuestInsnResult v = rmp::pvalidate(m_rmp, base_spa, base_gpa, s.size,
                                                  /*validate=*/true, m_p.guest_asid, /*vmpl=*/0);
    if (v.faulted() || v.rc != rmp::kSuccess || v.cf) {
      error = fmt::format("the boot-time PVALIDATE of GPA {:#x} (SPA {:#x}) failed: rc {}, CF {}, "
                          "fault {}",
                          base_gpa, base_spa, v.rc, v.cf, v.faulted());
      return PageSize::k4K;
    }
    // Under an SVSM the boot-time validation also granted the guest's VMPL
    // every permission (COCONUT-SVSM validate_fw_mem_region and
    // core_pvalidate_one, docs/snp-semantics.md §3.4).
    if (m_p.boot_grant_vmpl) {
      const rmp::GuestInsnResult g =
          rmp::rmpadjust(m_rmp, base_spa, base_gpa, s.size, m_p.boot_grant_vmpl, rmp::kPermAll,
                         /*vmsa=*/false, m_p.guest_asid, /*vmpl=*/0);
      if (g.faulted() || g.rc != rmp::kSuccess) {
        error = fmt::format("the boot-time RMPADJUST of GPA {:#x} to VMPL {} failed: rc {}",
                            base_gpa, m_p.boot_grant_vmpl, g.rc);
        return PageSize::k4K;
      }
    }
  }
  return s.size;
}

bool Hypervisor::convert_range(std::uint64_t gpa, std::uint64_t pages, bool to_private,
                               ConversionCost& cost, std::string& error,
                               std::uint64_t zap_align) {
  const std::uint64_t end = gpa + (pages << 12);
  std::uint64_t changed = 0;
  for (std::uint64_t a = gpa; a < end; a += 0x1000)
    if (m_gm.is_private(a) != to_private) {
      m_gm.set_private(a, to_private);
      ++changed;
    }
  if (!changed) return true;
  (to_private ? m_c.pages_to_private : m_c.pages_to_shared) += changed;
  auto failed = [&](const char* what, std::uint64_t spa, std::uint32_t rc) {
    error = fmt::format("{} of SPA {:#x} failed with {} while returning it to the host", what,
                        spa, rc);
    return false;
  };
  // Unmap and flush before the RMP returns pages to the host (§2.3).
  const std::uint64_t zap_lo = gpa & ~(zap_align - 1);
  zap(zap_lo, ((end + zap_align - 1) & ~(zap_align - 1)) - zap_lo);
  flush(cost);
  for (std::uint64_t a = gpa; a < end;) {
    if (to_private) {
      m_gm.discard(a, false);  // the shared page is stale now
      a += 0x1000;
      continue;
    }
    std::uint64_t spa = 0;
    if (!m_gm.find_backing(a, true, spa)) {
      a += 0x1000;
      continue;
    }
    const rmp::Governing g = m_rmp.governing(spa);
    if (g.entry.assigned && g.size == PageSize::k2M) {
      const std::uint64_t head_gpa = a & ~(k2M - 1), head_spa = spa & ~(k2M - 1);
      if (head_gpa >= gpa && head_gpa + k2M <= end && a == head_gpa) {
        // The whole 2M entry goes back at once (sev_gmem_invalidate, §4.2).
        rmp::RmpState shared;
        shared.size = PageSize::k2M;
        if (const std::uint32_t rc = rmp::rmpupdate(m_rmp, head_spa, shared); rc != rmp::kSuccess)
          return failed("RMPUPDATE (2M, to shared)", head_spa, rc);
        ++m_c.rmpupdate;
        cost.rmpupdate += m_p.rmpupdate_cycles;
        for (std::uint64_t p = head_gpa; p < head_gpa + k2M; p += 0x1000) {
          std::uint64_t pspa = 0;
          if (m_gm.find_backing(p, true, pspa) && m_clflush) cost.flush += m_clflush(pspa);
          m_gm.discard(p, true);
        }
        a = head_gpa + k2M;
        continue;
      }
      // Only part of the 2M entry is converted: smash it first.
      if (const std::uint32_t rc = rmp::psmash(m_rmp, head_spa); rc != rmp::kSuccess)
        return failed("PSMASH", head_spa, rc);
      ++m_c.psmash;
      cost.psmash += m_p.psmash_cycles;
    }
    if (m_rmp.governing(spa).entry.assigned) {
      if (const std::uint32_t rc = rmp::rmpupdate(m_rmp, spa & ~0xfffull, rmp::RmpState{});
          rc != rmp::kSuccess)
        return failed("RMPUPDATE (to shared)", spa & ~0xfffull, rc);
      ++m_c.rmpupdate;
      cost.rmpupdate += m_p.rmpupdate_cycles;
    }
    // guest_memfd pages are flushed before reuse (§1.7): the dirty lines are
    // written back, and the page's next user starts with cold misses.
    if (m_clflush) cost.flush += m_clflush(spa);
    m_gm.discard(a, true);
    a += 0x1000;
  }
  return true;
}

bool Hypervisor::userspace_convert(std::uint64_t gpa, std::uint64_t pages, bool to_private,
                                   ConversionCost& cost) {
  if (m_p.userspace_refuses) return false;
  cost.userspace += pages * m_p.userspace_page_cycles;
  std::string error;
  if (!convert_range(gpa & ~0xfffull, pages, to_private, cost, error)) {
    m_error = error;
    return false;
  }
  return true;
}

std::uint64_t Hypervisor::psc_msr(std::uint64_t ghcb_msr, ConversionCost& cost) {
  ++m_c.vmexits;
  ++m_c.psc_msr_requests;
  cost.exit += m_p.exit_cycles;
  const psc::MsrPscOutcome o = psc::kvm_msr_psc(ghcb_msr);
  if (!o.needs_exit) {
    ++m_c.psc_errors;
    return o.response;  // a bad op is answered at once (§6 row 21)
  }
  ++m_c.userspace_exits;
  ++m_c.map_gpa_range_exits;
  m_c.psc_pages += o.exit.npages;
  cost.userspace += m_p.userspace_cycles;
  const bool ok = userspace_convert(o.exit.gpa, o.exit.npages, o.exit.to_private(), cost);
  if (!ok) ++m_c.psc_errors;
  return psc::kvm_msr_psc_complete(ok ? 0 : 1);
}

GhcbPscResult Hypervisor::psc_ghcb(std::uint8_t* scratch, std::size_t len, ConversionCost& cost) {
  ++m_c.vmexits;
  ++m_c.psc_ghcb_requests;
  cost.exit += m_p.exit_cycles;
  psc::DecodeResult d = psc::decode(scratch, len);
  if (!d.ok) {
    ++m_c.psc_errors;
    return GhcbPscResult{d.sw_exitinfo1, d.sw_exitinfo2};
  }
  psc::Step step = m_psc.begin(d.buffer);
  while (step.needs_exit()) {
    ++m_c.userspace_exits;
    ++m_c.map_gpa_range_exits;
    m_c.psc_pages += step.exit.npages;
    cost.userspace += m_p.userspace_cycles;
    const bool ok =
        userspace_convert(step.exit.gpa, step.exit.npages, step.exit.to_private(), cost);
    step = m_psc.resume(ok ? 0 : 1);
  }
  if (step.sw_exitinfo2 != psc::kPscOk || step.sw_exitinfo1 != 0) ++m_c.psc_errors;
  psc::encode(d.buffer, scratch, len);  // the guest reads cur_entry / cur_page back
  return GhcbPscResult{step.sw_exitinfo1, step.sw_exitinfo2};
}

}  // namespace rmpsim::hypervisor
