// rmpsim config dump / config doc.
#include <cstdio>

#include <fmt/format.h>

#include "models/config_schema.hpp"
#include "sim/commands.hpp"
#include "sim/config_args.hpp"

namespace rmpsim {

Config resolve_config(const ConfigArgs& args) {
  Config cfg = default_config();
  if (!args.config_file.empty()) cfg.load_file(args.config_file);
  for (const auto& s : args.sets) cfg.apply_set(s);
  cfg.check_relations(args.sets.empty() ? args.config_file : "", 0);
  return cfg;
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
