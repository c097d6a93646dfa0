// rmpsim trace stat / convert / gen.
#include <fstream>
#include <iostream>
#include <regex>

#include <fmt/format.h>

#include "sim/output.hpp"
#include "sim/trace_commands.hpp"
#include "traces/generator.hpp"
#include "traces/trace_io.hpp"
#include "traces/trace_stats.hpp"

namespace rmpsim {

namespace {

// Whether the file starts like `valgrind --tool=lackey --trace-mem=yes`
// output: "==PID==" banner lines, "I  ADDR,SIZE" or " L|S|M ADDR,SIZE".
bool looks_like_lackey(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  static const std::regex kLackey(R"(^(==[0-9]+==.*|I  +[0-9a-fA-F]+,[0-9]+| [LSM] +[0-9a-fA-F]+,[0-9]+)\s*$)");
  for (int i = 0; i < 20 && std::getline(in, line); ++i)
    if (std::regex_match(line, kLackey)) return true;
  return false;
}

std::unique_ptr<trace::Reader> open_input(const TraceArgs& args) {
  if (args.from.empty()) {
    try {
      return trace::open_reader(args.in);
    } catch (const InputError& e) {
      // Issue 16, item 7: a lackey file given without --from lackey.
      if (args.in == "-" || !looks_like_lackey(args.in)) throw;
      const std::string prefix = e.file() + (e.line() ? ":" + std::to_string(e.line()) : "") +
                                 ": error: ";
      throw InputError(e.file(), e.line(),
                       std::string(e.what()).substr(prefix.size()) +
                           " (the file looks like valgrind lackey output: add --from lackey)");
    }
  }
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
  // The output is renamed over its path at the end: over the input, that
  // would lose the input (issue 14, item 5).
  check_outputs_distinct({{"input trace", args.in}}, {{"output trace", args.out}});
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
