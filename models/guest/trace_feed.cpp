#include "models/guest/trace_feed.hpp"

#include <string>

namespace rmpsim::guest {

TraceFeed::TraceFeed(trace::Reader& reader, unsigned vcpus) : m_reader(reader), m_pending(vcpus) {}

void TraceFeed::take(FedEvent& out, const trace::Event& ev) {
  out.ev = ev;
  out.line = m_reader.line();
  if (ev.psc_count) {
    out.psc.assign(ev.psc, ev.psc + ev.psc_count);
    out.ev.psc = out.psc.data();
  }
}

bool TraceFeed::next(unsigned vcpu, FedEvent& out) {
  auto& mine = m_pending[vcpu];
  if (!mine.empty()) {
    out = std::move(mine.front());
    out.ev.psc = out.psc.empty() ? nullptr : out.psc.data();
    mine.pop_front();
    return true;
  }
  trace::Event ev;
  while (!m_eof) {
    if (!m_reader.next(ev)) {
      m_eof = true;
      break;
    }
    if ((++m_events & (kTickEvents - 1)) == 0 && m_tick) m_tick();
    if (ev.vcpu >= m_pending.size())
      throw InputError(m_reader.name(), m_reader.line(),
                       "event for vCPU " + std::to_string(ev.vcpu) + " but cpu.count is " +
                           std::to_string(m_pending.size()) +
                           " (expected a vCPU number below cpu.count)");
    if (ev.vcpu == vcpu) {
      take(out, ev);
      return true;
    }
    m_pending[ev.vcpu].emplace_back();
    take(m_pending[ev.vcpu].back(), ev);
  }
  return false;
}

}  // namespace rmpsim::guest
