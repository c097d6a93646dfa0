// Fuzz target: the binary trace form and zstd (traces/binary_reader.*,
// traces/zstd_stream.*, traces/trace_io.*). The input is read as a .rmpb
// file: one that starts with the zstd magic goes through the decoder first,
// as the CLI does, so the seed corpus holds raw and compressed traces and
// the fuzzer mutates both. The checks are in trace_fuzz.hpp.
#include "fuzz/trace_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rmpsim;
  const std::string name = "fuzz.rmpb";
  fuzz::fuzz_reader(data, size, name, [&](std::unique_ptr<trace::ByteSource> src) {
    return trace::open_reader(std::move(src), name, {trace::Format::Binary, false});
  });
  return 0;
}
