#pragma once
// One trace event, as read from any trace form (text, binary, zstd, lackey).
// The contract for the text form is docs/trace-format.md (and
// ../shared/design/TRACE-FORMAT.md); this struct is its in-memory shape.
//
// The struct is flat and trivially copyable on purpose: readers fill it in a
// tight loop (tens of millions of events per second), so there is no
// allocation and no variant. Which fields mean what depends on `op`; the
// table below is the single place that says so.
//
//   op            addr              size        gpa     len       attrs
//   Read..Modify  GVA               bytes (>=1) -       -         -
//   Delay         -                 -           -       cycles    -
//   Map           GVA               -           GPA     bytes     MapAttr bits + PageSize
//   Unmap         GVA               -           -       bytes     -
//   Pvalidate     GVA               -           -       -         PageSize + kPvalidateValidate
//   Rmpadjust     GVA               -           -       -         PageSize + vmpl<<8 + perm bits
//   Vmpl          level (0..3)      -           -       -         -
//   Psc           -                 -           -       -         PscProto + PscOp<<4; entries in psc
//   Convert       GVA               -           -       bytes     kConvertToPrivate or 0
//   HostRead/Write GPA              bytes (>=1) -       -         -
//   HostMemRead/Write SPA           bytes (>=1) -       -         -
//   Roi           -                 -           -       -         kRoiEnd or 0 (begin)
//   Rmpopt        -                 -           -       -         kRmpoptNow or 0 (rescan)
#include <cstdint>
#include <string_view>

namespace rmpsim::trace {

enum class Op : std::uint8_t {
  Read = 0,
  Write = 1,
  Exec = 2,
  Modify = 3,
  Delay = 4,
  Map = 5,
  Unmap = 6,
  Pvalidate = 7,
  Rmpadjust = 8,
  Vmpl = 9,
  Psc = 10,
  Convert = 11,
  HostRead = 12,
  HostWrite = 13,
  Roi = 14,  // ROI begin/end: the measured region (docs/trace-format.md)
  // HMEM R|W: the host's own memory, by system-physical address (issue 19).
  HostMemRead = 15,
  HostMemWrite = 16,
  Rmpopt = 17,  // RMPOPT rescan|now: the host asks for an RMPOPT pass
};
inline constexpr int kOpCount = 18;

// The text keyword of an op ("R", "MAP", "HOST" for both host ops, "HMEM"
// for both host-memory ops, ...).
std::string_view op_name(Op op);

inline bool is_guest_access(Op op) { return op <= Op::Modify; }
inline bool is_host_access(Op op) { return op == Op::HostRead || op == Op::HostWrite; }
inline bool is_host_mem_access(Op op) { return op == Op::HostMemRead || op == Op::HostMemWrite; }
// Any op whose operands are <addr> [size] (the access fast paths).
inline bool is_sized_access(Op op) {
  return is_guest_access(op) || is_host_access(op) || is_host_mem_access(op);
}

enum class PageSize : std::uint8_t { k4K = 0, k2M = 1, k1G = 2 };
inline constexpr std::uint64_t page_bytes(PageSize s) {
  return s == PageSize::k4K ? 0x1000ull : s == PageSize::k2M ? 0x200000ull : 0x40000000ull;
}
std::string_view page_size_name(PageSize s);  // "4k", "2m", "1g"

// attrs bits. The low two bits hold a PageSize wherever an op has one.
inline constexpr std::uint32_t kPageSizeMask = 0x3;
inline PageSize attr_page_size(std::uint32_t attrs) { return PageSize(attrs & kPageSizeMask); }

// MAP attributes (text: comma list; default private,4k,rw,nx).
inline constexpr std::uint32_t kMapShared = 1u << 2;    // C-bit clear
inline constexpr std::uint32_t kMapReadOnly = 1u << 3;  // "ro" (default "rw")
inline constexpr std::uint32_t kMapExec = 1u << 4;      // "x" (default "nx")

// PVALIDATE: validate (1) or rescind (0).
inline constexpr std::uint32_t kPvalidateValidate = 1u << 2;

// RMPADJUST: target VMPL in bits 8..9, permission bits as in the RMPADJUST
// operand (snp-semantics §2.2: bit 8 R, 9 W, 10 Xu, 11 Xs, 16 VMSA) shifted
// down to 16..20 here.
inline constexpr std::uint32_t kRmpadjustVmplShift = 8;
inline constexpr std::uint32_t kPermR = 1u << 16;
inline constexpr std::uint32_t kPermW = 1u << 17;
inline constexpr std::uint32_t kPermXu = 1u << 18;
inline constexpr std::uint32_t kPermXs = 1u << 19;
inline constexpr std::uint32_t kPermVmsa = 1u << 20;
inline constexpr std::uint32_t kPermMask = kPermR | kPermW | kPermXu | kPermXs | kPermVmsa;
inline unsigned rmpadjust_vmpl(std::uint32_t attrs) { return (attrs >> kRmpadjustVmplShift) & 0x3; }

// CONVERT direction.
inline constexpr std::uint32_t kConvertToPrivate = 1u << 2;

// ROI: the line ends the measured region (else it begins it).
inline constexpr std::uint32_t kRoiEnd = 1u << 0;

// RMPOPT: scan now (the on-demand trigger); else a delayed re-scan request,
// as KVM makes after a guest's teardown.
inline constexpr std::uint32_t kRmpoptNow = 1u << 0;

// PSC: protocol in bits 0..3, operation (GHCB op codes, snp-semantics §3.2) in 4..7.
enum class PscProto : std::uint8_t { Msr = 0, Ghcb = 1 };
enum class PscOp : std::uint8_t { Private = 1, Shared = 2, Psmash = 3, Unsmash = 4 };
inline PscProto psc_proto(std::uint32_t attrs) { return PscProto(attrs & 0xf); }
inline PscOp psc_op(std::uint32_t attrs) { return PscOp((attrs >> 4) & 0xf); }
inline std::uint32_t psc_attrs(PscProto p, PscOp o) {
  return std::uint32_t(p) | (std::uint32_t(o) << 4);
}
inline constexpr unsigned kPscMaxEntries = 253;  // GHCB descriptor limit, snp-semantics §3.2

struct PscEntry {
  std::uint64_t gpa;  // page-aligned to its size
  PageSize size;
  bool operator==(const PscEntry& o) const { return gpa == o.gpa && size == o.size; }
};

struct Event {
  Op op = Op::Read;
  std::uint16_t vcpu = 0;
  std::uint32_t size = 0;
  std::uint64_t addr = 0;
  std::uint64_t gpa = 0;
  std::uint64_t len = 0;
  std::uint32_t attrs = 0;
  // PSC entries live in the reader's buffer and stay valid until the next
  // call to Reader::next(). psc_count is 1 for msr, 1..253 for ghcb.
  std::uint16_t psc_count = 0;
  const PscEntry* psc = nullptr;

  // Field-wise equality, PSC entries compared by value (for round-trip tests).
  bool operator==(const Event& o) const;
  bool operator!=(const Event& o) const { return !(*this == o); }
};

}  // namespace rmpsim::trace
