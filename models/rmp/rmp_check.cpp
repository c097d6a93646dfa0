#include "models/rmp/rmp_check.hpp"

#include "models/walker/nested_walker.hpp"

namespace rmpsim::rmp {

namespace {
std::uint8_t required_perm(AccessKind k) {
  // Trace accesses are user-mode, so a fetch needs execute-user.
  return k == AccessKind::Write ? kPermW : k == AccessKind::Fetch ? kPermXu : kPermR;
}
}  // namespace

CheckOutcome check_guest_access(const RmpTable& rmp, const GuestAccess& a,
                                const CheckOptions& opt) {
  CheckOutcome out;
  const Governing g = rmp.governing(a.spa);
  const RmpEntry& e = g.entry;
  auto npf = [&](std::uint64_t extra = 0) {
    out.result = CheckResult::Npf;
    out.npf_bits = walker::pf::kRmp | extra;
    return out;
  };
  if (!a.is_private) {
    // Shared access: only a hypervisor-owned page will do (§1.4).
    return e.assigned ? npf() : out;
  }
  // Private access, in the order of §1.4.
  if (!e.assigned || e.immutable || e.asid != a.asid) return npf();
  if (g.page_gpa != (a.gpa & ~0xfffull)) return npf();
  // §1.5: an NPT mapping smaller than the 2M RMP entry faults (the
  // hypervisor must PSMASH); the reverse is UNKNOWN (option).
  if (g.size == PageSize::k2M && a.nested_size == PageSize::k4K) return npf();
  if (g.size == PageSize::k4K && a.nested_size != PageSize::k4K && opt.npt_larger_than_rmp_faults)
    return npf();
  if (!e.validated) {
    if (a.gpt && opt.gpt_not_validated_is_npf) return npf();
    out.result = CheckResult::NotValidated;
    return out;
  }
  if (!(e.perms[a.vmpl & 3] & required_perm(a.kind))) return npf(walker::pf::kVmpl);
  out.perms = e.perms[a.vmpl & 3];
  return out;
}

bool host_write_faults(const RmpTable& rmp, std::uint64_t spa, PageSize host_mapping) {
  if (rmp.governing(spa).entry.assigned) return true;
  return host_mapping != PageSize::k4K && rmp.assigned_in_region(spa) != 0;
}

}  // namespace rmpsim::rmp
