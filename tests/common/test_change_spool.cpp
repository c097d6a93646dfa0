// ChangeSpool (models/common/change_spool.hpp): the VCD's changes sorted in
// runs on disk, in bounded memory (issue 14, item 11). The merged order
// must be exactly that of one stable sort of every change by (cycle,
// signal), which is what the VCD writer did with all changes in memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "models/common/change_spool.hpp"

using rmpsim::ChangeSpool;
using rmpsim::VcdChange;

namespace {

std::vector<VcdChange> changes(std::size_t n) {
  // Out of time order and with many ties, as vCPUs in a quantum report them.
  std::vector<VcdChange> out;
  std::uint64_t x = 12345;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(VcdChange{(x >> 33) % 500, unsigned((x >> 20) % 6), unsigned(i)});
  }
  return out;
}

std::vector<VcdChange> spooled(const std::vector<VcdChange>& in, std::size_t run,
                               const std::string& path, std::size_t* runs = nullptr) {
  ChangeSpool spool(path, run);
  for (const auto& c : in) spool.push(c);
  if (runs) *runs = spool.runs();
  std::vector<VcdChange> out;
  spool.drain([&](const VcdChange& c) { out.push_back(c); });
  return out;
}

bool same(const std::vector<VcdChange>& a, const std::vector<VcdChange>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const VcdChange& x, const VcdChange& y) {
           return x.cycle == y.cycle && x.signal == y.signal && x.value == y.value;
         });
}

}  // namespace

TEST_CASE("change spool: runs on disk merge to one stable sort (issue 14 item 11)",
          "[common][vcd]") {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("rmpsim-spool-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string vcd = dir + "/w.vcd";
  auto in = changes(10000);
  auto oracle = in;
  std::stable_sort(oracle.begin(), oracle.end(), [](const VcdChange& a, const VcdChange& b) {
    return a.cycle != b.cycle ? a.cycle < b.cycle : a.signal < b.signal;
  });
  for (std::size_t run : {std::size_t(1), std::size_t(7), std::size_t(4096), std::size_t(9999),
                          std::size_t(10000), std::size_t(1) << 18}) {
    INFO("run of " << run << " changes");
    std::size_t runs = 0;
    CHECK(same(spooled(in, run, vcd, &runs), oracle));
    CHECK(runs == in.size() / run);  // full runs spilled while pushing
  }
  // The scratch file is unlinked as soon as it is created: nothing is left.
  CHECK(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}
