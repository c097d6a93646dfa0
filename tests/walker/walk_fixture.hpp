#pragma once
// A tiny two-dimensional paging world for walker tests: guest tables in a
// guest-physical store, nested tables in a host store, simple bump
// allocators, and helpers to map both dimensions.
#include <cstdint>

#include "models/walker/nested_walker.hpp"
#include "models/walker/page_table.hpp"
#include "models/walker/walker_params.hpp"
#include "support/config_params.hpp"

namespace rmpsim::test {

// Read/write user permissions, as the tests map both dimensions.
inline constexpr std::uint64_t kRw = paging::kWritable | paging::kUser;

// Walker parameters with every walk cache off (every walk is cold).
inline walker::WalkerParams no_caches(unsigned guest_levels = 4, unsigned nested_levels = 4) {
  return walker::walker_params_from(config_with({{"walker.guest_levels", guest_levels},
                                                 {"walker.nested_levels", nested_levels},
                                                 {"walker.pwc.entries", 0},
                                                 {"walker.ntlb.entries", 0},
                                                 {"walker.npwc.entries", 0}}),
                                    kClock);
}

struct PagingWorld {
  memory::PhysStore gmem, hmem;
  std::uint64_t next_gpt_gpa = 0x10000000;    // guest page-table pages (GPA)
  std::uint64_t next_npt_spa = 0x700000000;   // nested page-table pages (SPA)
  paging::PageTableEditor gpt, npt;
  std::uint64_t gcr3, ncr3;

  PagingWorld(unsigned glevels = 4, unsigned nlevels = 4)
      : gpt(gmem, glevels, [this] { return next_gpt_gpa += 0x1000; },
            paging::kWritable | paging::kUser | paging::kCbit),
        npt(hmem, nlevels, [this] { return next_npt_spa += 0x1000; },
            paging::kWritable | paging::kUser),
        gcr3(gpt.new_root()),
        ncr3(npt.new_root()) {}

  // Backs every guest page-table page allocated so far with nested 4K
  // mappings GPA -> SPA (GPA + 0x100000000).
  void back_guest_tables() {
    for (std::uint64_t g = 0x10001000; g <= next_gpt_gpa; g += 0x1000)
      npt.map(ncr3, g, g + 0x100000000, PageSize::k4K, paging::kWritable | paging::kUser);
  }

  walker::WalkRequest req(std::uint64_t gva, AccessKind k = AccessKind::Read) const {
    walker::WalkRequest r;
    r.gva = gva;
    r.kind = k;
    r.asid = 1;
    r.gcr3 = gcr3;
    r.ncr3 = ncr3;
    return r;
  }
};

}  // namespace rmpsim::test
