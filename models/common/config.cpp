#include "models/common/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "traces/input_error.hpp"

namespace rmpsim {
namespace {

const ConfigKey* find_key(const Schema& schema, const std::string& path) {
  for (const auto& k : schema.keys)
    if (k.path == path) return &k;
  return nullptr;
}

// Whether some key lies below `path` ("cpu" for "cpu.count"). Below a name
// that starts no key there is nothing to find: flatten() and key_lines()
// stop there, so their depth is that of the schema, not of the file (a file
// nested 100000 objects deep overflowed the stack, found while checking what
// the fuzz target's 8 KiB inputs cannot reach).
bool is_key_prefix(const Schema& schema, const std::string& path) {
  for (const auto& k : schema.keys)
    if (k.path.size() > path.size() && k.path[path.size()] == '.' &&
        k.path.compare(0, path.size(), path) == 0)
      return true;
  return false;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string type_name(const ConfigKey& k) {
  switch (k.type) {
    case KeyType::Int: return "integer";
    case KeyType::Float: return "number";
    case KeyType::Bool: return "true or false";
    case KeyType::String: return "string";
    case KeyType::Enum: {
      std::string s = "one of ";
      for (std::size_t i = 0; i < k.choices.size(); ++i) s += (i ? ", " : "") + k.choices[i];
      return s;
    }
    case KeyType::RangeList: return "list of [start, end) address pairs";
  }
  return "?";
}

// The line of every key in a JSON text that parsed, by the dotted path
// flatten() gives its value: {"cpu": {"count": 2}}, {"cpu.count": 2} and
// {"cp\u0075": {"count": 2}} all give "cpu.count". A duplicate key keeps its
// last line (its value is the one that counts); keys inside arrays, and
// below a name no key starts with, are skipped. Searching the text for each
// component's quoted name instead left dotted and escaped names without a
// line (fuzz/regressions/config/dotted-key-out-of-range).
std::map<std::string, std::uint64_t> key_lines(const Schema& schema, const std::string& text) {
  struct Scope {
    bool object;   // else an array
    bool skipped;  // its keys are not configuration keys
    std::string prefix;
  };
  std::map<std::string, std::uint64_t> lines;
  std::vector<Scope> stack;
  std::string last_key;  // path of the last key: an object right after it is its value
  bool expect_key = false;
  std::uint64_t line = 1;
  // nlohmann's lexer ends the input at a NUL byte: scan what it parsed.
  const std::size_t size = std::min(text.size(), text.find('\0'));
  for (std::size_t i = 0; i < size; ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '"') {
      // Valid JSON: the string ends, and holds no raw newline.
      std::size_t j = i + 1;
      while (text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (expect_key && !stack.back().skipped) {
        const std::string key = Json::parse(text.substr(i, j - i + 1)).get<std::string>();
        const Scope& s = stack.back();
        last_key = s.prefix.empty() ? key : s.prefix + "." + key;
        lines[last_key] = line;
      }
      expect_key = false;
      i = j;
    } else if (c == '{' || c == '[') {
      // The top-level object, or the value of the last key read.
      const bool skipped = !stack.empty() && (!stack.back().object || stack.back().skipped ||
                                              !is_key_prefix(schema, last_key));
      stack.push_back(Scope{c == '{', skipped, skipped || stack.empty() ? "" : last_key});
      expect_key = c == '{';
    } else if (c == '}' || c == ']') {
      stack.pop_back();
    } else if (c == ',') {
      expect_key = stack.back().object;
    }
  }
  return lines;
}

// Flattens nested objects into (dotted path, leaf value). Lists are leaves,
// and so is an object below a name no key starts with (an unknown key).
void flatten(const Schema& schema, const Json& j, const std::string& prefix,
             std::vector<std::pair<std::string, Json>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object() && !find_key(schema, path) && is_key_prefix(schema, path))
      flatten(schema, *it, path, out);
    else
      out.emplace_back(path, *it);
  }
}

}  // namespace

bool is_config_key(const Schema& schema, const std::string& path) {
  return find_key(schema, path) != nullptr;
}

std::string closest_key(const Schema& schema, const std::string& path) {
  for (const auto& [old_key, replacement] : schema.replaced)
    if (path == old_key) return replacement;
  std::string best;
  std::size_t best_d = SIZE_MAX;
  for (const auto& k : schema.keys) {
    std::size_t d = edit_distance(path, k.path);
    if (d < best_d) best_d = d, best = k.path;
  }
  return best;
}

Config::Config(const Schema& schema) : m_schema(&schema), m_tree(Json::object()) {
  for (const auto& k : schema.keys) {
    Json* node = &m_tree;
    for (const auto& part : split_path(k.path)) node = &(*node)[part];
    *node = k.def;
  }
}

void Config::set_value(const ConfigKey& k, const Json& v, const std::string& where,
                       std::uint64_t line) {
  auto bad = [&](const std::string& why) {
    throw InputError(where, line, fmt::format("{} for key '{}': expected {}", why, k.path,
                                              type_name(k)));
  };
  // The value as the message shows it. A --set value is raw command-line
  // bytes, not necessarily UTF-8, and a strict dump() would throw
  // nlohmann's type_error out of the error path (fuzz/regressions/config):
  // invalid bytes are shown as U+FFFD instead.
  const std::string shown = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  Json value = v;
  switch (k.type) {
    case KeyType::Int:
      if (!v.is_number_integer()) bad("value " + shown + " is not an integer");
      if (v.get<double>() < k.min || v.get<double>() > k.max)
        bad(fmt::format("value {} is out of range [{}, {}]", shown, k.min, k.max));
      break;
    case KeyType::Float:
      if (!v.is_number()) bad("value " + shown + " is not a number");
      if (!std::isfinite(v.get<double>()) || v.get<double>() < k.min || v.get<double>() > k.max)
        bad(fmt::format("value {} is out of range [{}, {}]", shown, k.min, k.max));
      value = v.get<double>();
      break;
    case KeyType::Bool:
      if (!v.is_boolean()) bad("value " + shown + " is not a boolean");
      break;
    case KeyType::String:
      if (!v.is_string()) bad("value " + shown + " is not a string");
      break;
    case KeyType::Enum:
      if (!v.is_string() ||
          std::find(k.choices.begin(), k.choices.end(), v.get<std::string>()) == k.choices.end())
        bad("value " + shown + " is not allowed");
      break;
    case KeyType::RangeList: {
      // Addresses may be JSON integers or strings ("0x7f0000000000"); they
      // are stored as integers.
      auto addr = [](const Json& a, std::uint64_t& out) {
        if (a.is_number_unsigned()) return out = a.get<std::uint64_t>(), true;
        if (!a.is_string()) return false;
        const std::string t = a.get<std::string>();
        // stoull skips leading spaces and wraps "-1" to 2^64-1: only a
        // plain decimal or 0x-hex number is an address.
        if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return false;
        std::size_t used = 0;
        try {
          out = std::stoull(t, &used, 0);
        } catch (const std::exception&) {
          return false;
        }
        return used == t.size();
      };
      bool ok = v.is_array();
      value = Json::array();
      for (std::size_t i = 0; ok && i < v.size(); ++i) {
        const Json& r = v[i];
        std::uint64_t lo = 0, hi = 0;
        ok = r.is_array() && r.size() == 2 && addr(r[0], lo) && addr(r[1], hi) && lo < hi;
        if (ok) value.push_back(Json::array({lo, hi}));
      }
      if (!ok) bad("value " + shown + " is not a list of [start, end) pairs with start < end");
      break;
    }
  }
  Json* node = &m_tree;
  for (const auto& part : split_path(k.path)) node = &(*node)[part];
  *node = value;
}

void Config::load_file(const std::string& path) {
  load_text(read_text_file(path, "configuration file"), path);
}

void Config::load_text(const std::string& text, const std::string& path) {
  const Json j = parse_json_document(text, path, "a JSON object of configuration keys");
  if (!j.is_object()) throw InputError(path, 1, "expected a JSON object of configuration keys");
  std::vector<std::pair<std::string, Json>> leaves;
  flatten(*m_schema, j, "", leaves);
  const std::map<std::string, std::uint64_t> lines = key_lines(*m_schema, text);
  auto line_of = [&](const std::string& key) {
    auto it = lines.find(key);
    return it == lines.end() ? 0 : it->second;
  };
  for (const auto& [key, value] : leaves) {
    const ConfigKey* k = find_key(*m_schema, key);
    if (!k)
      throw InputError(path, line_of(key),
                       fmt::format("unknown key '{}' (did you mean '{}'?)", key, closest_key(*m_schema, key)));
    set_value(*k, value, path, line_of(key));
  }
}

namespace {
// "[[0x1000,0x2000]]" -> "[[\"0x1000\",\"0x2000\"]]" outside strings.
std::string quote_hex_numbers(const std::string& text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
      std::size_t end = i + 2;
      while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end]))) ++end;
      out += '"' + text.substr(i, end - i) + '"';
      i = end - 1;
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void Config::apply_set(const std::string& assignment) {
  const std::string where = "--set " + assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(where, 0, "expected KEY=VALUE, e.g. hypervisor.policy=auto-convert");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const ConfigKey* k = find_key(*m_schema, key);
  if (!k)
    throw InputError(where, 0,
                     fmt::format("unknown key '{}' (did you mean '{}'?)", key, closest_key(*m_schema, key)));
  Json v;
  if (k->type == KeyType::String || k->type == KeyType::Enum) {
    v = text;
  } else {
    v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    // Addresses as a user copies them from `trace stat` or lackey are bare
    // hex ([[0x1000,0x2000]]), which JSON does not allow: quote them, as the
    // string form ("0x1000") is accepted (issue 16, item 6).
    if (v.is_discarded() && k->type == KeyType::RangeList)
      v = Json::parse(quote_hex_numbers(text), nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded())
      throw InputError(where, 0, fmt::format("cannot parse '{}' for key '{}': expected {}", text,
                                             key, type_name(*k)));
  }
  set_value(*k, v, where, 0);
}

const std::vector<std::pair<std::string, std::string>>& Config::related_keys() const {
  return m_schema->multiples;
}

const std::pair<std::string, std::string>* Config::broken_relation() const {
  for (const auto& r : related_keys())
    if (get_int(r.first) % get_int(r.second) != 0) return &r;
  return nullptr;
}

void Config::check_relations(const std::string& where, std::uint64_t line) const {
  const auto* r = broken_relation();
  if (!r) return;
  throw InputError(where.empty() ? "rmpsim" : where, line, relation_message(*r));
}

std::string Config::relation_message(const std::pair<std::string, std::string>& r) const {
  // Name the relation and both keys: the user may have set either one
  // (issue 16, item 7: `--set mmu.l2.entries=100` used to be blamed on
  // mmu.l2.ways).
  const auto& [entries, ways] = r;
  return fmt::format(
      "{} ({}) must be a multiple of {} ({}): a set-associative structure has {} / {} sets; "
      "change either key",
      entries, get_int(entries), ways, get_int(ways), entries, ways);
}

void Config::set(const std::string& key, const Json& value, const std::string& where,
                 std::uint64_t line) {
  const ConfigKey* k = find_key(*m_schema, key);
  if (!k)
    throw InputError(where, line,
                     fmt::format("unknown key '{}' (did you mean '{}'?)", key, closest_key(*m_schema, key)));
  set_value(*k, value, where, line);
}

const Json& Config::get(const std::string& path) const {
  const Json* node = &m_tree;
  for (const auto& part : split_path(path)) node = &node->at(part);
  return *node;
}
std::int64_t Config::get_int(const std::string& p) const { return get(p).get<std::int64_t>(); }
double Config::get_float(const std::string& p) const { return get(p).get<double>(); }
bool Config::get_bool(const std::string& p) const { return get(p).get<bool>(); }
std::string Config::get_string(const std::string& p) const { return get(p).get<std::string>(); }
PageSize Config::get_page_size(const std::string& p) const {
  const std::string s = get_string(p);
  return s == "1g" ? PageSize::k1G : s == "2m" ? PageSize::k2M : PageSize::k4K;
}

std::string Config::hash() const { return fnv1a_hex(m_tree.dump()); }

std::string Config::reference_markdown() const {
  std::string out =
      "# Configuration reference\n\n"
      "<!-- Generated by `rmpsim config doc`; a test keeps this file equal to its output. -->\n\n"
      "Every key, its type, default and where the default comes from. Set keys in a JSON file\n"
      "(`--config FILE`, nested objects or dotted names) or on the command line\n"
      "(`--set key=value`, applied after the file). `rmpsim config dump` prints the resolved\n"
      "configuration. Defaults marked *assumption* are modelling choices, not measurements.\n"
      "`snp-semantics §N` is section N of [snp-semantics.md](snp-semantics.md).\n";
  std::string section;
  for (const auto& k : m_schema->keys) {
    std::string top = k.path.substr(0, k.path.find('.'));
    if (top != section) {
      section = top;
      out += "\n## `" + section + "`\n\n| key | type | default | meaning | source of default |\n"
             "|---|---|---|---|---|\n";
    }
    std::string doc = k.doc + (k.unit.empty() ? "" : " (" + k.unit + ")");
    out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", k.path, type_name(k), k.def.dump(),
                       doc, k.source);
  }
  return out;
}

}  // namespace rmpsim
