#pragma once
// Page sizes and the x86-64 page-table geometry behind them: the one place
// that knows a level-L entry maps 2^(12 + 9 (L-1)) bytes. The models' own
// type; trace events carry the trace library's, converted where they enter
// the models (guest/trace_feed.hpp).
#include <cstdint>
#include <string_view>

namespace rmpsim {

enum class PageSize : std::uint8_t { k4K = 0, k2M = 1, k1G = 2 };
inline constexpr unsigned kPageSizes = 3;

// Level 1 holds 4K leaves, 2 the 2M leaves or page tables, 3 the 1G leaves
// or page directories, 4 (and 5 with LA57) only table pointers. An entry of
// level `level` maps (a table or a page of) 2^level_shift(level) bytes.
inline constexpr unsigned level_shift(unsigned level) { return 12 + 9 * (level - 1); }
inline constexpr std::uint64_t level_bytes(unsigned level) { return 1ull << level_shift(level); }

// The level of a leaf of size `s`, and the size of a leaf at `level` (1..3).
inline constexpr unsigned leaf_level(PageSize s) { return static_cast<unsigned>(s) + 1; }
inline constexpr PageSize size_at_level(unsigned level) { return PageSize(level - 1); }

inline constexpr unsigned page_shift(PageSize s) { return level_shift(leaf_level(s)); }
inline constexpr std::uint64_t page_bytes(PageSize s) { return 1ull << page_shift(s); }

// "4k", "2m", "1g" (config values and event-log text).
inline std::string_view page_size_name(PageSize s) {
  return s == PageSize::k4K ? "4k" : s == PageSize::k2M ? "2m" : "1g";
}

}  // namespace rmpsim
