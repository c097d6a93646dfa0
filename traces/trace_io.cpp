// The factories of trace_io.hpp: pick the form from the file name (or the
// caller's FileKind), stack the zstd decoder/encoder when needed, and build
// the reader or writer for that form.
#include "traces/trace_io.hpp"

#include <string_view>

#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/byte_io.hpp"
#include "traces/lackey_reader.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"
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

std::unique_ptr<Reader> open_reader(const std::string& path) {
  return open_reader(path, kind_from_path(path));
}

std::unique_ptr<Reader> open_reader(const std::string& path, FileKind as) {
  std::string name = display_name(path);
  // Standard input has no suffix: a binary trace is told apart by its magic.
  return open_reader(open_file_source(path, name), name, as, path == "-");
}

std::unique_ptr<Reader> open_reader(std::unique_ptr<ByteSource> src, const std::string& name,
                                    FileKind as, bool sniff_binary) {
  // zstd by suffix (or `as`), and also by magic number: a compressed file
  // never starts like an uncompressed one, so this only ever helps (stdin
  // has no suffix at all).
  std::string head = read_up_to(*src, 4);
  bool zstd = as.zstd || has_zstd_magic(head);
  src = prefixed_source(std::move(head), std::move(src));
  if (zstd) src = zstd_source(std::move(src), name);

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
  }
  throw InputError(name, 0, "expected a trace format (text, binary or lackey)");
}

std::unique_ptr<Writer> open_writer(const std::string& path) {
  FileKind kind = kind_from_path(path);  // "-": text on standard output
  std::unique_ptr<ByteSink> sink = open_file_sink(path);
  if (kind.zstd) sink = zstd_sink(std::move(sink), path);
  if (kind.format == Format::Binary) return std::make_unique<BinaryWriter>(std::move(sink), path);
  return std::make_unique<TextWriter>(std::move(sink), path);
}

}  // namespace rmpsim::trace
