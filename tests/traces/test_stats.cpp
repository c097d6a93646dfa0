// Trace statistics against counts worked out by hand.
#include <map>
#include <random>
#include <set>

#include "trace_test_util.hpp"
#include "traces/trace_stats.hpp"

using namespace rmpsim::trace;
using namespace rmpsim::trace::test;

namespace {

const std::string kTrace =
    "#!rmpsim-trace v1\n"
    "0 R 0x1000 8\n"
    "0 W 0x1ff8 16\n"  // crosses into page 0x2000
    "1 X 0x5000 4\n"
    "1 M 0x1000 8\n"  // page 0x1000 again
    "0 D 100\n"
    "0 D 50\n"
    "3 HOST R 0x9000 8\n"
    "3 HOST W 0x9ff0 32\n"  // crosses into page 0xa000
    "0 PSC ghcb private 0x1000 0x2000\n"
    "0 MAP 0x1000 0x1000 0x1000\n";

// "name value # description" lines -> name -> value.
std::map<std::string, std::string> printed(const TraceStats& st) {
  std::ostringstream os;
  st.print(os);
  std::map<std::string, std::string> out;
  std::istringstream in(os.str());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, value, hash;
    fields >> name >> value >> hash;
    REQUIRE(hash == "#");
    out[name] = value;
  }
  return out;
}

}  // namespace

TEST_CASE("issue 19 item 1: trace stats count HMEM by system-physical address and RMPOPT",
          "[stats]") {
  const std::string trace = std::string("#!rmpsim-trace v1\n") +
                            "1 HMEM R 0x200000ff8 16\n"  // crosses into the next page
                            "1 HMEM W 0x200003000 8\n"
                            "0 HOST W 0x9000 8\n"
                            "1 RMPOPT rescan\n";
  TextReader r(memory_source(trace), "t.rmpt");
  TraceStats st = compute_stats(r);
  CHECK(st.per_op[int(Op::HostMemRead)] == 1);
  CHECK(st.per_op[int(Op::HostMemWrite)] == 1);
  CHECK(st.per_op[int(Op::Rmpopt)] == 1);
  CHECK(st.hostmem.accesses == 2);
  CHECK(st.hostmem.bytes == 24);
  CHECK(st.hostmem.pages.size() == 3);
  CHECK(st.hostmem.min == 0x200000ff8);
  CHECK(st.hostmem.max == 0x200003007);
  CHECK(st.host.accesses == 1);  // HOST (guest memory) stays apart
  std::map<std::string, std::string> p = printed(st);
  CHECK(p["op.HMEM_R"] == "1");
  CHECK(p["op.HMEM_W"] == "1");
  CHECK(p["op.RMPOPT"] == "1");
  CHECK(p["hostmem.accesses"] == "2");
  CHECK(p["hostmem.addr_min"] == "0x200000ff8");
}

TEST_CASE("trace stats count ops, vCPUs, pages and ranges", "[stats]") {
  TextReader r(memory_source(kTrace), "t.rmpt");
  TraceStats st = compute_stats(r);
  CHECK(st.events == 10);
  CHECK(st.per_op[int(Op::Read)] == 1);
  CHECK(st.per_op[int(Op::Write)] == 1);
  CHECK(st.per_op[int(Op::Exec)] == 1);
  CHECK(st.per_op[int(Op::Modify)] == 1);
  CHECK(st.per_op[int(Op::Delay)] == 2);
  CHECK(st.per_op[int(Op::HostRead)] == 1);
  CHECK(st.per_op[int(Op::HostWrite)] == 1);
  CHECK(st.per_op[int(Op::Psc)] == 1);
  CHECK(st.per_op[int(Op::Map)] == 1);
  CHECK(st.per_op[int(Op::Unmap)] == 0);
  CHECK(st.per_vcpu == std::vector<std::uint64_t>{6, 2, 0, 2});
  CHECK(st.guest.accesses == 4);
  CHECK(st.guest.bytes == 36);
  CHECK(st.guest.pages.size() == 3);  // 0x1000, 0x2000, 0x5000
  CHECK(st.guest.min == 0x1000);
  CHECK(st.guest.max == 0x5003);
  CHECK(st.host.accesses == 2);
  CHECK(st.host.bytes == 40);
  CHECK(st.host.pages.size() == 2);  // 0x9000, 0xa000
  CHECK(st.host.min == 0x9000);
  CHECK(st.host.max == 0xa00f);
  CHECK(st.delay_cycles == 150);
  CHECK(st.psc_entries == 2);

  std::map<std::string, std::string> p = printed(st);
  CHECK(p["events"] == "10");
  CHECK(p["op.R"] == "1");
  CHECK(p["op.D"] == "2");
  CHECK(p["op.HOST_R"] == "1");
  CHECK(p["op.HOST_W"] == "1");
  CHECK(p["op.UNMAP"] == "0");  // every op is listed
  CHECK(p.count("op.RMPADJUST") == 1);
  CHECK(p["vcpu0.events"] == "6");
  CHECK(p["vcpu3.events"] == "2");
  CHECK(p.count("vcpu2.events") == 0);  // vCPUs without events are left out
  CHECK(p["guest.pages_4k"] == "3");
  CHECK(p["guest.addr_min"] == "0x1000");
  CHECK(p["guest.addr_max"] == "0x5003");
  CHECK(p["host.pages_4k"] == "2");
  CHECK(p["host.addr_max"] == "0xa00f");
  CHECK(p["delay.cycles"] == "150");
}

TEST_CASE("trace stats of a trace without accesses print '-' ranges", "[stats]") {
  TextReader r(memory_source("#!rmpsim-trace v1\n0 D 5\n"), "t.rmpt");
  std::map<std::string, std::string> p = printed(compute_stats(r));
  CHECK(p["guest.addr_min"] == "-");
  CHECK(p["host.addr_max"] == "-");
  CHECK(p["guest.pages_4k"] == "0");
}

TEST_CASE("PageSet agrees with std::set", "[stats]") {
  std::mt19937_64 rng(42);  // any sequence will do: std::set is the oracle
  PageSet ps;
  std::set<std::uint64_t> oracle;
  for (int i = 0; i < 200000; ++i) {
    std::uint64_t page = rng() % 50000 + (i % 3 == 0 ? (rng() >> 12) : 0);
    bool fresh = oracle.insert(page).second;
    REQUIRE(ps.insert(page) == fresh);
  }
  CHECK(ps.size() == oracle.size());
}
