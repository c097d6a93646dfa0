#include "models/guest/trace_feed.hpp"

#include <algorithm>
#include <string>

namespace rmpsim::guest {

TraceFeed::TraceFeed(trace::Reader& reader, unsigned vcpus)
    : m_reader(reader),
      m_pending(vcpus),
      m_events(new trace::Event[kRun + 1]),  // + 1: room for an inserted ROI begin
      m_lines(new std::uint64_t[kRun + 1]) {}

void TraceFeed::copy_psc(FedEvent& out) {
  out.psc.assign(out.ev.psc, out.ev.psc + out.ev.psc_count);
  out.ev.psc = out.psc.data();
}

bool TraceFeed::refill() {
  if (m_eof) return false;
  if (m_stop && *m_stop) {
    m_eof = m_stopped = true;
    m_count = m_pos = 0;
    return false;
  }
  m_pos = 0;
  m_count = m_reader.next_run(m_events.get(), m_lines.get(), kRun);
  if (m_tick && ((m_read + m_count) / kTickEvents) != (m_read / kTickEvents)) m_tick();
  if (m_warmup_left) insert_begin_after_warmup();
  m_read += m_count;
  if (m_count == 0) m_eof = true;
  return m_count != 0;
}

void TraceFeed::insert_begin_after_warmup() {
  for (std::size_t i = 0; i < m_count; ++i) {
    if (!trace::is_guest_access(m_events[i].op) || --m_warmup_left != 0) continue;
    // The region begins right after this access line, on its vCPU; the
    // events behind it move up one place (the arrays hold kRun + 1).
    for (std::size_t j = m_count; j > i + 1; --j) {
      m_events[j] = m_events[j - 1];
      m_lines[j] = m_lines[j - 1];
    }
    trace::Event begin;
    begin.op = trace::Op::Roi;
    begin.vcpu = m_events[i].vcpu;
    begin.attrs = kInsertedBegin;
    m_events[i + 1] = begin;
    m_lines[i + 1] = m_lines[i];
    ++m_count;
    ++m_inserted;
    return;
  }
}

void TraceFeed::end_here() {
  m_eof = true;
  m_pos = m_count = 0;
  for (auto& q : m_pending) q.clear();
  m_buffered = 0;
}

bool TraceFeed::next(unsigned vcpu, FedEvent& out) {
  // The common case, kept small: nothing buffered and the run's next event
  // is this vCPU's (always so with one vCPU).
  if (m_buffered == 0 && m_pos != m_count && m_events[m_pos].vcpu == vcpu) {
    const std::size_t i = m_pos++;
    take(out, m_events[i], m_lines[i]);
    return true;
  }
  return next_slow(vcpu, out);
}

unsigned TraceFeed::highest_vcpu_from(std::size_t i) {
  // The error path only: read the rest of the trace so the message can give
  // the exact cpu.count (issue 16, item 8). A malformed line further on
  // ends the scan; the run reports the first error anyway.
  unsigned highest = 0;
  try {
    for (;;) {
      for (; i < m_count; ++i) highest = std::max<unsigned>(highest, m_events[i].vcpu);
      m_count = m_reader.next_run(m_events.get(), m_lines.get(), kRun);
      if (m_count == 0) break;
      i = 0;
    }
  } catch (const InputError&) {
  }
  m_count = m_pos = 0;
  m_eof = true;
  return highest;
}

bool TraceFeed::next_slow(unsigned vcpu, FedEvent& out) {
  auto& mine = m_pending[vcpu];
  if (!mine.empty()) {
    out = std::move(mine.front());
    out.ev.psc = out.psc.empty() ? nullptr : out.psc.data();
    mine.pop_front();
    --m_buffered;
    return true;
  }
  for (;;) {
    if (m_pos == m_count && !refill()) return false;
    const std::size_t i = m_pos++;
    const trace::Event& ev = m_events[i];
    if (ev.vcpu >= m_pending.size()) {
      const std::uint64_t line = m_lines[i];
      const std::string needed = std::to_string(highest_vcpu_from(i) + 1);
      throw InputError(m_reader.name_for(ev.vcpu), line,
                       "event for vCPU " + std::to_string(ev.vcpu) + " but cpu.count is " +
                           std::to_string(m_pending.size()) +
                           " (expected a vCPU number below cpu.count; the trace's highest "
                           "vCPU needs --set cpu.count=" + needed + ")");
    }
    if (ev.vcpu == vcpu) {
      take(out, ev, m_lines[i]);
      return true;
    }
    m_pending[ev.vcpu].emplace_back();
    take(m_pending[ev.vcpu].back(), ev, m_lines[i]);
    ++m_buffered;
  }
}

}  // namespace rmpsim::guest
