#include "sim/report.hpp"

#include <fmt/format.h>

#include "sim/version.hpp"

namespace rmpsim {

namespace {
std::uint64_t u(const Json& j, const char* k) { return j.at(k).get<std::uint64_t>(); }
double pct(std::uint64_t part, std::uint64_t whole) {
  return whole ? 100.0 * double(part) / double(whole) : 0.0;
}
}  // namespace

std::string format_report(const std::string& trace, const Json& s, const Json& stats,
                          double freq_ghz, const std::string& out_dir) {
  std::string r;
  auto row = [&](const std::string& label, const std::string& value) {
    r += fmt::format("  {:<14} {}\n", label, value);
  };
  const std::uint64_t cycles = u(s, "cycles"), walks = u(s, "walks");
  const std::uint64_t l1h = u(s, "tlb_l1_hits"), l1m = u(s, "tlb_l1_misses");
  const std::uint64_t l2h = u(s, "tlb_l2_hits"), l2m = u(s, "tlb_l2_misses");
  r += fmt::format("rmpsim {} run of {}\n", kVersion, trace);
  row("accesses", fmt::format("{}", u(s, "accesses")));
  row("cycles", fmt::format("{} ({:.3f} ms at {} GHz)", cycles,
                            double(cycles) / freq_ghz / 1e6, freq_ghz));
  row("L1 TLB", fmt::format("{} hits, {} misses ({:.2f}% hit)", l1h, l1m, pct(l1h, l1h + l1m)));
  row("L2 TLB", fmt::format("{} hits, {} misses ({:.2f}% hit)", l2h, l2m, pct(l2h, l2h + l2m)));
  row("walks", fmt::format("{}, {} table references ({:.1f} per walk)", walks,
                           u(s, "walk_mem_refs"),
                           walks ? double(u(s, "walk_mem_refs")) / double(walks) : 0.0));
  row("#NPF", fmt::format("{} ({} not present, {} RMP)", u(s, "npf_total"),
                          u(s, "npf_not_present"), u(s, "npf_rmp")));
  row("exits", fmt::format("{} VM exits, {} to userspace", u(s, "vmexits"),
                           u(s, "userspace_exits")));
  row("RMP", fmt::format("{} RMPUPDATE, {} PSMASH, {} PVALIDATE; {} #VC 0x404, {} host RMP "
                         "faults",
                         u(s, "rmpupdate"), u(s, "psmash"), u(s, "pvalidate"),
                         u(s, "vc_not_validated"), u(s, "host_rmp_faults")));
  const Json& sys = stats.at("system");
  const Json& hv = sys.at("hypervisor");
  std::uint64_t guest_pf = 0;
  for (auto it = sys.begin(); it != sys.end(); ++it)
    if (it.key().rfind("cpu", 0) == 0) guest_pf += it->at("mmu").at("guest_page_faults").get<std::uint64_t>();
  row("faults", fmt::format("{} guest #PF, {} #NPF not present, {} RMP #NPF ({} size, {} "
                            "spurious), {} attribute mismatches",
                            guest_pf, u(s, "npf_not_present"), u(s, "npf_rmp"),
                            hv.at("npf_rmp_size").get<std::uint64_t>(),
                            hv.at("npf_rmp_spurious").get<std::uint64_t>(),
                            hv.at("npf_mismatch").get<std::uint64_t>()));
  row("PSC", fmt::format("{} requests, {} pages", u(s, "psc_requests"), u(s, "psc_pages")));
  if (s.contains("svsm_calls"))  // under an SVSM (guest.svsm)
    row("SVSM", fmt::format("{} calls, {} entries, {} cycles (VMPL switches + SVSM work)",
                            u(s, "svsm_calls"), u(s, "svsm_entries"), u(s, "svsm_cycles")));
  row("conversions", fmt::format("{}", u(s, "conversions")));
  const Json& conv = sys.at("conversions");
  for (const char* t : {"implicit", "psc_msr", "psc_ghcb", "lazy_accept"}) {
    const Json& c = conv.at(t);
    if (c.at("count").get<std::uint64_t>() == 0) continue;
    const Json& l = c.at("latency");
    auto us = [&](const char* k) { return double(l.at(k).get<std::uint64_t>()) / freq_ghz / 1000.0; };
    row(std::string("  ") + t,
        fmt::format("{} ({} pages): latency p50 {} / p99 {} / max {} cycles "
                    "({:.2f} / {:.2f} / {:.2f} us), {} cycles per page (p50)",
                    c.at("count").get<std::uint64_t>(), c.at("pages").get<std::uint64_t>(),
                    l.at("p50").get<std::uint64_t>(), l.at("p99").get<std::uint64_t>(),
                    l.at("max").get<std::uint64_t>(), us("p50"), us("p99"), us("max"),
                    c.at("latency_per_page").at("p50").get<std::uint64_t>()));
    if (c.contains("cost") && c.at("cost").contains("svsm"))
      row("", fmt::format("    of which SVSM calls {} cycles",
                          c.at("cost").at("svsm").get<std::uint64_t>()));
  }
  row("guest", s.at("guest_terminated").get<bool>()
                   ? "TERMINATED: " + s.at("termination_reason").get<std::string>()
                   : std::string("ran to the end of the trace"));
  if (sys.contains("check")) {  // run --check
    const Json& k = sys.at("check");
    row("check", fmt::format("all invariants held: {} checks ({} cached translations probed, "
                             "{} RMP entries, {} GFNs)",
                             k.at("checks").get<std::uint64_t>(),
                             k.at("tlb_probes").get<std::uint64_t>(),
                             k.at("rmp_entries").get<std::uint64_t>(),
                             k.at("gfns").get<std::uint64_t>()));
  }
  row("host", fmt::format("{:.3f} s, {:.2f} M accesses/s", s.at("host_seconds").get<double>(),
                          s.at("accesses_per_host_second").get<double>() / 1e6));
  row("stats", fmt::format("{0}/stats.json, {0}/stats.txt, {0}/config.json", out_dir));
  return r;
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string q = "\"";
  for (char c : text) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace rmpsim
