#pragma once
// Streaming trace readers and writers. Memory use is constant in the trace
// length: readers hold one chunk of input, writers one chunk of output.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "traces/byte_io.hpp"
#include "traces/event.hpp"
#include "traces/input_error.hpp"

namespace rmpsim::trace {

enum class Format : std::uint8_t {
  Text,    // .rmpt
  Binary,  // .rmpb
  Lackey,  // valgrind --tool=lackey --trace-mem=yes output (read only)
  ChampSim,  // ChampSim input_instr records, usually .xz or .gz (read only)
  PerVcpu,   // a manifest naming one trace per vCPU, .vcpus (read only)
};

struct FileKind {
  Format format;
  bool zstd;
  // The name says uncompressed (a bare .champsim): no magic-number sniffing,
  // since a raw ChampSim trace starts with an instruction address, which may
  // look like any magic number.
  bool plain = false;
};

// Chooses the form from the file name: ".rmpt", ".rmpb", each optionally
// followed by ".zst". "-" means standard input, text form. Anything else is
// an InputError naming the accepted suffixes.
FileKind kind_from_path(const std::string& path);

// The same for an input: also ChampSim traces by name (".champsim" or
// ".champsimtrace", optionally followed by ".xz", ".gz" or ".zst") and
// per-vCPU manifests (".vcpus"). False, not an error, for an unknown name.
bool input_kind_from_path(const std::string& path, FileKind& kind);

class Reader {
 public:
  virtual ~Reader() = default;
  // Fills `ev` with the next event; false at the end of the trace. Throws
  // InputError("file", line, "...") for anything malformed; for the binary
  // form the "line" is the 1-based record number.
  virtual bool next(Event& ev) = 0;
  // Fills up to `max` events and returns how many; 0 at the end of the
  // trace. Bulk consumers save a virtual call per event, and the readers
  // decode a block at a time. A PSC event only ever comes last in a batch, so
  // its entries stay valid until the next call, as with next().
  virtual std::size_t next_batch(Event* out, std::size_t max) {
    std::size_t n = 0;
    while (n < max && next(out[n]))
      if (out[n++].op == Op::Psc) break;
    return n;
  }
  // For consumers that act on each event before they look at the next (the
  // simulator): fills up to `max` events and each one's line() in `lines`;
  // 0 at the end of the trace. Unlike next_batch() it never reads past a
  // record it would reject while it already holds events, so an InputError
  // surfaces exactly when the consumer reaches the bad record, as with
  // next(). A PSC event comes alone (its entries stay valid until the next
  // call). The default returns one event at a time.
  virtual std::size_t next_run(Event* out, std::uint64_t* lines, std::size_t max) {
    if (max == 0 || !next(out[0])) return 0;
    lines[0] = line();
    return 1;
  }
  // Input bytes consumed so far and in total (total 0 when unknown, e.g. a
  // pipe): lets a progress line show a percentage.
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::uint64_t bytes_total() const = 0;
  // Where the last event returned by next() (or the last of a batch from
  // next_batch()) came from: its line (text, lackey) or record number
  // (binary), 1-based; lets the simulator report "file:line: error: ..." for
  // semantic errors (e.g. a vCPU number beyond cpu.count). 0 before the first
  // event.
  virtual std::uint64_t line() const { return 0; }
  // The file name used in error messages.
  virtual const std::string& name() const = 0;
  // The file the events of `vcpu` come from: name() but for a per-vCPU
  // manifest, whose vCPUs each read their own file. Lets the simulator name
  // the right file in an error about an event it read earlier.
  virtual const std::string& name_for(unsigned vcpu) const {
    (void)vcpu;
    return name();
  }
};

// Opens `path` ("-" = stdin). The form comes from input_kind_from_path()
// unless `as` is given (the CLI's --from lackey|champsim); a file with any
// other name that starts with the xz or gzip magic is read as a ChampSim
// trace (how the collections ship them). zstd is detected by suffix (or
// `as.zstd`) and also by its magic number, which is all stdin has, as are xz
// and gzip; on stdin a binary trace is recognised by its magic too. Throws
// InputError when the file cannot be opened or its header is wrong.
std::unique_ptr<Reader> open_reader(const std::string& path);
std::unique_ptr<Reader> open_reader(const std::string& path, FileKind as);

// The same for an input that is already open (memory, tests, fuzzing):
// zstd by `as.zstd` or by magic number, then the reader for `as.format`; with
// `sniff_binary` a text-form input that starts with the binary magic is read
// as binary (what standard input needs). `name` is the name in errors.
std::unique_ptr<Reader> open_reader(std::unique_ptr<ByteSource> src, const std::string& name,
                                    FileKind as, bool sniff_binary = false);

class Writer {
 public:
  virtual ~Writer() = default;  // without finish(): the partial file is removed
  virtual void write(const Event& ev) = 0;
  // Flushes and atomically renames the temporary file to its final name.
  virtual void finish() = 0;
};

// Creates a writer for `path`, form from kind_from_path() (Lackey is not
// writable). Output goes to "path.tmp.<pid>" until finish().
std::unique_ptr<Writer> open_writer(const std::string& path);

}  // namespace rmpsim::trace
