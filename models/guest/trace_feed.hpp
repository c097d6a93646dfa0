#pragma once
// Splits one interleaved trace into per-vCPU streams. vCPU threads pull from
// here; events of other vCPUs read on the way are buffered until their vCPU
// asks. With one vCPU nothing is buffered. Memory is bounded by how far the
// trace's per-vCPU streams are skewed, not by the trace length.
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "traces/trace_io.hpp"

namespace rmpsim::guest {

// An event with its own copy of any PSC entries (the reader's buffer is
// reused on the next read) and the line it came from.
struct FedEvent {
  trace::Event ev;
  std::uint64_t line = 0;
  std::vector<trace::PscEntry> psc;
};

class TraceFeed {
 public:
  TraceFeed(trace::Reader& reader, unsigned vcpus);

  // The next event of `vcpu`; false when the trace holds no more for it.
  // Throws InputError for an event naming a vCPU >= the configured count.
  bool next(unsigned vcpu, FedEvent& out);

  const std::string& trace_name() const { return m_reader.name(); }

  // Called every kTickEvents events read (the CLI's progress line); cheap
  // enough to leave on: one counter test per event.
  static constexpr std::uint64_t kTickEvents = 1u << 20;
  void on_tick(std::function<void()> f) { m_tick = std::move(f); }
  std::uint64_t bytes_read() const { return m_reader.bytes_read(); }
  std::uint64_t bytes_total() const { return m_reader.bytes_total(); }

 private:
  void take(FedEvent& out, const trace::Event& ev);
  trace::Reader& m_reader;
  std::vector<std::deque<FedEvent>> m_pending;
  bool m_eof = false;
  std::uint64_t m_events = 0;
  std::function<void()> m_tick;
};

}  // namespace rmpsim::guest
