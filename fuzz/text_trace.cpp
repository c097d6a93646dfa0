// Fuzz target: the text trace form (traces/text_reader.*), the input read
// as a .rmpt file. The checks are in trace_fuzz.hpp.
#include "fuzz/trace_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rmpsim;
  const std::string name = "fuzz.rmpt";
  fuzz::fuzz_reader(data, size, name, [&](std::unique_ptr<trace::ByteSource> src) {
    // As the CLI opens a .rmpt file: a zstd magic still selects the decoder.
    return trace::open_reader(std::move(src), name, {trace::Format::Text, false});
  });
  return 0;
}
