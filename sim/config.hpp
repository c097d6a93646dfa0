#pragma once
// The resolved configuration: every key has a documented default (the table
// in config_schema.cpp), a JSON file may override any of them, and
// `--set a.b=value` overrides that. Unknown keys and ill-typed values are
// InputErrors that name the key and, for unknown keys, the closest valid one.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rmpsim {

using Json = nlohmann::ordered_json;

enum class KeyType { Int, Float, Bool, String, Enum, RangeList };

// One documented configuration key.
struct ConfigKey {
  std::string path;     // dotted, e.g. "cpu.count"
  KeyType type;
  Json def;             // default value
  double min = 0;       // Int/Float bounds (inclusive)
  double max = 0;
  std::vector<std::string> choices;  // Enum
  std::string unit;     // "cycles", "ns", "entries", ... (documentation)
  std::string doc;      // what it controls
  std::string source;   // where the default comes from, or "assumption: ..."
};

// The whole key table, in documentation order.
const std::vector<ConfigKey>& config_schema();

class Config {
 public:
  // All defaults.
  Config();

  // Merges a JSON file; keys are dotted paths into nested objects.
  void load_file(const std::string& path);
  // The same for a JSON document already in memory; `path` is the file name
  // in errors.
  void load_text(const std::string& text, const std::string& path);
  // Applies one "a.b=value" override. The value is parsed according to the
  // key's type (numbers, true/false, enum names, JSON for lists).
  void apply_set(const std::string& assignment);
  // Sets one key to a JSON value (sweep axes): unknown keys and ill-typed or
  // out-of-range values are InputError(where, line, ...).
  void set(const std::string& key, const Json& value, const std::string& where,
           std::uint64_t line);

  // Relations between keys that no single key's range can express (a
  // set-associative structure's entries must be a multiple of its ways).
  // Throws InputError(where, line, ...); an empty `where` names the
  // "--set WAYS-KEY" that would fix it.
  void check_relations(const std::string& where, std::uint64_t line) const;
  // The first {entries key, ways key} pair check_relations() would refuse,
  // or nullptr.
  const std::pair<std::string, std::string>* broken_relation() const;
  // The keys check_relations() relates, as {entries key, ways key} pairs.
  static const std::vector<std::pair<std::string, std::string>>& related_keys();

  const Json& tree() const { return m_tree; }
  std::string dump() const { return m_tree.dump(2) + "\n"; }
  // FNV-1a of the canonical dump: names a configuration in stats and sweeps.
  std::string hash() const;

  std::int64_t get_int(const std::string& path) const;
  double get_float(const std::string& path) const;
  bool get_bool(const std::string& path) const;
  std::string get_string(const std::string& path) const;
  const Json& get(const std::string& path) const;

  // Markdown reference of every key (docs/config.md is this text; a test
  // keeps them equal).
  static std::string reference_markdown();

 private:
  void set_value(const ConfigKey& key, const Json& value, const std::string& where,
                 std::uint64_t line);
  Json m_tree;
};

// Whether `path` names a configuration key.
bool is_config_key(const std::string& path);

// The schema key closest to `path` by edit distance (for "did you mean").
std::string closest_key(const std::string& path);

// Helpers for the project's JSON input files (configs, sweeps), so that every
// one of them reports errors as file:line.
std::string read_text_file(const std::string& path, const std::string& what);
// Parses `text`; a syntax error, or nesting deeper than kMaxJsonDepth,  is InputError(path, line, "invalid JSON
// (expected <expected>)").
Json parse_json_document(const std::string& text, const std::string& path,
                         const std::string& expected);
inline constexpr unsigned kMaxJsonDepth = 64;
// FNV-1a, 64 bits, as 16 hex digits: the project's content hash.
std::string fnv1a_hex(const std::string& bytes);

}  // namespace rmpsim
