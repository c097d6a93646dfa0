#pragma once
// The harness shared by the trace targets (text_trace, binary_trace, lackey,
// champsim). One input is read several ways and the results must agree:
//
//   1. next(), the whole input in one memory source: the reference;
//   2. next_run(), the input served in small reads of varying size (as a
//      pipe delivers it), which moves line and record boundaries across
//      buffer refills: same events, same line numbers, same error;
//   3. next_batch(): a prefix of the reference (a batch that hits a bad
//      record is lost with it) and the same error;
//   4. the events read, written with the text and the binary writer and read
//      back: the same events (a reader must never accept what a writer
//      cannot reproduce).
//
// Every event must pass check_event() (traces/README.md: all forms pass the
// same semantic checks, so the simulator may rely on them), and the only
// exception allowed out of a reader is rmpsim::InputError, with its message in
// the project's "file:line: error: ..." shape. Anything else escapes the
// target and libFuzzer reports it.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_support.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/byte_io.hpp"
#include "traces/event_checks.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::fuzz {

using trace::Event;
using trace::Reader;

// Readers stream without limit; a short input can still describe a long
// trace (zstd), so each read stops after this many events. Enough to cover
// every buffer boundary of the inputs the targets are run with.
inline constexpr std::size_t kMaxEvents = 1 << 14;

// An event with its own copy of the PSC entries (a reader's live only until
// its next call).
struct OwnedEvent {
  Event ev;
  std::vector<trace::PscEntry> psc;
  std::uint64_t line = 0;

  explicit OwnedEvent(const Event& e, std::uint64_t l) : ev(e), line(l) {
    if (e.psc_count && e.psc) psc.assign(e.psc, e.psc + e.psc_count);
    ev.psc = nullptr;
  }
  Event view() const {
    Event e = ev;
    e.psc = psc.empty() ? nullptr : psc.data();
    return e;
  }
  bool operator==(const OwnedEvent& o) const { return view() == o.view() && line == o.line; }
};

struct ReadResult {
  std::vector<OwnedEvent> events;
  std::string error;   // the InputError message, "" if none
  bool capped = false;  // stopped at kMaxEvents
};

// The input served `n` bytes at a time at most, n varying from read to read.
class ChunkedSource final : public trace::ByteSource {
 public:
  ChunkedSource(std::string data, InputRng rng) : m_data(std::move(data)), m_rng(rng) {}
  std::size_t read(char* buf, std::size_t n) override {
    std::size_t k = std::min<std::size_t>({n, m_data.size() - m_pos, m_rng.between(1, 300)});
    std::copy_n(m_data.data() + m_pos, k, buf);
    m_pos += k;
    return k;
  }
  std::uint64_t bytes_read() const override { return m_pos; }
  std::uint64_t bytes_total() const override { return m_data.size(); }

 private:
  std::string m_data;
  std::size_t m_pos = 0;
  InputRng m_rng;
};

// Collects what a writer writes.
class StringSink final : public trace::ByteSink {
 public:
  explicit StringSink(std::string& out) : m_out(out) {}
  void write(const char* data, std::size_t n) override { m_out.append(data, n); }
  void finish() override {}

 private:
  std::string& m_out;
};

enum class Mode { Next, Batch, Run };

using OpenFn = std::function<std::unique_ptr<Reader>(std::unique_ptr<trace::ByteSource>)>;

inline void check_event_ok(const Event& ev, const char* how) {
  const std::string why = trace::check_event(ev);
  require(why.empty(), fmt::format("{} returned an event that check_event() rejects: {}", how, why));
}

inline void check_error(const InputError& e, const std::string& name) {
  require(e.file() == name,
          fmt::format("InputError names file '{}', expected '{}': {}", e.file(), name, e.what()));
  require(well_formed_error(e.what(), e.file(), e.line()),
          fmt::format("InputError message is not 'file:line: error: ...': {}", e.what()));
}

// Reads everything `open` gives with one of the reading interfaces.
// `shared_lines`: several events may carry one line number (a ChampSim
// record gives a fetch and its loads and stores, all numbered by the
// record); line numbers must then only never go back.
inline ReadResult read_all(const OpenFn& open, std::unique_ptr<trace::ByteSource> src,
                           const std::string& name, Mode mode, std::size_t batch,
                           bool shared_lines) {
  ReadResult r;
  try {
    std::unique_ptr<Reader> reader = open(std::move(src));
    std::vector<Event> buf(batch);
    std::vector<std::uint64_t> lines(batch);
    std::uint64_t last_line = 0;
    while (r.events.size() < kMaxEvents) {
      std::size_t n = 0;
      switch (mode) {
        case Mode::Next:
          n = reader->next(buf[0]) ? 1 : 0;
          if (n) lines[0] = reader->line();
          break;
        case Mode::Batch:
          n = reader->next_batch(buf.data(), batch);
          // Only the last event's line is known after a batch.
          for (std::size_t i = 0; i < n; ++i) lines[i] = i + 1 == n ? reader->line() : 0;
          break;
        case Mode::Run:
          n = reader->next_run(buf.data(), lines.data(), batch);
          break;
      }
      if (n == 0) break;
      require(n <= batch, "a reader returned more events than asked for");
      for (std::size_t i = 0; i < n; ++i) {
        check_event_ok(buf[i], "a reader");
        // A PSC event's entries live until the next call: it must come last.
        require(buf[i].op != trace::Op::Psc || i + 1 == n,
                "a PSC event was followed by another event in the same batch");
        require(buf[i].op != trace::Op::Psc || mode != Mode::Run || n == 1,
                "next_run() returned a PSC event together with others");
        if (lines[i]) {
          require(lines[i] > last_line || (shared_lines && lines[i] == last_line),
                  fmt::format("line numbers went from {} to {}", last_line, lines[i]));
          last_line = lines[i];
        }
        r.events.emplace_back(buf[i], lines[i]);
      }
    }
    r.capped = r.events.size() >= kMaxEvents;
  } catch (const InputError& e) {
    check_error(e, name);
    r.error = e.what();
  }
  return r;
}

// The InputErrors of the decoders (zstd_stream.cpp, xz_gzip_stream.cpp).
inline bool is_zstd_error(const std::string& message) {
  for (const char* codec : {"zstd", "xz", "gzip"})
    for (const char* what : {"corrupt ", "truncated "})
      if (message.find(std::string(what) + codec + " stream") != std::string::npos) return true;
  return false;
}

inline std::string describe(const ReadResult& r) {
  return fmt::format("{} events{}, error '{}'", r.events.size(), r.capped ? " (capped)" : "",
                     r.error);
}

// Events written with a writer and read back with the matching reader.
inline void check_round_trip(const std::vector<OwnedEvent>& events, bool binary) {
  std::string bytes;
  const char* form = binary ? "binary" : "text";
  {
    auto sink = std::make_unique<StringSink>(bytes);
    std::unique_ptr<trace::Writer> w;
    if (binary)
      w = std::make_unique<trace::BinaryWriter>(std::move(sink), "roundtrip.rmpb");
    else
      w = std::make_unique<trace::TextWriter>(std::move(sink), "roundtrip.rmpt");
    for (const auto& e : events) w->write(e.view());
    w->finish();
  }
  std::vector<OwnedEvent> back;
  try {
    std::unique_ptr<Reader> r;
    if (binary)
      r = std::make_unique<trace::BinaryReader>(trace::memory_source(bytes), "roundtrip.rmpb");
    else
      r = std::make_unique<trace::TextReader>(trace::memory_source(bytes), "roundtrip.rmpt");
    Event ev;
    while (r->next(ev)) back.emplace_back(ev, 0);
  } catch (const InputError& e) {
    finding(fmt::format("the {} writer's output does not read back: {}", form, e.what()));
  }
  require(back.size() == events.size(),
          fmt::format("{} round trip: wrote {} events, read back {}", form, events.size(),
                      back.size()));
  for (std::size_t i = 0; i < events.size(); ++i)
    require(back[i].view() == events[i].view(),
            fmt::format("{} round trip changed event {} (line {}): '{}' came back as '{}'", form, i,
                        events[i].line, trace::format_event(events[i].view()),
                        trace::format_event(back[i].view())));
}

// The whole check for one input.
inline void fuzz_reader(const std::uint8_t* data, std::size_t size, const std::string& name,
                        const OpenFn& open, bool shared_lines = false) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  InputRng rng(data, size);

  const ReadResult ref = read_all(open, trace::memory_source(input), name, Mode::Next, 1, shared_lines);

  const std::size_t run_max = rng.between(1, 300);
  const ReadResult run = read_all(
      open, std::make_unique<ChunkedSource>(input, rng), name, Mode::Run, run_max, shared_lines);
  // A corrupt zstd (xz, gzip) stream is detected where the decoder meets the damage
  // (or only at the frame's checksum), which depends on how much compressed
  // input it was given at once; before that it hands out what it decoded,
  // which the reader may reject first. So when either read ended in a zstd
  // error the two only have to agree as far as both got.
  const bool zstd_error = is_zstd_error(ref.error) || is_zstd_error(run.error);
  if (ref.capped || run.capped || zstd_error) {
    const std::size_t n = std::min(ref.events.size(), run.events.size());
    require(std::equal(ref.events.begin(), ref.events.begin() + n, run.events.begin()),
            "next() and next_run() over small reads disagree on the events");
  } else {
    require(ref.events == run.events && ref.error == run.error,
            fmt::format("next() and next_run() over small reads disagree: {} vs {}",
                        describe(ref), describe(run)));
  }

  const std::size_t batch_max = rng.between(1, 300);
  const ReadResult batch =
      read_all(open, trace::memory_source(input), name, Mode::Batch, batch_max, shared_lines);
  require(batch.events.size() <= ref.events.size() || ref.capped || zstd_error,
          "next_batch() returned more events than next()");
  for (std::size_t i = 0; i < std::min(batch.events.size(), ref.events.size()); ++i) {
    const OwnedEvent& b = batch.events[i];
    require(b.view() == ref.events[i].view() && (b.line == 0 || b.line == ref.events[i].line),
            fmt::format("next_batch() and next() disagree at event {}", i));
  }
  if (!ref.capped && !batch.capped && !zstd_error)
    require(batch.error == ref.error &&
                (!ref.error.empty() || batch.events.size() == ref.events.size()),
            fmt::format("next_batch() and next() disagree: {} vs {}", describe(batch),
                        describe(ref)));

  check_round_trip(ref.events, /*binary=*/false);
  check_round_trip(ref.events, /*binary=*/true);
}

}  // namespace rmpsim::fuzz
