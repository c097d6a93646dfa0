#include "models/walker/walker_params.hpp"

namespace rmpsim::walker {

namespace {
// Where the nested page-walk cache's geometry comes from (docs/models.md,
// "Walk caches").
constexpr const char* kPdcSource =
    "the table walker's 64-entry page directory cache (PDC), which holds PML4 and PDP "
    "entries: AMD Software Optimization Guide for AMD Family 17h Processors (pub. 55723), "
    "as quoted for Zen 2 by Chips and Cheese, 'Neoverse N1 vs Zen 2' (2021); assumption: "
    "Zen 4 (Family 19h) keeps it, and it holds nested entries as the Opteron walk cache "
    "of [BHAR08] does";
}  // namespace

void walker_schema(SchemaBuilder& b) {
  b.int_key("walker.guest_levels", 4, 4, 5, "levels", "Guest page-table levels (5 = LA57)",
            "x86-64 4-level paging");
  b.int_key("walker.nested_levels", 4, 4, 5, "levels", "Nested page-table levels",
            "KVM's default 4-level NPT");
  b.int_key("walker.pwc.entries", 16, 0, 1 << 16, "entries per level",
            "Guest page-walk cache: entries for each upper guest level (PML5/PML4, "
            "PDPT, PD); 0 disables it",
            "assumption: Bhargava et al. page-walk cache [BHAR08]; AMD gives no size per "
            "level (its 64-entry page directory cache: walker.npwc.entries)");
  b.int_key("walker.pwc.ways", 16, 1, 1 << 16, "ways", "Guest page-walk cache ways",
            "assumption: fully associative");
  b.int_key("walker.ntlb.entries", 64, 0, 1 << 20, "entries",
            "Nested TLB (GPA -> SPA) entries; 0 disables it",
            "assumption: nested TLB of [BHAR08]; AMD's size is not public");
  b.int_key("walker.ntlb.ways", 4, 1, 1 << 20, "ways", "Nested TLB ways", "assumption");
  b.int_key("walker.npwc.entries", 64, 0, 1 << 16, "entries",
            "Nested page-walk cache: upper-level nested page-table entries, keyed by the GPA "
            "prefix they translate, for every cached level together; 0 disables it",
            kPdcSource);
  b.int_key("walker.npwc.ways", 64, 1, 1 << 16, "ways", "Nested page-walk cache ways",
            "assumption: fully associative (the guides do not say)");
  b.int_key("walker.npwc.lowest_level", 3, 2, 5, "level",
            "Lowest nested level the nested page-walk cache holds (3: PDP entries and above; "
            "2: page-directory entries too)",
            "the PDC holds PML4 and PDP entries (AMD Family 17h guide, pub. 55723); AMD keeps "
            "page-directory entries in the L2 TLB, which rmpsim does not model for the nested "
            "dimension");
  b.int_key("walker.cache_hit_cycles", 2, 0, 1000, "cycles",
            "Latency of a hit in a walk cache (guest or nested page-walk cache, nested TLB) "
            "during a walk",
            "assumption");
  b.multiple_of("walker.pwc.entries", "walker.pwc.ways");
  b.multiple_of("walker.ntlb.entries", "walker.ntlb.ways");
  b.multiple_of("walker.npwc.entries", "walker.npwc.ways");
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
  p.npwc_entries = static_cast<unsigned>(c.get_int("walker.npwc.entries"));
  p.npwc_ways = static_cast<unsigned>(c.get_int("walker.npwc.ways"));
  p.npwc_lowest_level = static_cast<unsigned>(c.get_int("walker.npwc.lowest_level"));
  return p;
}

}  // namespace rmpsim::walker
