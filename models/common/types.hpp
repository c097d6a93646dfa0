#pragma once
// Small types shared by the model blocks.
#include <cstdint>

#include "models/common/page_size.hpp"

namespace rmpsim {

// Access kinds as the translation path sees them (snp-semantics §1.4 "which
// guest accesses are private").
enum class AccessKind : std::uint8_t { Read = 0, Write = 1, Fetch = 2 };

inline std::uint64_t align_down(std::uint64_t a, std::uint64_t size) { return a & ~(size - 1); }

}  // namespace rmpsim
