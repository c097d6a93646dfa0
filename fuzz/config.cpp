// Fuzz target: the configuration loader (models/common/config.*, over the
// schema of models/config_schema.cpp) as `rmpsim run --config FILE --set
// KEY=VALUE...` resolves it.
//
// Input: a JSON document, then optionally a line "--set" and one KEY=VALUE
// override per line after it (NUL also ends one, as it ends a command-line
// argument). An empty document means no --config at all.
//
// Bad input must come back as rmpsim::InputError in the project's shape --
// "FILE:LINE: error: ..." for the file (a line the user can go to), "--set
// KEY=VALUE: error: ..." for an override -- and never as a crash or any other
// exception. A configuration that loads must hold what the schema promises
// (every key readable with its type, in range, one of its choices), and its
// dump (`rmpsim config dump`) must load back to the same configuration.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/config_schema.hpp"
#include "fuzz/fuzz_support.hpp"
#include "models/common/config.hpp"
#include "traces/input_error.hpp"

namespace {

using rmpsim::Config;
using rmpsim::ConfigKey;
using rmpsim::InputError;
using rmpsim::KeyType;
using rmpsim::fuzz::require;

const std::string kFile = "fuzz.json";

void check_schema_holds(const Config& c) {
  for (const ConfigKey& k : rmpsim::config_schema().keys) {
    const std::string& p = k.path;
    switch (k.type) {
      case KeyType::Int: {
        const double v = static_cast<double>(c.get_int(p));
        require(v >= k.min && v <= k.max, fmt::format("{} = {} is outside [{}, {}]", p, v, k.min, k.max));
        break;
      }
      case KeyType::Float: {
        const double v = c.get_float(p);
        require(std::isfinite(v) && v >= k.min && v <= k.max,
                fmt::format("{} = {} is outside [{}, {}]", p, v, k.min, k.max));
        break;
      }
      case KeyType::Bool:
        (void)c.get_bool(p);
        break;
      case KeyType::String:
        (void)c.get_string(p);
        break;
      case KeyType::Enum: {
        const std::string v = c.get_string(p);
        require(std::find(k.choices.begin(), k.choices.end(), v) != k.choices.end(),
                fmt::format("{} = '{}' is not one of its choices", p, v));
        break;
      }
      case KeyType::RangeList: {
        const auto& v = c.get(p);
        require(v.is_array(), p + " is not a list");
        for (const auto& r : v)
          require(r.is_array() && r.size() == 2 && r[0].is_number_unsigned() &&
                      r[1].is_number_unsigned() &&
                      r[0].get<std::uint64_t>() < r[1].get<std::uint64_t>(),
                  fmt::format("{} holds {}, not a [start, end) pair", p, r.dump()));
        break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // The document ends at the first line that is exactly "--set".
  std::string doc = input;
  std::vector<std::string> sets;
  std::size_t sets_from = std::string::npos;
  if (input.compare(0, 6, "--set\n") == 0) {
    doc.clear();
    sets_from = 6;
  } else if (const std::size_t cut = input.find("\n--set\n"); cut != std::string::npos) {
    doc = input.substr(0, cut + 1);
    sets_from = cut + 7;
  }
  // One override a line. A command-line argument cannot hold a NUL byte,
  // so NUL ends an override too.
  for (std::size_t pos = sets_from; pos < input.size();) {
    std::size_t nl = input.find_first_of(std::string("\n\0", 2), pos);
    if (nl == std::string::npos) nl = input.size();
    sets.push_back(input.substr(pos, nl - pos));
    pos = nl + 1;
  }

  Config c = rmpsim::default_config();
  bool in_file = false;
  try {
    if (!doc.empty()) {
      in_file = true;
      c.load_text(doc, kFile);
      in_file = false;
    }
    for (const auto& s : sets) c.apply_set(s);
  } catch (const InputError& e) {
    if (in_file) {
      require(e.file() == kFile, fmt::format("a file error names '{}': {}", e.file(), e.what()));
      // The file exists and was read: every complaint about it can name a line.
      require(e.line() >= 1, fmt::format("a file error without a line: {}", e.what()));
    } else {
      require(e.file().rfind("--set ", 0) == 0,
              fmt::format("an override error does not name the --set: {}", e.what()));
    }
    require(rmpsim::fuzz::well_formed_error(e.what(), e.file(), e.line()),
            fmt::format("InputError message is not 'file:line: error: ...': {}", e.what()));
    return 0;
  }

  check_schema_holds(c);
  (void)c.hash();

  // `rmpsim config dump > f.json; rmpsim run --config f.json` must give the
  // same configuration.
  Config again = rmpsim::default_config();
  try {
    again.load_text(c.dump(), "dump.json");
  } catch (const InputError& e) {
    rmpsim::fuzz::finding(fmt::format("the dump of a valid configuration does not load: {}",
                                      e.what()));
  }
  require(again.tree() == c.tree() && again.hash() == c.hash(),
          "the dump of a configuration loads as a different configuration");
  return 0;
}
