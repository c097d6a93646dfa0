#pragma once
// The RMP block's configuration keys (rmp.*): the options for behaviours the
// spec leaves UNKNOWN, and the SNP instructions' latencies, which the
// hypervisor (RMPUPDATE, PSMASH) and the vCPU (PVALIDATE, RMPADJUST) charge.
#include "models/common/config.hpp"
#include "models/rmp/rmp_check.hpp"
#include "models/rmp/rmpopt.hpp"

namespace rmpsim::rmp {

void rmp_schema(SchemaBuilder& b);
CheckOptions check_options_from(const Config& c, const Clock& clock);
// rmp.rmpopt*: `cpus` tables (one per CPU, cpu.count).
RmpoptParams rmpopt_params_from(const Config& c, const Clock& clock, unsigned cpus);

}  // namespace rmpsim::rmp
