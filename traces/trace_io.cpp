// The factories of trace_io.hpp: pick the form from the file name (or the
// caller's FileKind), stack the zstd decoder/encoder when needed, and build
// the reader or writer for that form.
#include "traces/trace_io.hpp"

#include <string_view>

#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/byte_io.hpp"
#include "traces/champsim_reader.hpp"
#include "traces/lackey_reader.hpp"
#include "traces/per_vcpu_reader.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"
#include "traces/xz_gzip_stream.hpp"
#include "traces/zstd_stream.hpp"

namespace rmpsim::trace {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace

FileKind kind_from_path(const std::string& path) {
  if (path == "-") return {Format::Text, false};
  std::string_view p = path;
  bool zstd = ends_with(p, ".zst");
  if (zstd) p.remove_suffix(4);
  if (ends_with(p, ".rmpt")) return {Format::Text, zstd};
  if (ends_with(p, ".rmpb")) return {Format::Binary, zstd};
  throw InputError(path, 0,
                   "expected a trace file name ending in .rmpt, .rmpb, .rmpt.zst or .rmpb.zst");
}

bool input_kind_from_path(const std::string& path, FileKind& kind) {
  std::string_view p = path;
  if (ends_with(p, ".vcpus")) {
    kind = {Format::PerVcpu, false};
    return true;
  }
  const bool zstd = ends_with(p, ".zst");
  const bool xz_gz = ends_with(p, ".xz") || ends_with(p, ".gz");  // known by their magic
  if (zstd) p.remove_suffix(4);
  if (xz_gz) p.remove_suffix(3);
  if (ends_with(p, ".champsim") || ends_with(p, ".champsimtrace")) {
    // Uncompressed, the first bytes are an instruction address, which may
    // look like any magic number: no sniffing then.
    kind = {Format::ChampSim, zstd, !zstd && !xz_gz};
    return true;
  }
  if (xz_gz || (path != "-" && !ends_with(p, ".rmpt") && !ends_with(p, ".rmpb"))) return false;
  kind = kind_from_path(path);
  return true;
}

std::unique_ptr<Reader> open_reader(const std::string& path) {
  FileKind kind{};
  if (input_kind_from_path(path, kind)) return open_reader(path, kind);
  // No known name: the ChampSim collections name their traces freely
  // ("bfs-3.trace.gz", "cassandra_phase0_core0.trace.xz"), but always
  // compress them with xz or gzip, which none of our own forms uses.
  std::string name = display_name(path);
  std::unique_ptr<ByteSource> src = open_file_source(path, name);
  std::string head = read_up_to(*src, 6);
  if (!has_xz_magic(head) && !has_gzip_magic(head))
    throw InputError(path, 0,
                     "expected a trace file name ending in .rmpt, .rmpb, .rmpt.zst or .rmpb.zst, "
                     "a ChampSim trace (.champsim or .champsimtrace, optionally .xz, .gz or "
                     ".zst, or any xz or gzip file) or a per-vCPU manifest (.vcpus)");
  return open_reader(prefixed_source(std::move(head), std::move(src)), name,
                     {Format::ChampSim, false});
}

std::unique_ptr<Reader> open_reader(const std::string& path, FileKind as) {
  std::string name = display_name(path);
  if (as.format == Format::PerVcpu) {
    std::vector<std::unique_ptr<Reader>> traces;
    for (const std::string& t : read_per_vcpu_manifest(path)) traces.push_back(open_reader(t));
    return std::make_unique<PerVcpuReader>(std::move(traces), name);
  }
  // Standard input has no suffix: a binary trace is told apart by its magic.
  return open_reader(open_file_source(path, name), name, as, path == "-");
}

std::unique_ptr<Reader> open_reader(std::unique_ptr<ByteSource> src, const std::string& name,
                                    FileKind as, bool sniff_binary) {
  // zstd by suffix (or `as`), and also by magic number: a compressed file
  // never starts like an uncompressed one, so this only ever helps (stdin
  // has no suffix at all).
  std::string head = read_up_to(*src, 6);
  bool zstd = as.zstd || (!as.plain && has_zstd_magic(head));
  const bool xz = !zstd && !as.plain && has_xz_magic(head);
  const bool gzip = !zstd && !as.plain && has_gzip_magic(head);
  src = prefixed_source(std::move(head), std::move(src));
  if (zstd) src = zstd_source(std::move(src), name);
  if (xz) src = xz_source(std::move(src), name);
  if (gzip) src = gzip_source(std::move(src), name);

  Format format = as.format;
  if (sniff_binary && format == Format::Text) {
    // The binary magic cannot start a text trace.
    std::string magic = read_up_to(*src, sizeof binfmt::kMagic);
    if (magic == std::string_view(binfmt::kMagic, sizeof binfmt::kMagic)) format = Format::Binary;
    src = prefixed_source(std::move(magic), std::move(src));
  }
  switch (format) {
    case Format::Text:
      return std::make_unique<TextReader>(std::move(src), name);
    case Format::Binary:
      return std::make_unique<BinaryReader>(std::move(src), name);
    case Format::Lackey:
      return std::make_unique<LackeyReader>(std::move(src), name);
    case Format::ChampSim:
      return std::make_unique<ChampSimReader>(std::move(src), name);
    case Format::PerVcpu:
      break;  // a manifest is a file of names, not a stream: open_reader(path, as)
  }
  throw InputError(name, 0, "expected a trace format (text, binary, lackey or champsim)");
}

std::unique_ptr<Writer> open_writer(const std::string& path) {
  FileKind kind = kind_from_path(path);  // "-": text on standard output
  std::unique_ptr<ByteSink> sink = open_file_sink(path);
  if (kind.zstd) sink = zstd_sink(std::move(sink), path);
  if (kind.format == Format::Binary) return std::make_unique<BinaryWriter>(std::move(sink), path);
  return std::make_unique<TextWriter>(std::move(sink), path);
}

}  // namespace rmpsim::trace
