#include "models/walker/walker_params.hpp"

namespace rmpsim::walker {

void walker_schema(SchemaBuilder& b) {
  b.int_key("walker.guest_levels", 4, 4, 5, "levels", "Guest page-table levels (5 = LA57)",
            "x86-64 4-level paging");
  b.int_key("walker.nested_levels", 4, 4, 5, "levels", "Nested page-table levels",
            "KVM's default 4-level NPT");
  b.int_key("walker.pwc.entries", 16, 0, 1 << 16, "entries per level",
            "Guest page-walk cache: entries for each upper guest level (PML5/PML4, "
            "PDPT, PD); 0 disables it",
            "assumption: Bhargava et al. page-walk cache [BHAR08]; AMD's sizes are "
            "not public");
  b.int_key("walker.pwc.ways", 16, 1, 1 << 16, "ways", "Guest page-walk cache ways",
            "assumption: fully associative");
  b.int_key("walker.ntlb.entries", 64, 0, 1 << 20, "entries",
            "Nested TLB (GPA -> SPA) entries; 0 disables it",
            "assumption: nested TLB of [BHAR08]; AMD's size is not public");
  b.int_key("walker.ntlb.ways", 4, 1, 1 << 20, "ways", "Nested TLB ways", "assumption");
  b.int_key("walker.cache_hit_cycles", 2, 0, 1000, "cycles",
            "Latency of a page-walk cache or nested TLB hit during a walk", "assumption");
  b.multiple_of("walker.pwc.entries", "walker.pwc.ways");
  b.multiple_of("walker.ntlb.entries", "walker.ntlb.ways");
}

// walker.cache_hit_cycles is timing: the MMU module charges it
// (mmu::mmu_timing_from).
WalkerParams walker_params_from(const Config& c, const Clock&) {
  WalkerParams p;
  p.guest_levels = static_cast<unsigned>(c.get_int("walker.guest_levels"));
  p.nested_levels = static_cast<unsigned>(c.get_int("walker.nested_levels"));
  p.pwc_entries = static_cast<unsigned>(c.get_int("walker.pwc.entries"));
  p.pwc_ways = static_cast<unsigned>(c.get_int("walker.pwc.ways"));
  p.ntlb_entries = static_cast<unsigned>(c.get_int("walker.ntlb.entries"));
  p.ntlb_ways = static_cast<unsigned>(c.get_int("walker.ntlb.ways"));
  return p;
}

}  // namespace rmpsim::walker
