#pragma once
// Streaming xz (liblzma) and gzip (zlib) decompression on top of the byte
// streams, for imported traces: the ChampSim collections (DPC-3, CRC-2, GAP,
// CloudSuite) ship as .xz or .gz. Like zstd_stream.hpp, each holds one input
// block whatever the trace length; concatenated streams (xz) and members
// (gzip) are read one after the other, as xz -d and gzip -d do.
#include <memory>
#include <string>
#include <string_view>

#include "traces/byte_io.hpp"

namespace rmpsim::trace {

// The six bytes an xz stream starts with (FD '7zXZ' 00), and the two of a
// gzip member (1F 8B).
bool has_xz_magic(std::string_view first_bytes);
bool has_gzip_magic(std::string_view first_bytes);

// Decompress `inner`. A corrupt stream or one that ends early is an
// InputError naming `name` (line 0: the file as a whole).
std::unique_ptr<ByteSource> xz_source(std::unique_ptr<ByteSource> inner, const std::string& name);
std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> inner, const std::string& name);

}  // namespace rmpsim::trace
