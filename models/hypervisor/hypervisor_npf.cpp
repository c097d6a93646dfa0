// The hypervisor's nested page fault handling (docs/snp-semantics.md §4): a
// first touch faulted in, a private/shared mismatch resolved by the policy,
// an RMP fault on a page mapped larger than its RMP entry (PSMASH). The
// rest of the hypervisor (conversions, PSC, stats) is in hypervisor.cpp.
#include <fmt/format.h>

#include "models/common/x86_fault.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/rmp/rmp_instructions.hpp"

namespace rmpsim::hypervisor {

namespace pg = paging;
namespace pf = x86::pf;

namespace {
// Livelock guard (models/hypervisor/README.md, "Livelock guard"): PSMASH is
// retried while another CPU holds the entry (KVM loops, §6 row 14); nothing
// in this model releases an entry during the loop, so the loop is bounded
// and the failure reported, naming the guard.
constexpr unsigned kPsmashRetries = 64;

const char* kind_name(std::uint64_t code) {
  return code & pf::kFetch ? "fetch" : code & pf::kWrite ? "write" : "read";
}
}  // namespace

NpfResult Hypervisor::fault_in(std::uint64_t gpa, bool is_private) {
  NpfResult r;
  // Shared memory is ordinary host RAM in 4K pages; private memory comes
  // from guest_memfd folios, mapped no larger than its RMP level (§4.2).
  PageSize size = PageSize::k4K;
  if (is_private) {
    size = m_gm.folio_size();
    std::string error;
    const PageSize rmp_level = assign_private(gpa, r.cost, error);
    if (!error.empty()) {
      r.reason = error;
      return r;
    }
    if (rmp_level < size) size = rmp_level;
  }
  const std::uint64_t base = gpa & ~(page_bytes(size) - 1);
  // Never cover smaller mappings (other attributes) with a large leaf.
  if (m_npt.map(m_ncr3, base, m_gm.backing(base, is_private), size, pg::kWritable | pg::kUser,
                /*replace_smaller=*/false) != pg::MapStatus::Ok) {
    size = PageSize::k4K;
    const std::uint64_t page = gpa & ~0xfffull;
    m_npt.map(m_ncr3, page, m_gm.backing(page, is_private), size, pg::kWritable | pg::kUser);
  }
  ++m_c.npt_maps;
  r.cost.npt += m_p.npt_map_cycles;
  r.resolved = true;
  return r;
}

NpfResult Hypervisor::mismatch(std::uint64_t gpa, bool access_private, std::uint64_t exitinfo1) {
  ++m_c.npf_mismatch;
  NpfResult r;
  r.to_private = access_private;
  const std::uint64_t page = gpa & ~0xfffull;
  const std::string what =
      fmt::format("{} {} of GPA {:#x}, whose memory attribute is {}",
                  access_private ? "private" : "shared", kind_name(exitinfo1), gpa,
                  access_private ? "shared" : "private");
  switch (m_p.policy) {
    case Policy::Terminate:
      r.reason = fmt::format("implicit conversion refused (hypervisor.policy=terminate): {}; "
                             "conversions must use Page State Change",
                             what);
      return r;
    case Policy::ExitToUserspace:
      // KVM_EXIT_MEMORY_FAULT {gpa, 4096, PRIVATE flag} (§4.1 step 2).
      ++m_c.userspace_exits;
      ++m_c.memory_fault_exits;
      r.cost.userspace += m_p.userspace_cycles;
      if (!userspace_convert(page, 1, access_private, r.cost)) {
        r.reason = m_error.empty()
                       ? fmt::format("userspace refused the conversion (KVM_EXIT_MEMORY_FAULT): {}",
                                     what)
                       : m_error;
        m_error.clear();
        return r;
      }
      r.conversion = true;
      r.resolved = true;  // the guest re-faults and the page is faulted in
      return r;
    case Policy::AutoConvert: {
      // The RFC design: the kernel converts and maps the page in the same
      // exit, and always zaps the whole 2M GFN range so that the NPT is
      // rebuilt at the new RMP size (snp-semantics §4.4).
      std::string error;
      if (!convert_range(page, 1, access_private, r.cost, error, k2M)) {
        r.reason = error;
        return r;
      }
      NpfResult in = fault_in(page, access_private);
      r.cost += in.cost;
      r.conversion = true;
      r.resolved = in.resolved;
      r.reason = in.reason;
      return r;
    }
  }
  return r;
}

NpfResult Hypervisor::rmp_fault(std::uint64_t gpa, std::uint64_t exitinfo1) {
  const bool access_private = exitinfo1 & pf::kEncrypted;
  if (m_gm.is_private(gpa) != access_private) return mismatch(gpa, access_private, exitinfo1);
  NpfResult r;
  // sev_handle_rmp_fault warns (pr_warn_ratelimited) and returns without
  // touching anything when the GFN is not private, has no guest_memfd page,
  // or its page has no assigned RMP entry (snp-semantics §4.1 step 4,
  // arch/x86/kvm/svm/sev.c): the guest simply re-executes. Counted in
  // npf_rmp_unexpected; never a termination by the hypervisor.
  auto warn_and_skip = [&] {
    ++m_c.npf_rmp_unexpected;
    r.resolved = true;
    return r;
  };
  if (!access_private) return warn_and_skip();  // the attribute is shared
  std::uint64_t spa = 0;
  if (!backing_of(gpa, spa)) return warn_and_skip();
  if (exitinfo1 & pf::kVmpl) {
    ++m_c.npf_vmpl;
    r.reason = fmt::format("RMP #NPF at GPA {:#x}: VMPL permission violation (EXITINFO1 {:#x})",
                           gpa, exitinfo1);
    return r;
  }
  const rmp::Governing g = m_rmp.governing(spa);
  if (!g.entry.assigned) return warn_and_skip();
  const bool owned = !g.entry.immutable && g.entry.asid == m_p.guest_asid &&
                     g.page_gpa == (gpa & ~0xfffull);
  if (!owned) {
    r.reason = fmt::format("RMP #NPF at GPA {:#x} (EXITINFO1 {:#x}) that matches its attribute: "
                           "the RMP and KVM's memory attributes disagree",
                           gpa, exitinfo1);
    return r;
  }
  // The page is the guest's: a size mismatch (§4.1 step 4).
  if (g.size == PageSize::k4K) {
    ++m_c.npf_rmp_spurious;  // another vCPU already smashed it (§6 row 12)
    r.resolved = true;
    return r;
  }
  const std::uint64_t head = spa & ~(k2M - 1);
  std::uint32_t rc = rmp::kFailInUse;
  for (unsigned i = 0; i < kPsmashRetries && rc == rmp::kFailInUse; ++i) {
    rc = rmp::psmash(m_rmp, head);
    ++m_c.psmash;
    r.cost.psmash += m_p.psmash_cycles;
    if (rc == rmp::kFailInUse) ++m_c.psmash_inuse_retries;
  }
  if (rc != rmp::kSuccess && rc != rmp::kPsmashNotEligible) {
    r.reason = fmt::format("PSMASH of SPA {:#x} failed with {} after {} tries (livelock guard "
                           "kPsmashRetries)",
                           head, rc, kPsmashRetries);
    return r;
  }
  ++m_c.npf_rmp_size;
  zap(gpa & ~(k2M - 1), k2M);
  flush(r.cost);
  r.resolved = true;
  return r;
}

NpfResult Hypervisor::handle_npf(unsigned /*vcpu*/, std::uint64_t gpa, std::uint64_t exitinfo1) {
  ++m_c.vmexits;
  ++m_c.npf_total;
  NpfResult r;
  const bool access_private = exitinfo1 & pf::kEncrypted;
  if (!(exitinfo1 & pf::kPresent)) {
    ++m_c.npf_not_present;
    // KVM compares the access with the GFN's attribute first (§4.6 steps 1-3).
    r = m_gm.is_private(gpa) != access_private ? mismatch(gpa, access_private, exitinfo1)
                                               : fault_in(gpa, access_private);
  } else if (exitinfo1 & pf::kRmp) {
    ++m_c.npf_rmp;
    r = rmp_fault(gpa, exitinfo1);
  } else {
    // Every NPT leaf this hypervisor installs is readable, writable and
    // executable, so a plain protection #NPF means the model lost track.
    r.reason = fmt::format("unexpected #NPF on a present NPT entry at GPA {:#x} (EXITINFO1 {:#x})",
                           gpa, exitinfo1);
  }
  r.cost.exit += m_p.exit_cycles;
  r.cycles = r.cost.total();
  return r;
}

}  // namespace rmpsim::hypervisor
