#pragma once
// Conversion records: what a private<->shared conversion cost, piece by
// piece, from the access or request that needed it until the guest made
// progress again (ARCHITECTURE.md "conversion latency").
#include <array>
#include <cstdint>
#include <string>

#include "sim/stats.hpp"

namespace rmpsim::hypervisor {

enum class Trigger : std::uint8_t { Implicit = 0, PscMsr = 1, PscGhcb = 2, LazyAccept = 3 };
inline constexpr int kTriggerCount = 4;
inline const char* trigger_name(Trigger t) {
  static const char* names[] = {"implicit", "psc_msr", "psc_ghcb", "lazy_accept"};
  return names[static_cast<int>(t)];
}

// Cycles spent on a conversion, by component.
struct ConversionCost {
  std::uint64_t exit = 0;       // VM exit round trips (#NPF, VMGEXIT)
  std::uint64_t userspace = 0;  // exits to the userspace model and its work
  std::uint64_t rmpupdate = 0;
  std::uint64_t psmash = 0;
  std::uint64_t flush = 0;      // TLB flushes and IPIs
  std::uint64_t npt = 0;        // NPT fault-in / mapping work
  std::uint64_t pvalidate = 0;  // guest PVALIDATEs of the converted pages
  std::uint64_t guest = 0;      // guest-side work: PTE updates, #VC handling, retried walks

  std::uint64_t total() const {
    return exit + userspace + rmpupdate + psmash + flush + npt + pvalidate + guest;
  }
  ConversionCost& operator+=(const ConversionCost& o) {
    exit += o.exit;
    userspace += o.userspace;
    rmpupdate += o.rmpupdate;
    psmash += o.psmash;
    flush += o.flush;
    npt += o.npt;
    pvalidate += o.pvalidate;
    guest += o.guest;
    return *this;
  }
};

struct ConversionRecord {
  Trigger trigger = Trigger::Implicit;
  bool to_private = true;
  std::uint64_t pages = 0;  // 4K pages converted
  std::uint64_t start = 0;  // cycle of the access or request that needed it
  std::uint64_t end = 0;    // cycle the guest made progress again
  ConversionCost cost;
};

}  // namespace rmpsim::hypervisor


namespace rmpsim::hypervisor {

// Every completed conversion, as distributions per trigger and overall.
class ConversionLog {
 public:
  void add(const ConversionRecord& r) {
    const std::uint64_t cycles = r.end - r.start;
    m_all.sample(cycles);
    auto& t = m_by_trigger[static_cast<int>(r.trigger)];
    t.latency.sample(cycles);
    if (r.pages) t.per_page.sample(cycles / r.pages);
    t.pages += r.pages;
    ++t.count;
    (r.to_private ? t.to_private : t.to_shared)++;
    t.cost += r.cost;
  }
  std::uint64_t count() const { return m_all.count(); }
  const Distribution& all() const { return m_all; }

  void register_stats(StatsRegistry& stats, const std::string& prefix) const {
    stats.add_distribution(prefix + ".latency", &m_all,
                           "cycles from the access or PSC request that needed a conversion "
                           "until the guest made progress again");
    for (int i = 0; i < kTriggerCount; ++i) {
      const auto& t = m_by_trigger[i];
      const std::string p = prefix + "." + trigger_name(Trigger(i));
      stats.add_counters(p, {
          {"count", &t.count, "completed conversions"},
          {"pages", &t.pages, "4K pages converted"},
          {"to_private", &t.to_private, "conversions to private"},
          {"to_shared", &t.to_shared, "conversions to shared"},
      });
      stats.add_distribution(p + ".latency", &t.latency, "conversion latency (cycles)");
      stats.add_distribution(p + ".latency_per_page", &t.per_page,
                             "conversion latency per 4K page (cycles)");
      stats.add_counters(p, {
          {"cost.exit", &t.cost.exit, "cycles in VM exit round trips"},
          {"cost.userspace", &t.cost.userspace, "cycles in userspace exits and userspace work"},
          {"cost.rmpupdate", &t.cost.rmpupdate, "cycles in RMPUPDATE"},
          {"cost.psmash", &t.cost.psmash, "cycles in PSMASH"},
          {"cost.flush", &t.cost.flush, "cycles in TLB flushes and IPIs"},
          {"cost.npt", &t.cost.npt, "cycles in NPT fault-in"},
          {"cost.pvalidate", &t.cost.pvalidate, "cycles in PVALIDATE"},
          {"cost.guest", &t.cost.guest,
           "cycles of guest work: PTE updates, #VC handling, retried walks"},
      });
    }
  }

 private:
  struct PerTrigger {
    std::uint64_t count = 0, pages = 0, to_private = 0, to_shared = 0;
    Distribution latency, per_page;
    ConversionCost cost;
  };
  Distribution m_all;
  std::array<PerTrigger, kTriggerCount> m_by_trigger;
};

}  // namespace rmpsim::hypervisor
