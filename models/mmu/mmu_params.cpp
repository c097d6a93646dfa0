#include "models/mmu/mmu_params.hpp"

#include "models/walker/walker_params.hpp"

namespace rmpsim::mmu {
namespace {

// A TLB's geometry: entries, ways (entries = fully associative) and the page
// sizes it holds; sizes it does not hold are smashed into smaller entries.
void tlb_keys(SchemaBuilder& b, const std::string& name, const std::string& what,
              std::int64_t entries, std::int64_t ways, const std::string& sizes,
              const std::string& source) {
  b.int_key("mmu." + name + ".entries", entries, 0, 1 << 20, "entries",
            what + " capacity; 0 disables it", source);
  b.int_key("mmu." + name + ".ways", ways, 1, 1 << 20, "ways",
            what +
                " associativity (ways = entries: fully associative); entries must "
                "be a multiple of it",
            source);
  b.enum_key("mmu." + name + ".page_sizes", sizes, {"4k", "4k,2m", "4k,2m,1g"},
             what +
                 " page sizes held; larger pages are cached as pieces of the "
                 "largest held size",
             source);
  b.multiple_of("mmu." + name + ".entries", "mmu." + name + ".ways");
}

TlbGeometry tlb_geometry(const Config& c, const std::string& name) {
  TlbGeometry g;
  g.entries = static_cast<unsigned>(c.get_int("mmu." + name + ".entries"));
  g.ways = static_cast<unsigned>(c.get_int("mmu." + name + ".ways"));
  const std::string sizes = c.get_string("mmu." + name + ".page_sizes");
  g.holds = {true, sizes.find("2m") != std::string::npos, sizes.find("1g") != std::string::npos};
  return g;
}

}  // namespace

void mmu_schema(SchemaBuilder& b) {
  const std::string zen4 =
      "Zen 4 (AMD Family 19h software optimization guide; general knowledge, not in the spec "
      "digest)";
  tlb_keys(b, "l1d", "L1 data TLB", 72, 72, "4k,2m,1g", zen4 + ": 72 entries, fully associative");
  tlb_keys(b, "l1i", "L1 instruction TLB", 64, 64, "4k,2m,1g",
           zen4 + ": 64 entries, fully associative");
  tlb_keys(b, "l2", "unified L2 TLB", 3072, 12, "4k,2m",
           zen4 +
               ": 3072 entries holding 4K and 2M, 1G smashed; 12 ways as in Zen 2 "
               "[WikiChip Zen 2, snp-semantics §5]. Assumption: one L2 serves data and "
               "instruction misses");
  b.int_key("mmu.l2.hit_cycles", 7, 0, 1000, "cycles",
            "Extra latency of an L1 TLB miss that hits the L2 TLB",
            "assumption: Zen-class L2 DTLB hit latency");
}

MmuParams mmu_params_from(const Config& c, const Clock& clock) {
  MmuParams p;
  p.l1d = tlb_geometry(c, "l1d");
  p.l1i = tlb_geometry(c, "l1i");
  p.l2 = tlb_geometry(c, "l2");
  p.walker = walker::walker_params_from(c, clock);
  return p;
}

MmuTiming mmu_timing_from(const Config& c, const Clock& /*clock: no ns keys here*/) {
  MmuTiming t;
  t.l2_hit_cycles = static_cast<std::uint64_t>(c.get_int("mmu.l2.hit_cycles"));
  t.walk_cache_hit_cycles = static_cast<std::uint64_t>(c.get_int("walker.cache_hit_cycles"));
  return t;
}

}  // namespace rmpsim::mmu
