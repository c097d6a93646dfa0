#pragma once
// The resolved configuration: every key has a documented default (the
// blocks' schema fragments, models/config_schema.cpp), a JSON file may
// override any of them, and `--set a.b=value` overrides that. Unknown keys
// and ill-typed values are InputErrors that name the key and, for unknown
// keys, the closest valid one.
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/common/schema_builder.hpp"
#include "models/common/types.hpp"

namespace rmpsim {

class Config {
 public:
  // All defaults.
  // All defaults of `schema` (models/config_schema.hpp: config_schema(),
  // or default_config()). The schema must outlive the Config.
  explicit Config(const Schema& schema);

  // Merges a JSON file; keys are dotted paths into nested objects.
  void load_file(const std::string& path);
  // The same for a JSON document already in memory; `path` is the file name
  // in errors.
  void load_text(const std::string& text, const std::string& path);
  // Applies one "a.b=value" override. The value is parsed according to the
  // key's type (numbers, true/false, enum names, JSON for lists).
  void apply_set(const std::string& assignment);
  // Sets one key to a JSON value (sweep axes, tests): unknown keys and
  // ill-typed or out-of-range values are InputError(where, line, ...).
  void set(const std::string& key, const Json& value, const std::string& where = "Config::set",
           std::uint64_t line = 0);

  // Relations between keys that no single key's range can express (a
  // set-associative structure's entries must be a multiple of its ways).
  // Throws InputError(where, line, ...) naming the relation and both keys;
  // an empty `where` reads "rmpsim: error: ...".
  void check_relations(const std::string& where, std::uint64_t line) const;
  // The message check_relations() gives for a broken relation.
  std::string relation_message(const std::pair<std::string, std::string>& r) const;
  // The first {entries key, ways key} pair check_relations() would refuse,
  // or nullptr.
  const std::pair<std::string, std::string>* broken_relation() const;
  // The keys check_relations() relates, as {entries key, ways key} pairs
  // (SchemaBuilder::multiple_of).
  const std::vector<std::pair<std::string, std::string>>& related_keys() const;

  const Json& tree() const { return m_tree; }
  std::string dump() const { return m_tree.dump(2) + "\n"; }
  // FNV-1a of the canonical dump: names a configuration in stats and sweeps.
  std::string hash() const;

  std::int64_t get_int(const std::string& path) const;
  double get_float(const std::string& path) const;
  bool get_bool(const std::string& path) const;
  std::string get_string(const std::string& path) const;
  const Json& get(const std::string& path) const;
  // A page-size Enum key ("4k", "2m" or "1g").
  PageSize get_page_size(const std::string& path) const;

  // Markdown reference of every key (docs/config.md is this text; a test
  // keeps them equal).
  std::string reference_markdown() const;

 private:
  void set_value(const ConfigKey& key, const Json& value, const std::string& where,
                 std::uint64_t line);
  const Schema* m_schema;
  Json m_tree;
};

// The core clock (cpu.freq_ghz): params_from() functions convert the
// schema's ns latencies to the integer cycles the models count in.
struct Clock {
  double ghz;
  // Rounded to the nearest cycle.
  std::uint64_t cycles(double ns) const { return std::llround(ns * ghz); }
};

// Whether `path` names a configuration key.
bool is_config_key(const Schema& schema, const std::string& path);

// The schema key closest to `path` by edit distance (for "did you mean").
std::string closest_key(const Schema& schema, const std::string& path);

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
