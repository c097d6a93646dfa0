// Reader throughput: writes one generated access trace in every form, then
// times reading each back (median of N runs) through next() and through
// next_batch(). Driven by scripts/bench-traces, which builds this at -O2.
//
//   bench_traces DIR [--accesses N] [--runs N]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "traces/generator.hpp"
#include "traces/trace_io.hpp"

using namespace rmpsim::trace;

namespace {

struct Timed {
  double seconds;
  std::uint64_t events;
  std::uint64_t checksum;  // keeps the decode from being optimised away
};

Timed read_all(const std::string& path, bool batch) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = open_reader(path);
  Timed t{0, 0, 0};
  if (batch) {
    std::vector<Event> buf(1024);
    while (std::size_t n = r->next_batch(buf.data(), buf.size())) {
      for (std::size_t i = 0; i < n; ++i) t.checksum += buf[i].addr ^ buf[i].size;
      t.events += n;
    }
  } else {
    Event ev;
    while (r->next(ev)) {
      t.checksum += ev.addr ^ ev.size;
      ++t.events;
    }
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

double file_mb(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? double(st.st_size) / 1e6 : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_traces DIR [--accesses N] [--runs N]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep the table in order with the stderr lines
  std::string dir = argv[1];
  GenSpec spec;
  spec.pattern = "random";
  spec.accesses = 20'000'000;
  spec.vcpus = 4;
  spec.footprint_bytes = 1ull << 32;
  spec.write_fraction = 0.3;
  int runs = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--accesses"))
      spec.accesses = std::strtoull(argv[i + 1], nullptr, 0);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
  }
  if (runs < 1) runs = 1;

  const char* forms[] = {"bench.rmpt", "bench.rmpb", "bench.rmpt.zst", "bench.rmpb.zst"};
  for (const char* f : forms) {
    auto t0 = std::chrono::steady_clock::now();
    auto w = open_writer(dir + "/" + f);
    generate(spec, *w);
    w->finish();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "wrote %-15s %8.1f MB in %.2f s\n", f, file_mb(dir + "/" + f), s);
  }

  std::printf("%llu accesses (%s, %u vCPUs), median of %d runs\n\n",
              (unsigned long long)spec.accesses, spec.pattern.c_str(), spec.vcpus, runs);
  std::printf("%-15s %-11s %9s %10s %14s %10s\n", "file", "API", "size MB", "median s",
              "M events/s", "MB/s");
  std::uint64_t sink = 0;
  for (const char* f : forms) {
    std::string path = dir + "/" + f;
    for (bool batch : {false, true}) {
      std::vector<double> secs;
      std::uint64_t events = 0;
      for (int r = 0; r < runs; ++r) {
        Timed t = read_all(path, batch);
        secs.push_back(t.seconds);
        events = t.events;
        sink += t.checksum;
      }
      std::sort(secs.begin(), secs.end());
      double med = secs[secs.size() / 2];
      std::printf("%-15s %-11s %9.1f %10.3f %14.1f %10.0f\n", f, batch ? "next_batch" : "next",
                  file_mb(path), med, double(events) / med / 1e6, file_mb(path) / med);
      if (events != spec.accesses) {
        std::fprintf(stderr, "error: read %llu events from %s, expected %llu\n",
                     (unsigned long long)events, f, (unsigned long long)spec.accesses);
        return 1;
      }
    }
  }
  std::fprintf(stderr, "(checksum %llx)\n", (unsigned long long)sink);
  return 0;
}
