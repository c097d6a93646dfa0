#pragma once
// Configuration keys and the schema they form. Each block declares its own
// keys in a schema fragment next to its code (models/<block>/*_params.cpp:
// `void <section>_schema(SchemaBuilder&)`), and reads them back in one
// `<block>_params_from(const Config&, const Clock&)`; models/config_schema.cpp
// lists the fragments in documentation order (docs/development.md, "Adding a
// configuration key").
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace rmpsim {

using Json = nlohmann::ordered_json;

enum class KeyType { Int, Float, Bool, String, Enum, RangeList };

// One documented configuration key.
struct ConfigKey {
  std::string path;  // dotted, e.g. "cpu.count"
  KeyType type;
  Json def;        // default value
  double min = 0;  // Int/Float bounds (inclusive)
  double max = 0;
  std::vector<std::string> choices;  // Enum
  std::string unit;                  // "cycles", "ns", "entries", ... (documentation)
  std::string doc;                   // what it controls
  std::string source;                // where the default comes from, or "assumption: ..."
};

struct Schema {
  std::vector<ConfigKey> keys;  // in documentation order (docs/config.md, config.json)
  // {entries key, ways key}: a set-associative structure's entries must be a
  // multiple of its ways, which no single key's range can express.
  std::vector<std::pair<std::string, std::string>> multiples;
  // {removed key, its replacement}: a configuration that still sets the
  // removed key is told what replaced it (the "did you mean" of its error).
  std::vector<std::pair<std::string, std::string>> replaced;
};


// Collects the keys of schema fragments, in the order they are declared.
class SchemaBuilder {
 public:
  void int_key(std::string path, std::int64_t def, double min, double max, std::string unit,
               std::string doc, std::string source);
  void float_key(std::string path, double def, double min, double max, std::string unit,
                 std::string doc, std::string source);
  void bool_key(std::string path, bool def, std::string doc, std::string source);
  void enum_key(std::string path, std::string def, std::vector<std::string> choices,
                std::string doc, std::string source);
  // A list of [start, end) address pairs, empty by default.
  void range_list_key(std::string path, std::string doc, std::string source);
  // `entries` (an Int key) must be a multiple of `ways` (Config::check_relations).
  void multiple_of(std::string entries, std::string ways);
  // `old_key` no longer exists; `replacement` took its place.
  void replaced_by(std::string old_key, std::string replacement);

  Schema take() { return std::move(m_schema); }

 private:
  void number_key(KeyType type, std::string path, Json def, double min, double max,
                  std::string unit, std::string doc, std::string source);

  Schema m_schema;
};

}  // namespace rmpsim
