#pragma once
// Conversion tracking: every completed private<->shared conversion
// (models/common/conversion_record.hpp), as latency distributions and cost
// components per trigger, and as one line of the event log (--events).
#include <array>
#include <cstdint>
#include <string>

#include "models/common/conversion_record.hpp"
#include "models/common/event_log.hpp"
#include "models/common/stats.hpp"

namespace rmpsim::hypervisor {

// The record types live below the blocks; the hypervisor's code names them
// as its own.
using rmpsim::ConversionCost;
using rmpsim::ConversionRecord;
using rmpsim::kTriggerCount;
using rmpsim::Trigger;
using rmpsim::trigger_name;

// Every completed conversion, as distributions per trigger and overall.
class ConversionLog {
 public:
  // `log`: where each conversion is also written as an event; null for none.
  explicit ConversionLog(EventLog* log = nullptr) : m_log(log) { register_stats(); }

  // A conversion vCPU `vcpu` completed.
  void add(unsigned vcpu, const ConversionRecord& r) {
    if (m_log) m_log->conversion(vcpu, r);
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
  // Under an SVSM (guest.svsm): each trigger's "cost.svsm" too. Without
  // one the component is always 0 and not listed.
  void add_svsm_stats() {
    for (int i = 0; i < kTriggerCount; ++i)
      m_stats.add_counter(std::string(trigger_name(Trigger(i))) + ".cost.svsm",
                          &m_by_trigger[i].cost.svsm,
                          "cycles in SVSM calls: VMPL switches and the SVSM's work");
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
  EventLog* m_log;
  stats::Distribution m_all;
  std::array<PerTrigger, kTriggerCount> m_by_trigger;
  stats::Group m_stats{"conversions"};
};

}  // namespace rmpsim::hypervisor
