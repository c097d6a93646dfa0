// rmpsim config dump / config doc.
#include <cstdio>

#include <fmt/format.h>

#include "models/config_schema.hpp"
#include "sim/commands.hpp"
#include "sim/config_args.hpp"

namespace rmpsim {

Config resolve_config_unchecked(const ConfigArgs& args) {
  Config cfg = default_config();
  if (!args.config_file.empty()) cfg.load_file(args.config_file);
  for (const auto& s : args.sets) cfg.apply_set(s);
  return cfg;
}

Config resolve_config(const ConfigArgs& args) {
  Config cfg = resolve_config_unchecked(args);
  cfg.check_relations(relation_origin(cfg, args), 0);
  return cfg;
}

std::string relation_origin(const Config& cfg, const ConfigArgs& args) {
  const auto* broken = cfg.broken_relation();
  if (!broken) return "";
  // The last --set of either related key broke it (issue 16, item 7), else
  // the file did; a default never does.
  for (auto it = args.sets.rbegin(); it != args.sets.rend(); ++it) {
    const std::string key = it->substr(0, it->find('='));
    if (key == broken->first || key == broken->second) return "--set " + *it;
  }
  return args.config_file;
}

int cmd_config_dump(const ConfigArgs& args) {
  fmt::print("{}", resolve_config(args).dump());
  return 0;
}

int cmd_config_doc() {
  fmt::print("{}", default_config().reference_markdown());
  return 0;
}

}  // namespace rmpsim
