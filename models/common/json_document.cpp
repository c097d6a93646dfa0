// The project's JSON input files (configs, sweeps, scenario files): reading
// them, and parsing them so that every error is file:line (config.hpp).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "models/common/config.hpp"
#include "traces/input_error.hpp"

namespace rmpsim {
namespace {

// Where nlohmann's parser stops in `text` (0-based byte offset). Its SAX
// interface reports every error with a position -- json::parse gives one to
// parse_error only, not to a number overflow (out_of_range 406).
std::size_t json_error_offset(const std::string& text) {
  struct Finder final : nlohmann::json_sax<Json> {
    std::size_t at = 0;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&, const Json::exception&) override {
      at = position ? position - 1 : 0;  // position counts the bad character
      return false;
    }
  } finder;
  Json::sax_parse(text, &finder);
  return finder.at;
}

// nlohmann keeps the last of two equal keys in an object, so a config that
// sets "count" twice would silently use one of them (issue 14, item 14).
// Runs on a document that parsed: a scan of its text, a set of keys per
// open object. A key with escapes is compared decoded ("\u0061" is "a").
void check_unique_keys(const std::string& text, const std::string& path) {
  std::vector<std::map<std::string, std::uint64_t>> objects;  // key -> line; {} per open '{'
  std::vector<bool> is_object;                                // per open '{' or '['
  std::uint64_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '{' || c == '[') {
      is_object.push_back(c == '{');
      if (c == '{') objects.emplace_back();
    } else if (c == '}' || c == ']') {
      if (!is_object.empty() && is_object.back()) objects.pop_back();
      if (!is_object.empty()) is_object.pop_back();
    } else if (c == '"') {
      const std::size_t start = i;
      bool escaped = false;
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') {
          escaped = true;
          ++i;
        }
      std::size_t j = i + 1;
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j >= text.size() || text[j] != ':' || is_object.empty() || !is_object.back()) continue;
      std::string key = text.substr(start + 1, i - start - 1);
      if (escaped) key = Json::parse(text.substr(start, i - start + 1)).get<std::string>();
      const auto [it, fresh] = objects.back().emplace(key, line);
      if (!fresh)
        throw InputError(path, line,
                         fmt::format("duplicate key \"{}\" (also on line {}): each key may appear "
                                     "once in an object",
                                     key, it->second));
    }
  }
}

}  // namespace

Json parse_json_document(const std::string& text, const std::string& path,
                         const std::string& expected) {
  // nlohmann parses any depth, but copying or flattening a value recurses
  // once per level: 100,000 nested objects overflowed the stack of an ASan
  // build (tests/sim/test_config.cpp, "deep nesting"). No input of ours
  // nests deeper than a handful of levels, so refuse deep documents first.
  std::uint64_t line = 1;
  unsigned depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (in_string) {
      if (c == '\\') ++i;  // an escaped character, possibly a quote
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth)
        throw InputError(path, line,
                         fmt::format("invalid JSON: nested deeper than {} levels (expected {})",
                                     kMaxJsonDepth, expected));
    } else if ((c == '}' || c == ']') && depth) {
      --depth;
    }
  }
  try {
    Json doc = Json::parse(text);
    check_unique_keys(text, path);
    return doc;
  } catch (const Json::exception&) {
    // Not only parse_error: a number too large for a double (1e400) is an
    // out_of_range, which escaped as an internal error
    // (fuzz/regressions/config/number-overflow).
    std::size_t off = std::min<std::size_t>(json_error_offset(text), text.size());
    std::uint64_t line = 1 + std::count(text.begin(), text.begin() + off, '\n');
    throw InputError(path, line, "invalid JSON (expected " + expected + ")");
  }
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "cannot open " + what);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fnv1a_hex(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

}  // namespace rmpsim
