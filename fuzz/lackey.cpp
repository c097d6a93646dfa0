// Fuzz target: the valgrind lackey importer (traces/lackey_reader.*), the
// input read as `rmpsim trace convert IN OUT --from lackey` reads it. The
// checks are in trace_fuzz.hpp.
#include "fuzz/trace_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rmpsim;
  const std::string name = "fuzz.lackey";
  fuzz::fuzz_reader(data, size, name, [&](std::unique_ptr<trace::ByteSource> src) {
    return trace::open_reader(std::move(src), name, {trace::Format::Lackey, false});
  });
  return 0;
}
