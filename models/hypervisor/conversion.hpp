#pragma once
// Conversion records: what a private<->shared conversion cost, piece by
// piece, from the access or request that needed it until the guest made
// progress again (ARCHITECTURE.md "conversion latency").
#include <array>
#include <cstdint>
#include <string>

#include "models/common/stats.hpp"

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
  ConversionLog() { register_stats(); }

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
  // "conversions": the overall latency, then each trigger's counts, latency
  // distributions and cost components ("implicit.cost.exit", ...).
  stats::Group& stats() { return m_stats; }

 private:
  void register_stats() {
    m_stats.add_distribution("latency", &m_all,
                             "cycles from the access or PSC request that needed a conversion "
                             "until the guest made progress again");
    for (int i = 0; i < kTriggerCount; ++i) {
      const auto& t = m_by_trigger[i];
      const std::string p = std::string(trigger_name(Trigger(i))) + ".";
      auto add = [&](const char* name, const std::uint64_t* v, const char* desc) {
        m_stats.add_counter(p + name, v, desc);
      };
      add("count", &t.count, "completed conversions");
      add("pages", &t.pages, "4K pages converted");
      add("to_private", &t.to_private, "conversions to private");
      add("to_shared", &t.to_shared, "conversions to shared");
      m_stats.add_distribution(p + "latency", &t.latency, "conversion latency (cycles)");
      m_stats.add_distribution(p + "latency_per_page", &t.per_page,
                               "conversion latency per 4K page (cycles)");
      add("cost.exit", &t.cost.exit, "cycles in VM exit round trips");
      add("cost.userspace", &t.cost.userspace, "cycles in userspace exits and userspace work");
      add("cost.rmpupdate", &t.cost.rmpupdate, "cycles in RMPUPDATE");
      add("cost.psmash", &t.cost.psmash, "cycles in PSMASH");
      add("cost.flush", &t.cost.flush, "cycles in TLB flushes and IPIs");
      add("cost.npt", &t.cost.npt, "cycles in NPT fault-in");
      add("cost.pvalidate", &t.cost.pvalidate, "cycles in PVALIDATE");
      add("cost.guest", &t.cost.guest,
          "cycles of guest work: PTE updates, #VC handling, retried walks");
    }
  }

  struct PerTrigger {
    std::uint64_t count = 0, pages = 0, to_private = 0, to_shared = 0;
    stats::Distribution latency, per_page;
    ConversionCost cost;
  };
  stats::Distribution m_all;
  std::array<PerTrigger, kTriggerCount> m_by_trigger;
  stats::Group m_stats{"conversions"};
};

}  // namespace rmpsim::hypervisor
