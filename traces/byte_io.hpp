#pragma once
// Byte streams under the trace readers and writers: a source hands out the
// input a chunk at a time (file, stdin, memory, or a zstd decoder over one of
// those), a sink takes the output and publishes it atomically. Readers and
// writers own one fixed-size buffer each, so memory never grows with the
// trace length.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace rmpsim::trace {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n (> 0) bytes into buf; returns 0 only at the end of the
  // input. Throws InputError on read errors or corrupt input.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  // Bytes taken from the underlying file so far / in total (0 = unknown).
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::uint64_t bytes_total() const = 0;
};

// A file, or standard input for "-". `name` is the name used in errors.
std::unique_ptr<ByteSource> open_file_source(const std::string& path, const std::string& name);

// Serves `prefix` first, then the rest of `inner`: lets the opener sniff
// magic bytes from a pipe and put them back.
std::unique_ptr<ByteSource> prefixed_source(std::string prefix, std::unique_ptr<ByteSource> inner);

// An in-memory input (tests, and anything that already holds a trace).
std::unique_ptr<ByteSource> memory_source(std::string data);

// Reads until `n` bytes or the end of the input, whichever comes first.
std::string read_up_to(ByteSource& src, std::size_t n);

// For readers of fixed-size records over a buffer `buf` of `capacity`
// bytes whose unread part is [cur, end): unless that already holds `need`
// bytes, moves it to the start of `buf` and reads until it does or the input
// ends. Returns how many bytes [cur, end) holds then.
std::size_t refill_at_least(ByteSource& src, unsigned char* buf, std::size_t capacity,
                            const unsigned char*& cur, const unsigned char*& end,
                            std::size_t need);

class ByteSink {
 public:
  virtual ~ByteSink() = default;  // without finish(): nothing is published
  virtual void write(const char* data, std::size_t n) = 0;
  virtual void finish() = 0;
};

// An OutputFile (traces/output_file.hpp): a file is written as
// "path.tmp.<pid>" and renamed to `path` in finish(), removed if finish()
// never ran; "-", a pipe or a device is written directly.
std::unique_ptr<ByteSink> open_file_sink(const std::string& path);

}  // namespace rmpsim::trace
