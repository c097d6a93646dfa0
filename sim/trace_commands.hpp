#pragma once
// rmpsim trace stat / convert / gen.
#include <cstdint>
#include <string>

namespace rmpsim {

struct GenArgs {
  std::string pattern = "hot";
  std::uint64_t accesses = 1000000;
  unsigned vcpus = 1;
  std::uint64_t footprint = 64ull << 20;  // bytes
  double write_fraction = 0.3;
  std::uint64_t seed = 1;
  unsigned hot_pages = 8;
};

struct TraceArgs {
  std::string in;
  std::string out;
  std::string from;  // "", "lackey" or "champsim"
  GenArgs gen;
};

int cmd_trace_stat(const TraceArgs& args);
int cmd_trace_convert(const TraceArgs& args);
int cmd_trace_gen(const TraceArgs& args);

}  // namespace rmpsim
