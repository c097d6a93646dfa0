#include "traces/trace_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace rmpsim::trace {
namespace {

constexpr std::uint64_t kEmpty = ~0ull;

std::size_t slot_of(std::uint64_t page, std::size_t mask) {
  return std::size_t((page * 0x9e3779b97f4a7c15ull) >> 20) & mask;  // Fibonacci hashing
}

void add_access(AddrRange& r, std::uint64_t addr, std::uint32_t size) {
  ++r.accesses;
  r.bytes += size;
  // The last byte, saturating: an access at the top of the address space
  // does not wrap for these statistics.
  std::uint64_t last = addr + (size - 1) < addr ? ~0ull : addr + (size - 1);
  r.min = std::min(r.min, addr);
  r.max = std::max(r.max, last);
  for (std::uint64_t page = addr >> 12; page <= last >> 12; ++page)
    r.pages.insert(page, page == addr >> 12 ? 1 : 0);
}

std::string op_label(Op op) {
  if (op == Op::HostRead) return "HOST_R";
  if (op == Op::HostWrite) return "HOST_W";
  if (op == Op::HostMemRead) return "HMEM_R";
  if (op == Op::HostMemWrite) return "HMEM_W";
  return std::string(op_name(op));
}

constexpr const char* kOpDesc[kOpCount] = {
    "guest reads",
    "guest writes",
    "guest instruction fetches",
    "guest read-modify-writes",
    "compute delays",
    "guest mappings installed",
    "guest mappings removed",
    "PVALIDATE instructions",
    "RMPADJUST instructions",
    "VMPL switches",
    "page state change requests",
    "guest conversions",
    "host reads",
    "host writes",
    "region-of-interest markers (ROI begin/end)",
    "host reads of host memory",
    "host writes to host memory",
    "RMPOPT pass requests (rescan, now)",
};

}  // namespace

void PageSet::grow() {
  std::vector<std::uint64_t> old = std::move(m_slots);
  std::vector<std::uint64_t> old_counts = std::move(m_counts);
  m_slots.assign(old.empty() ? 1024 : old.size() * 2, kEmpty);
  m_counts.assign(m_slots.size(), 0);
  std::size_t mask = m_slots.size() - 1;
  for (std::size_t j = 0; j < old.size(); ++j) {
    if (old[j] == kEmpty) continue;
    std::size_t i = slot_of(old[j], mask);
    while (m_slots[i] != kEmpty) i = (i + 1) & mask;
    m_slots[i] = old[j];
    m_counts[i] = old_counts[j];
  }
}

bool PageSet::insert(std::uint64_t page, std::uint64_t accesses) {
  if ((m_size + 1) * 2 > m_slots.size()) grow();  // load factor <= 1/2
  std::size_t mask = m_slots.size() - 1;
  std::size_t i = slot_of(page, mask);
  for (;;) {
    if (m_slots[i] == page) {
      m_counts[i] += accesses;
      return false;
    }
    if (m_slots[i] == kEmpty) {
      m_slots[i] = page;
      m_counts[i] = accesses;
      ++m_size;
      return true;
    }
    i = (i + 1) & mask;
  }
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> PageSet::sorted() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  out.reserve(m_size);
  for (std::size_t i = 0; i < m_slots.size(); ++i)
    if (m_slots[i] != kEmpty) out.emplace_back(m_slots[i], m_counts[i]);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Region> regions_of(const PageSet& pages) {
  std::vector<Region> out;
  for (const auto& [page, accesses] : pages.sorted()) {
    const std::uint64_t start = page << 12;
    if (out.empty() || start - out.back().end > kRegionGap) out.push_back({start, start, 0, 0});
    Region& r = out.back();
    r.end = start + 0x1000;
    ++r.pages;
    r.accesses += accesses;
  }
  return out;
}

void TraceStats::add(const Event& ev) {
  ++events;
  ++per_op[unsigned(ev.op)];
  if (ev.vcpu >= per_vcpu.size()) per_vcpu.resize(std::size_t(ev.vcpu) + 1);
  ++per_vcpu[ev.vcpu];
  if (is_guest_access(ev.op))
    add_access(guest, ev.addr, ev.size);
  else if (is_host_access(ev.op))
    add_access(host, ev.addr, ev.size);
  else if (is_host_mem_access(ev.op))
    add_access(hostmem, ev.addr, ev.size);
  else if (ev.op == Op::Delay)
    delay_cycles += ev.len;
  else if (ev.op == Op::Psc)
    psc_entries += ev.psc_count;
}

void TraceStats::print(std::ostream& os) const {
  auto line = [&](const std::string& name, const std::string& value, const char* desc) {
    os << fmt::format("{:<24} {:>20}  # {}\n", name, value, desc);
  };
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  auto addr = [](const AddrRange& r, std::uint64_t v) {
    return r.accesses ? fmt::format("{:#x}", v) : std::string("-");
  };
  line("events", num(events), "events of any op");
  for (int i = 0; i < kOpCount; ++i) line("op." + op_label(Op(i)), num(per_op[i]), kOpDesc[i]);
  for (std::size_t v = 0; v < per_vcpu.size(); ++v)
    if (per_vcpu[v]) line(fmt::format("vcpu{}.events", v), num(per_vcpu[v]), "events of this vCPU");
  // Per address space: accesses, bytes, pages, lowest and highest byte.
  struct Space {
    const char* name;
    const AddrRange& r;
    const char* desc[5];
  };
  const Space spaces[] = {
      {"guest", guest,
       {"R, W, X and M events", "bytes accessed by the guest",
        "distinct 4K guest virtual pages touched", "lowest guest virtual byte touched",
        "highest guest virtual byte touched"}},
      {"host", host,
       {"HOST R and HOST W events", "bytes accessed by the host",
        "distinct 4K guest physical pages touched by the host",
        "lowest guest physical byte touched by the host",
        "highest guest physical byte touched by the host"}},
      {"hostmem", hostmem,
       {"HMEM R and HMEM W events", "bytes of host memory accessed",
        "distinct 4K system-physical pages of host memory touched",
        "lowest system-physical byte of HMEM", "highest system-physical byte of HMEM"}},
  };
  for (const Space& sp : spaces) {
    const std::string p = sp.name;
    line(p + ".accesses", num(sp.r.accesses), sp.desc[0]);
    line(p + ".bytes", num(sp.r.bytes), sp.desc[1]);
    line(p + ".pages_4k", num(sp.r.pages.size()), sp.desc[2]);
    line(p + ".addr_min", addr(sp.r, sp.r.min), sp.desc[3]);
    line(p + ".addr_max", addr(sp.r, sp.r.max), sp.desc[4]);
  }
  line("delay.cycles", num(delay_cycles), "cycles in D events");
  line("psc.entries", num(psc_entries), "entries in PSC events");
  // Where the touched memory lies, for choosing guest.shared_ranges (issue
  // 16, item 9): [start, end) as that key takes it.
  const std::vector<Region> regions = regions_of(guest.pages);
  line("guest.regions", num(regions.size()),
       "clusters of touched 4K guest pages, split at untouched gaps over 1 MiB");
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    os << fmt::format("{:<24} {:>20}  # [start,end): {} pages touched, {} accesses\n",
                      fmt::format("guest.region{}", i),
                      fmt::format("[{:#x},{:#x})", r.start, r.end), r.pages, r.accesses);
  }
}

TraceStats compute_stats(Reader& in) {
  TraceStats st;
  std::vector<Event> batch(4096);
  while (std::size_t n = in.next_batch(batch.data(), batch.size()))
    for (std::size_t i = 0; i < n; ++i) st.add(batch[i]);
  return st;
}

}  // namespace rmpsim::trace
