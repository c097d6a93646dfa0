#pragma once
// The binary trace form (.rmpb), docs/trace-format.md "Binary form".
//
// Header, 16 bytes:
//   magic "\x89RMPB\r\n\x1a" | u16 version (1) | u16 flags (0) | u32 reserved (0)
// Records: a 16-byte head, then a tail that depends on op.
//   head: u8 op | u8 reserved (0) | u16 vcpu | u32 x | u64 a
//   op                      x             a                tail
//   R W X M HOST-R HOST-W   size (>= 1)   address          -
//   HMEM-R HMEM-W           size (>= 1)   address (SPA)    -
//   D                       0             cycles           -
//   ROI RMPOPT              attrs         0                -
//   VMPL                    0             level (0..3)     -
//   PVALIDATE RMPADJUST     attrs         gva              -
//   UNMAP                   0             gva              u64 len
//   CONVERT                 attrs         gva              u64 len
//   MAP                     attrs         gva              u64 gpa, u64 len
//   PSC                     attrs         entry count      count x u64 (gpa | size code)
// `attrs` are Event::attrs bit for bit; all integers are little-endian.
//
// The magic's first byte has the high bit set and its CR LF / ^Z catch text-
// mode mangling, as PNG's does; it can never begin a text trace or a zstd
// frame, so stdin can be sniffed.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "traces/event.hpp"

namespace rmpsim::trace::binfmt {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the binary trace form is little-endian and loaded with memcpy");

inline constexpr char kMagic[8] = {'\x89', 'R', 'M', 'P', 'B', '\r', '\n', '\x1a'};
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::size_t kHeadBytes = 16;
// PSC entry: the gpa is aligned to its page size, so its low 12 bits are free;
// bits 0..1 hold the PageSize code, bits 2..11 must be zero.
inline constexpr std::uint64_t kEntrySizeMask = 0x3;
inline constexpr std::uint64_t kEntryReservedMask = 0xffc;
inline constexpr std::size_t kMaxRecordBytes = kHeadBytes + 8 * kPscMaxEntries;

// Ops whose record is only the 16-byte head with x = size: the fast path.
inline constexpr std::uint32_t kAccessOpMask =
    (1u << unsigned(Op::Read)) | (1u << unsigned(Op::Write)) | (1u << unsigned(Op::Exec)) |
    (1u << unsigned(Op::Modify)) | (1u << unsigned(Op::HostRead)) | (1u << unsigned(Op::HostWrite)) |
    (1u << unsigned(Op::HostMemRead)) | (1u << unsigned(Op::HostMemWrite));

// Bytes after the head for ops with a fixed tail (PSC: see entry count).
inline std::size_t tail_bytes(Op op) {
  switch (op) {
    case Op::Map:
      return 16;
    case Op::Unmap:
    case Op::Convert:
      return 8;
    default:
      return 0;
  }
}

inline std::uint16_t load16(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline std::uint32_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline unsigned char* store16(unsigned char* p, std::uint16_t v) {
  std::memcpy(p, &v, 2);
  return p + 2;
}
inline unsigned char* store32(unsigned char* p, std::uint32_t v) {
  std::memcpy(p, &v, 4);
  return p + 4;
}
inline unsigned char* store64(unsigned char* p, std::uint64_t v) {
  std::memcpy(p, &v, 8);
  return p + 8;
}

}  // namespace rmpsim::trace::binfmt
