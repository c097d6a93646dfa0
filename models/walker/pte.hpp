#pragma once
// x86-64 long-mode page-table entry format, used by both dimensions: the
// guest page tables and AMD's nested page tables share it.
#include <cstdint>

#include "models/common/types.hpp"

namespace rmpsim::paging {

inline constexpr std::uint64_t kPresent = 1ull << 0;
inline constexpr std::uint64_t kWritable = 1ull << 1;
inline constexpr std::uint64_t kUser = 1ull << 2;
inline constexpr std::uint64_t kAccessed = 1ull << 5;
inline constexpr std::uint64_t kDirty = 1ull << 6;
inline constexpr std::uint64_t kLarge = 1ull << 7;  // PS: leaf at level 2 (2M) or 3 (1G)
inline constexpr std::uint64_t kNoExec = 1ull << 63;
// SEV C-bit in guest PTEs. Zen 3 and Zen 4 EPYC report position 51 in CPUID
// 0x8000001F EBX[5:0] (general knowledge; the spec digest does not list it).
// Physical addresses are therefore limited to 51 bits.
inline constexpr unsigned kCbitPosition = 51;
inline constexpr std::uint64_t kCbit = 1ull << kCbitPosition;
inline constexpr std::uint64_t kAddrMask = ((1ull << kCbitPosition) - 1) & ~0xfffull;
inline constexpr std::uint64_t kMaxPhysAddr = (1ull << kCbitPosition) - 1;

// Levels and their sizes: models/common/page_size.hpp.
inline unsigned index_at(std::uint64_t va, unsigned level) {
  return static_cast<unsigned>((va >> level_shift(level)) & 511);
}
// Virtual address width covered by `levels` levels (48 or 57).
inline unsigned va_bits(unsigned levels) { return level_shift(levels + 1); }

inline std::uint64_t entry_addr(std::uint64_t pte) { return pte & kAddrMask; }
inline bool is_leaf(std::uint64_t pte, unsigned level) {
  return level == 1 || (level <= 3 && (pte & kLarge));
}
// The address `va` translates to through the leaf entry `pte` at `level`.
inline std::uint64_t leaf_address(std::uint64_t pte, unsigned level, std::uint64_t va) {
  const std::uint64_t offset = level_bytes(level) - 1;
  return (entry_addr(pte) & ~offset) | (va & offset);
}

}  // namespace rmpsim::paging
