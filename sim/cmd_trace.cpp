// rmpsim trace stat / convert / gen.
#include <iostream>

#include <fmt/format.h>

#include "sim/trace_commands.hpp"
#include "traces/generator.hpp"
#include "traces/trace_io.hpp"
#include "traces/trace_stats.hpp"

namespace rmpsim {

namespace {
std::unique_ptr<trace::Reader> open_input(const TraceArgs& args) {
  if (args.from.empty()) return trace::open_reader(args.in);
  trace::FileKind kind{};
  if (args.from == "lackey") {
    kind.format = trace::Format::Lackey;
  } else if (args.from == "champsim") {
    // A name that says more (".champsim.xz", a bare ".champsim") still counts.
    if (!trace::input_kind_from_path(args.in, kind) || kind.format != trace::Format::ChampSim)
      kind = trace::FileKind{trace::Format::ChampSim, false};
  } else {
    throw InputError("--from " + args.from, 0, "unknown input form (expected lackey or champsim)");
  }
  kind.zstd =
      kind.zstd || (args.in.size() > 4 && args.in.compare(args.in.size() - 4, 4, ".zst") == 0);
  return trace::open_reader(args.in, kind);
}
}  // namespace

int cmd_trace_convert(const TraceArgs& args) {
  auto reader = open_input(args);
  auto writer = trace::open_writer(args.out);
  trace::Event ev;
  std::uint64_t n = 0;
  while (reader->next(ev)) {
    writer->write(ev);
    ++n;
  }
  writer->finish();
  fmt::print(stderr, "converted {} events: {} -> {}\n", n, args.in, args.out);
  return 0;
}

int cmd_trace_stat(const TraceArgs& args) {
  auto reader = open_input(args);
  trace::TraceStats stats = trace::compute_stats(*reader);
  stats.print(std::cout);
  return 0;
}

int cmd_trace_gen(const TraceArgs& args) {
  trace::GenSpec spec;
  spec.pattern = args.gen.pattern;
  spec.accesses = args.gen.accesses;
  spec.vcpus = args.gen.vcpus;
  spec.footprint_bytes = args.gen.footprint;
  spec.write_fraction = args.gen.write_fraction;
  spec.seed = args.gen.seed;
  spec.hot_pages = args.gen.hot_pages;
  auto writer = trace::open_writer(args.out);
  trace::generate(spec, *writer);
  writer->finish();
  return 0;
}

}  // namespace rmpsim
