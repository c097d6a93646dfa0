#include "models/common/schema_builder.hpp"

namespace rmpsim {

void SchemaBuilder::int_key(std::string path, std::int64_t def, double min, double max,
                            std::string unit, std::string doc, std::string source) {
  number_key(KeyType::Int, std::move(path), Json(def), min, max, std::move(unit), std::move(doc),
             std::move(source));
}

void SchemaBuilder::float_key(std::string path, double def, double min, double max,
                              std::string unit, std::string doc, std::string source) {
  number_key(KeyType::Float, std::move(path), Json(def), min, max, std::move(unit), std::move(doc),
             std::move(source));
}

void SchemaBuilder::number_key(KeyType type, std::string path, Json def, double min, double max,
                               std::string unit, std::string doc, std::string source) {
  m_schema.keys.push_back(ConfigKey{std::move(path),
                                    type,
                                    std::move(def),
                                    min,
                                    max,
                                    {},
                                    std::move(unit),
                                    std::move(doc),
                                    std::move(source)});
}

void SchemaBuilder::bool_key(std::string path, bool def, std::string doc, std::string source) {
  m_schema.keys.push_back(ConfigKey{
      std::move(path), KeyType::Bool, Json(def), 0, 0, {}, "", std::move(doc), std::move(source)});
}

void SchemaBuilder::enum_key(std::string path, std::string def, std::vector<std::string> choices,
                             std::string doc, std::string source) {
  m_schema.keys.push_back(ConfigKey{std::move(path), KeyType::Enum, Json(def), 0, 0,
                                    std::move(choices), "", std::move(doc), std::move(source)});
}

void SchemaBuilder::range_list_key(std::string path, std::string doc, std::string source) {
  m_schema.keys.push_back(ConfigKey{std::move(path),
                                    KeyType::RangeList,
                                    Json::array(),
                                    0,
                                    0,
                                    {},
                                    "",
                                    std::move(doc),
                                    std::move(source)});
}

void SchemaBuilder::multiple_of(std::string entries, std::string ways) {
  m_schema.multiples.emplace_back(std::move(entries), std::move(ways));
}

void SchemaBuilder::replaced_by(std::string old_key, std::string replacement) {
  m_schema.replaced.emplace_back(std::move(old_key), std::move(replacement));
}

}  // namespace rmpsim
