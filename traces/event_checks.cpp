#include "traces/event_checks.hpp"

#include <fmt/format.h>

namespace rmpsim::trace {
namespace {

std::string hex(std::uint64_t v) { return fmt::format("{:#x}", v); }

// `what` is aligned to the page size `ps`.
std::string check_aligned(const char* what, std::uint64_t v, PageSize ps) {
  std::uint64_t bytes = page_bytes(ps);
  if (v & (bytes - 1))
    return fmt::format("expected {} to be aligned to {} ({:#x}), got {:#x}", what,
                       page_size_name(ps), bytes, v);
  return "";
}

// [base, base + len) lies below the guest-physical limit (len >= 1, no wrap).
std::string check_gpa_range(const char* what, std::uint64_t base, std::uint64_t len) {
  if (base + (len - 1) >= kGpaLimit)
    return fmt::format("expected {} range [{}, {}) to lie below 2^51 (guest-physical "
                       "addresses have 51 bits: bit 51 of a guest PTE is the C-bit)",
                       what, hex(base), hex(base + len));
  return "";
}

// [base, base + len) lies below the system-physical limit (len >= 1, no wrap).
std::string check_spa_range(const char* what, std::uint64_t base, std::uint64_t len) {
  if (base + (len - 1) >= kSpaLimit)
    return fmt::format("expected {} range [{}, {}) to lie below 2^51 (the simulated "
                       "system-physical address space)",
                       what, hex(base), hex(base + len));
  return "";
}

// [base, base + len) is canonical at both ends (len >= 1, no wrap).
std::string check_va_range(const char* what, std::uint64_t base, std::uint64_t len) {
  if (!canonical_va(base) || !canonical_va(base + (len - 1)))
    return fmt::format("expected {} range [{}, {}) to be canonical (bits 63..56 of every "
                       "address equal; x86-64 with 5-level paging)",
                       what, hex(base), hex(base + len));
  return "";
}

// A range [base, base + len) of whole pages that does not wrap.
std::string check_range(const char* what, std::uint64_t base, std::uint64_t len, PageSize ps) {
  std::uint64_t bytes = page_bytes(ps);
  if (len == 0 || (len & (bytes - 1)))
    return fmt::format("expected <len> to be a non-zero multiple of {} ({:#x}), got {:#x}",
                       page_size_name(ps), bytes, len);
  if (base + (len - 1) < base)  // the range may end exactly at 2^64
    return fmt::format("expected {} + <len> to be at most 2^64, got {} + {}", what, hex(base),
                       hex(len));
  return "";
}

// Where an access's bytes lie: within 2^64, and canonical (guest) or below
// the guest-physical limit (host).
std::string check_access_range(const Event& ev) {
  const std::uint64_t last = ev.addr + (ev.size - 1);
  const char* what = address_name(ev.op);
  if (last < ev.addr)
    return fmt::format("expected {} + <size> to be at most 2^64, got {} + {}", what, hex(ev.addr),
                       ev.size);
  if (is_host_mem_access(ev.op)) return check_spa_range("<spa>", ev.addr, ev.size);
  if (is_host_access(ev.op)) return check_gpa_range("<gpa>", ev.addr, ev.size);
  return check_va_range("<gva>", ev.addr, ev.size);
}

std::string check_bits(const char* what, std::uint32_t attrs, std::uint32_t allowed) {
  if (attrs & ~allowed)
    return fmt::format("expected no {} bits outside {:#x}, got {:#x}", what, allowed, attrs);
  return "";
}

// PVALIDATE, RMPADJUST and PSC entries name 4K or 2M pages only (snp-semantics
// §2: the RMP has no 1G entries).
std::string check_4k_2m(PageSize ps) {
  if (ps != PageSize::k4K && ps != PageSize::k2M)
    return fmt::format("expected page size 4k or 2m, got code {}", unsigned(ps));
  return "";
}

std::string check_psc(const Event& ev) {
  if (std::string e = check_bits("PSC attribute", ev.attrs, 0xff); !e.empty()) return e;
  PscProto proto = psc_proto(ev.attrs);
  PscOp op = psc_op(ev.attrs);
  if (proto != PscProto::Msr && proto != PscProto::Ghcb)
    return fmt::format("expected PSC protocol msr (0) or ghcb (1), got {}", unsigned(proto));
  if (unsigned(op) < 1 || unsigned(op) > 4)
    return fmt::format("expected PSC op private (1), shared (2), psmash (3) or unsmash (4), got {}",
                       unsigned(op));
  // The MSR protocol carries one 4K GFN and no size (GHCB spec, SNP Page
  // State Change MSR request); a GHCB descriptor holds at most 253 entries.
  if (proto == PscProto::Msr && ev.psc_count != 1)
    return fmt::format("expected exactly one PSC entry for msr, got {}", ev.psc_count);
  if (ev.psc_count < 1 || ev.psc_count > kPscMaxEntries)
    return fmt::format("expected 1..{} PSC entries for ghcb, got {}", kPscMaxEntries, ev.psc_count);
  for (unsigned i = 0; i < ev.psc_count; ++i) {
    const PscEntry& e = ev.psc[i];
    if (std::string m = check_4k_2m(e.size); !m.empty()) return m;
    if (proto == PscProto::Msr && e.size != PageSize::k4K)
      return fmt::format("expected a 4k PSC entry for msr, got {}", page_size_name(e.size));
    if (std::string m = check_aligned("PSC entry <gpa>", e.gpa, e.size); !m.empty()) return m;
    if (std::string m = check_gpa_range("PSC entry <gpa>", e.gpa, page_bytes(e.size)); !m.empty())
      return m;
  }
  return "";
}

}  // namespace

std::string check_event(const Event& ev) {
  switch (ev.op) {
    case Op::Read:
    case Op::Write:
    case Op::Exec:
    case Op::Modify:
    case Op::HostRead:
    case Op::HostWrite:
    case Op::HostMemRead:
    case Op::HostMemWrite:
      if (ev.size == 0) return "expected <size> to be at least 1, got 0";
      return check_access_range(ev);
    case Op::Delay:
      return "";
    case Op::Map: {
      if (std::string e = check_bits("MAP attribute", ev.attrs,
                                     kPageSizeMask | kMapShared | kMapReadOnly | kMapExec);
          !e.empty())
        return e;
      PageSize ps = attr_page_size(ev.attrs);
      if (unsigned(ps) > 2) return "expected MAP page size 4k, 2m or 1g, got code 3";
      if (std::string e = check_aligned("<gva>", ev.addr, ps); !e.empty()) return e;
      if (std::string e = check_aligned("<gpa>", ev.gpa, ps); !e.empty()) return e;
      if (std::string e = check_range("<gva>", ev.addr, ev.len, ps); !e.empty()) return e;
      if (std::string e = check_range("<gpa>", ev.gpa, ev.len, ps); !e.empty()) return e;
      if (std::string e = check_va_range("<gva>", ev.addr, ev.len); !e.empty()) return e;
      return check_gpa_range("<gpa>", ev.gpa, ev.len);
    }
    case Op::Unmap:
    case Op::Convert: {
      // Mappings and conversions are whole 4K pages (the smallest page).
      std::uint32_t allowed = ev.op == Op::Convert ? kConvertToPrivate : 0;
      if (std::string e = check_bits(ev.op == Op::Convert ? "CONVERT attribute" : "UNMAP attribute",
                                     ev.attrs, allowed);
          !e.empty())
        return e;
      if (std::string e = check_aligned("<gva>", ev.addr, PageSize::k4K); !e.empty()) return e;
      if (std::string e = check_range("<gva>", ev.addr, ev.len, PageSize::k4K); !e.empty())
        return e;
      return check_va_range("<gva>", ev.addr, ev.len);
    }
    case Op::Pvalidate:
      if (std::string e =
              check_bits("PVALIDATE attribute", ev.attrs, kPageSizeMask | kPvalidateValidate);
          !e.empty())
        return e;
      if (std::string e = check_4k_2m(attr_page_size(ev.attrs)); !e.empty()) return e;
      return check_va_range("<gva>", ev.addr, 1);
    case Op::Rmpadjust:
      if (std::string e = check_bits("RMPADJUST attribute", ev.attrs,
                                     kPageSizeMask | (3u << kRmpadjustVmplShift) | kPermMask);
          !e.empty())
        return e;
      if (std::string e = check_4k_2m(attr_page_size(ev.attrs)); !e.empty()) return e;
      return check_va_range("<gva>", ev.addr, 1);
    case Op::Vmpl:
      if (ev.addr > 3) return fmt::format("expected <vmpl> to be 0..3, got {}", ev.addr);
      return "";
    case Op::Psc:
      return check_psc(ev);
    case Op::Roi:
      return check_bits("ROI attribute", ev.attrs, kRoiEnd);
    case Op::Rmpopt:
      return check_bits("RMPOPT attribute", ev.attrs, kRmpoptNow);
  }
  return fmt::format("expected an op code 0..{}, got {}", kOpCount - 1, unsigned(ev.op));
}

}  // namespace rmpsim::trace
