#pragma once
// Splits one interleaved trace into per-vCPU streams. vCPU threads pull from
// here; events of other vCPUs read on the way are buffered until their vCPU
// asks. With one vCPU nothing is buffered. Memory is bounded by how far the
// trace's per-vCPU streams are skewed, not by the trace length.
//
// Events come from the reader a run at a time (Reader::next_run), which
// saves a virtual call and a copy per event; the run also carries each
// event's line, and the reader stops a run before any record it would
// reject, so errors still surface in trace order with their own line.
#include <cstdint>
#include <csignal>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "models/common/page_size.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::guest {

// Trace events name page sizes in the trace library's type; the models use
// their own (models/common/page_size.hpp). Events enter the models here:
// every size read from an event goes through this.
inline PageSize page_size_of(trace::PageSize s) {
  static_assert(unsigned(trace::PageSize::k4K) == unsigned(PageSize::k4K) &&
                    unsigned(trace::PageSize::k2M) == unsigned(PageSize::k2M) &&
                    unsigned(trace::PageSize::k1G) == unsigned(PageSize::k1G),
                "the trace's and the models' page sizes share their values");
  return PageSize(static_cast<std::uint8_t>(s));
}

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

  // The event `ahead` places after the last one handed out, if the current
  // run of events holds it (whichever vCPU it is for), else nullptr; and
  // its position in the trace. For reading ahead (walker/lookahead.hpp).
  const trace::Event* upcoming(std::size_t ahead) const {
    return m_pos + ahead < m_count ? &m_events[m_pos + ahead] : nullptr;
  }
  std::uint64_t upcoming_seq(std::size_t ahead) const { return m_read - m_count + m_pos + ahead; }

  // The file `vcpu`'s events come from, for its errors (one file per vCPU
  // with a per-vCPU manifest, trace_io.hpp).
  const std::string& trace_name(unsigned vcpu) const { return m_reader.name_for(vcpu); }

  // Called about every kTickEvents events read (the CLI's progress line):
  // one test per run of events, nothing per event.
  static constexpr std::uint64_t kTickEvents = 1u << 20;
  void on_tick(std::function<void()> f) { m_tick = std::move(f); }
  // Stops feeding (as if the trace ended) once *flag is non-zero: a signal
  // handler sets it, and every vCPU then finishes what it is doing and ends.
  // Tested once per run of events, like the tick.
  void stop_when(const volatile std::sig_atomic_t* flag) { m_stop = flag; }
  // Whether the feed was cut short by stop_when's flag.
  bool stopped() const { return m_stopped; }
  // Ends the feed at once, dropping the events not handed out yet: a long
  // trace line (MAP, UNMAP, CONVERT) that stopped early on the flag calls
  // it, so no later line runs on the state it left half done.
  void stop_now() {
    end_here();
    m_stopped = true;
  }
  std::uint64_t events_read() const { return m_read - m_inserted; }

  // The measured region (region.hpp): after the first `accesses` guest
  // access lines of the trace (R, W, X, M; all vCPUs, in trace order) the
  // feed inserts an ROI begin on the vCPU of the last of them, carrying
  // kInsertedBegin and that line. Counted per run of events in refill(),
  // so next() stays as it was. 0: no warm-up.
  void set_warmup(std::uint64_t accesses) { m_warmup_left = accesses; }
  static constexpr std::uint32_t kInsertedBegin = 1u << 31;
  // An ROI end: the trace is over for every vCPU (as if it ended here).
  void end_here();
  std::uint64_t bytes_read() const { return m_reader.bytes_read(); }
  std::uint64_t bytes_total() const { return m_reader.bytes_total(); }

 private:
  static constexpr std::size_t kRun = 256;  // events per Reader::next_run

  // Inline: every event is taken; an event with PSC entries copies them
  // out of line.
  static void take(FedEvent& out, const trace::Event& ev, std::uint64_t line) {
    out.ev = ev;
    out.line = line;
    if (__builtin_expect(ev.psc_count != 0, 0)) copy_psc(out);
  }
  __attribute__((noinline)) static void copy_psc(FedEvent& out);
  bool refill();
  // The highest vCPU number of events [i, m_count) and the rest of the
  // trace; consumes the trace (the error path of a vCPU beyond cpu.count).
  unsigned highest_vcpu_from(std::size_t i);
  void insert_begin_after_warmup();
  bool next_slow(unsigned vcpu, FedEvent& out);

  trace::Reader& m_reader;
  std::vector<std::deque<FedEvent>> m_pending;
  // The current run: events [m_pos, m_count) are still to be handed out.
  std::unique_ptr<trace::Event[]> m_events;
  std::unique_ptr<std::uint64_t[]> m_lines;
  std::size_t m_pos = 0, m_count = 0;
  std::size_t m_buffered = 0;  // events waiting in m_pending, all vCPUs
  bool m_eof = false;
  std::uint64_t m_read = 0;  // events read so far, inserted ones included
  std::uint64_t m_warmup_left = 0;  // access lines still to read before the region
  std::uint64_t m_inserted = 0;     // events the feed inserted (the region's begin)
  std::function<void()> m_tick;
  const volatile std::sig_atomic_t* m_stop = nullptr;
  bool m_stopped = false;
};

}  // namespace rmpsim::guest
