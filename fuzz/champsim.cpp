// Fuzz target: the ChampSim importer (traces/champsim_reader.*) and the xz and
// gzip decoders under it (traces/xz_gzip_stream.*, by magic), the input read
// as `rmpsim trace convert IN OUT --from champsim` reads it. The checks are in
// trace_fuzz.hpp.
#include "fuzz/trace_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rmpsim;
  const std::string name = "fuzz.champsim";
  fuzz::fuzz_reader(
      data, size, name,
      [&](std::unique_ptr<trace::ByteSource> src) {
        return trace::open_reader(std::move(src), name, {trace::Format::ChampSim, false});
      },
      /*shared_lines=*/true);
  return 0;
}
