#pragma once
// Streaming zstd on top of the byte streams: decompression into the reader's
// fixed buffer, compression from the writer's. Neither holds more than one
// zstd block of data, whatever the trace length.
#include <memory>
#include <string>
#include <string_view>

#include "traces/byte_io.hpp"

namespace rmpsim::trace {

// The four bytes every zstd frame starts with (28 B5 2F FD).
bool has_zstd_magic(std::string_view first_bytes);

// Decompresses `inner`. A corrupt stream or one that ends inside a frame is
// an InputError naming `name` (line 0: the file as a whole).
std::unique_ptr<ByteSource> zstd_source(std::unique_ptr<ByteSource> inner, const std::string& name);

// Compresses into `inner` at `level`; finish() ends the frame, then finishes
// `inner`.
std::unique_ptr<ByteSink> zstd_sink(std::unique_ptr<ByteSink> inner, const std::string& name,
                                    int level = 3);

}  // namespace rmpsim::trace
