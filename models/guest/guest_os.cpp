#include "models/guest/guest_os.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "models/guest/trace_feed.hpp"

namespace rmpsim::guest {

namespace pg = paging;

namespace {
// Not a livelock guard but Linux's cost rule (models/guest/README.md,
// "Livelock guards"): it flushes single pages up to this many, then the
// whole TLB (arch/x86/mm/tlb.c, tlb_single_page_flush_ceiling = 33).
constexpr std::uint64_t kSinglePageFlushCeiling = 33;
}  // namespace

GuestOs::GuestOs(memory::PhysStore& guest_mem, const GuestOsParams& p,
                 mmu::TranslationDomain& tlbs)
    : m_mem(guest_mem),
      m_p(p),
      m_tlbs(tlbs),
      // Guest page-table pages; the walker always reads them as private
      // (snp-semantics §1.4), and their pointers carry the C-bit.
      m_pt(guest_mem, p.levels,
           [this] {
             const std::uint64_t gpa = m_next_pt_gpa;
             m_next_pt_gpa += 0x1000;
             m_mem.zero_frame(gpa >> 12);
             return gpa;
           },
           pg::kWritable | pg::kUser | pg::kCbit),
      m_gcr3(m_pt.new_root()) {
  register_stats();
}

void GuestOs::register_stats() {
  m_stats.add_counters({
      {"maps", &m_c.maps, "pages mapped by MAP lines"},
      {"unmaps", &m_c.unmaps, "pages unmapped by UNMAP lines"},
      {"demand_maps", &m_c.demand_maps,
       "first-touch guest page faults resolved by mapping a fresh frame"},
      {"page_faults", &m_c.page_faults, "guest #PF delivered to the guest OS"},
      {"invlpgs", &m_c.invlpgs, "local INVLPGs"},
      {"shootdowns", &m_c.shootdowns, "remote TLB shootdowns"},
  });
}

bool GuestOs::in_shared_range(std::uint64_t gva) const {
  for (const auto& [lo, hi] : m_p.shared_ranges)
    if (gva >= lo && gva < hi) return true;
  return false;
}

std::uint64_t GuestOs::flush_cost(unsigned vcpu, std::uint64_t gva, std::uint64_t len,
                                  std::uint64_t pages) {
  (void)vcpu;  // the broadcast reaches every vCPU, the initiator included
  m_tlbs.shootdown(m_p.asid, gva, len);
  const std::uint64_t local = std::min(pages, kSinglePageFlushCeiling);
  m_c.invlpgs += local;
  std::uint64_t cycles = local * m_p.invlpg_cycles;
  if (m_p.vcpus > 1) {
    ++m_c.shootdowns;
    cycles += m_p.shootdown_cycles;
  }
  return cycles;
}

std::uint64_t GuestOs::alloc_demand_frame(PageSize s) {
  const std::uint64_t size = page_bytes(s);
  m_next_demand_gpa = (m_next_demand_gpa + size - 1) & ~(size - 1);
  const std::uint64_t gpa = m_next_demand_gpa;
  m_next_demand_gpa += size;
  return gpa;
}

void GuestOs::need_accept(std::uint64_t gpa, std::uint64_t len, GuestResult& r) {
  if (m_p.accept != Accept::Lazy) return;
  for (std::uint64_t u = gpa & ~0x1fffffull; u < gpa + len; u += 0x200000) {
    if (m_accepted.find(u >> 21) != FlatMap::kNone) continue;
    m_accepted.put(u >> 21, 1);
    r.accept_units.push_back(u);
  }
}

GuestResult GuestOs::map(unsigned vcpu, const trace::Event& ev, std::string& error) {
  const PageSize size = page_size_of(trace::attr_page_size(ev.attrs));
  const std::uint64_t step = page_bytes(size);
  GuestResult r;
  // Bounded work for any line (issue 14, item 10): checked before anything
  // changes, so a refused line leaves the tables as they were.
  const std::uint64_t gpa_last = ev.gpa + (ev.len - 1);
  const std::uint64_t units = m_p.accept == Accept::Lazy
                                  ? (gpa_last >> 21) - (ev.gpa >> 21) + 1
                                  : 0;
  if (ev.len / step > kMaxMapLeaves || units > kMaxMapAcceptUnits) {
    error = fmt::format("MAP of {:#x} bytes needs {} {} pages{}: expected at most {} pages and "
                        "{} 2M units to accept in one line (split it into several MAP lines, "
                        "or use larger pages)",
                        ev.len, ev.len / step, page_size_name(size),
                        units ? fmt::format(" and accepting {} 2M units", units) : "",
                        kMaxMapLeaves, kMaxMapAcceptUnits);
    return r;
  }
  std::uint64_t flags = pg::kUser;
  if (!(ev.attrs & trace::kMapReadOnly)) flags |= pg::kWritable;
  if (!(ev.attrs & trace::kMapExec)) flags |= pg::kNoExec;
  if (!(ev.attrs & trace::kMapShared)) flags |= pg::kCbit;
  std::uint64_t remapped = 0, mapped = 0;
  for (std::uint64_t off = 0; off < ev.len; off += step) {
    if (stop_requested()) break;
    const std::uint64_t gva = ev.addr + off;
    // A present leaf, or a table of smaller mappings that the new leaf
    // replaces, may be cached in TLBs and walk caches: flush.
    bool replaced = false;
    const auto st =
        m_pt.map(m_gcr3, gva, ev.gpa + off, size, flags, /*replace_smaller=*/true, &replaced);
    remapped += replaced;
    if (st != pg::MapStatus::Ok) {
      error = fmt::format("MAP of {} page at GVA {:#x} lies inside a larger mapped page "
                          "(expected UNMAP first)",
                          page_size_name(size), gva);
      return r;
    }
    ++m_c.maps;
    mapped += step;
  }
  // Changing present mappings needs a flush; fresh ones do not (x86 does not
  // cache non-present entries).
  if (remapped) r.cycles += flush_cost(vcpu, ev.addr, mapped, mapped / 0x1000);
  // Memory is accepted before it is handed out, shared or not (lazy).
  if (mapped) need_accept(ev.gpa, mapped, r);
  return r;
}

GuestResult GuestOs::unmap(unsigned vcpu, const trace::Event& ev) {
  GuestResult r;
  // Inclusive bounds: a range may end at 2^64.
  const std::uint64_t last = ev.addr + (ev.len - 1);
  // What the TLBs may still hold: the range, widened to every large leaf
  // that had to be split (its translations cover pages that stay mapped
  // but may be cached as the old large page).
  std::uint64_t flush_lo = ev.addr, flush_last = last;
  std::uint64_t removed = 0;
  // Leaf by leaf through what is mapped, skipping holes a table entry at a
  // time: the work follows the mappings, not the range's size (issue 14,
  // item 10: `UNMAP 0x0 0xfffffffffffff000` stepped through 2^52 pages).
  for (std::uint64_t gva = ev.addr; !stop_requested();) {
    const auto next = m_pt.first_mapped(m_gcr3, gva, last);
    if (!next) break;
    gva = *next;
    const auto m = m_pt.lookup(m_gcr3, gva);
    const std::uint64_t base = gva & ~(page_bytes(m->size) - 1);
    const std::uint64_t base_last = base + (page_bytes(m->size) - 1);
    if (base < ev.addr || base_last > last) {
      // The range covers part of a large leaf: split it and go on with the
      // pieces (Linux splits a huge page before zapping part of it).
      m_pt.split(m_gcr3, gva);
      flush_lo = std::min(flush_lo, base);
      flush_last = std::max(flush_last, base_last);
      continue;
    }
    m_pt.unmap(m_gcr3, gva);
    ++removed;
    ++m_c.unmaps;
    if (base_last >= last) break;
    gva = base_last + 1;
  }
  if (removed) {
    // [0, 2^64) has no length in 64 bits; no canonical range needs it.
    const std::uint64_t len = std::min<std::uint64_t>(flush_last - flush_lo, ~0ull - 1) + 1;
    r.cycles += flush_cost(vcpu, flush_lo, len, len / 0x1000);
  }
  return r;
}

GuestResult GuestOs::set_encrypted(unsigned vcpu, std::uint64_t gva, std::uint64_t len,
                                   bool is_private, std::string& error) {
  GuestResult r;
  // Inclusive bounds: a range may end at 2^64.
  const std::uint64_t last = gva + (len - 1);
  for (std::uint64_t a = gva;;) {
    auto m = m_pt.lookup(m_gcr3, a);
    if (!m) {
      error = fmt::format("GVA {:#x} is not mapped (expected a mapped range to convert)", a);
      return r;
    }
    const std::uint64_t size = page_bytes(m->size), base = a & ~(size - 1);
    if (base < gva || base + (size - 1) > last) {
      error = fmt::format("the range splits the {} page at GVA {:#x} (expected whole pages)",
                          page_size_name(m->size), base);
      return r;
    }
    m_pt.set_leaf_flags(m_gcr3, a, is_private ? pg::kCbit : 0, is_private ? 0 : pg::kCbit);
    if (base + (size - 1) >= last) break;
    a = base + size;
  }
  r.cycles = flush_cost(vcpu, gva, len, len / 0x1000);
  return r;
}

GuestResult GuestOs::handle_page_fault(unsigned /*vcpu*/, std::uint64_t gva,
                                       std::uint64_t error_code) {
  ++m_c.page_faults;
  GuestResult r;
  r.cycles = m_p.page_fault_cycles;
  const bool present = error_code & 1;
  if (present || !m_p.auto_map) {
    // A protection fault, or a first touch the trace did not MAP: the
    // process would die of SIGSEGV; the run cannot continue.
    r.terminated = true;
    r.reason = fmt::format("guest page fault at GVA {:#x} (error code {:#x}): {}", gva,
                           error_code,
                           present ? "access not permitted by the guest page tables"
                                   : "no mapping and guest.auto_map is false");
    return r;
  }
  // Assumption: demand-mapped pages are readable, writable and executable.
  // An access-only trace does not say which pages hold code, and a page
  // first read as data (ELF headers) may be executed later.
  std::uint64_t flags = pg::kUser | pg::kWritable;
  if (!in_shared_range(gva)) flags |= pg::kCbit;
  PageSize size = m_p.demand_page_size;
  if (size != PageSize::k4K) {
    const std::uint64_t base = gva & ~(page_bytes(size) - 1);
    const std::uint64_t gpa = alloc_demand_frame(size);
    if (m_pt.map(m_gcr3, base, gpa, size, flags, /*replace_smaller=*/false) ==
        pg::MapStatus::Ok) {
      ++m_c.demand_maps;
      need_accept(gpa, page_bytes(size), r);
      return r;
    }
    // Smaller pages already live in this region: fall back to 4K (the 2M
    // frame just reserved stays unused, as a real allocator's would not).
    size = PageSize::k4K;
  }
  const std::uint64_t frame = alloc_demand_frame(PageSize::k4K);
  m_pt.map(m_gcr3, gva & ~0xfffull, frame, PageSize::k4K, flags);
  ++m_c.demand_maps;
  need_accept(frame, 0x1000, r);
  return r;
}

}  // namespace rmpsim::guest
