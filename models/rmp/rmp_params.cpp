#include "models/rmp/rmp_params.hpp"

namespace rmpsim::rmp {

void rmp_schema(SchemaBuilder& b) {
  b.enum_key("rmp.npt_larger_than_rmp", "npf", {"npf", "allow"},
             "A private access through an NPT leaf larger than its RMP entry (NPT 2M "
             "over 4K RMP entries): npf raises an RMP #NPF, allow lets it through",
             "UNKNOWN architecturally (snp-semantics §1.5, §8 point 3); KVM never "
             "creates it. Assumption: fault");
  b.enum_key("rmp.gpt_not_validated", "vc", {"vc", "npf"},
             "A guest page-table read of a page assigned to the guest but not "
             "validated: vc takes #VC 0x404, npf an RMP #NPF",
             "not documented (snp-semantics §1.4): default the not-validated "
             "outcome");
  b.float_key("rmp.rmpupdate_ns", 400.0, 0.0, 1e9, "ns", "One RMPUPDATE",
              "assumption: no public latency (snp-semantics §5, §8 point 4)");
  b.float_key("rmp.psmash_ns", 800.0, 0.0, 1e9, "ns", "One PSMASH (writes 512 entries)",
              "assumption: no public latency (snp-semantics §5)");
  b.float_key("rmp.pvalidate_ns", 300.0, 0.0, 1e9, "ns", "One PVALIDATE",
              "assumption: no public latency (snp-semantics §5)");
  b.float_key("rmp.rmpadjust_ns", 300.0, 0.0, 1e9, "ns", "One RMPADJUST",
              "assumption: no public latency (snp-semantics §5)");
  // RMPOPT (issue 19; snp-semantics §2.4).
  b.bool_key("rmp.rmpopt", false,
             "Model RMPOPT and Linux's policy for it: host writes to 1 GiB regions whose "
             "RMPOPT bit is set skip the RMP check",
             "off by default: the instruction is new (the next EPYC generation, Linux series "
             "\"Add RMPOPT support\", 2026; snp-semantics §2.4)");
  b.float_key("rmp.rmpopt_ns", 1000.0, 0.0, 1e12, "ns",
              "One RMPOPT verify-and-set (reads the 512 2M-aligned RMP entries of a 1 GiB "
              "region)",
              "assumption: no public latency; the series posted no figures (snp-semantics "
              "§2.4)");
  b.float_key("rmp.rmpopt_rescan_delay_ms", 10000.0, 0.0, 1e9, "ms",
              "Delay from the last re-scan request (a guest teardown) to the RMPOPT pass",
              "Linux: re-optimisation runs 10 s after the last SNP guest termination (\"Add "
              "RMPOPT support\" v9 5/6; snp-semantics §2.4)");
  b.int_key("rmp.rmpopt_ram_gib", 8192, 1, 65536, "GiB",
            "System RAM the RMPOPT passes cover, from address 0 (one bit per GiB and CPU)",
            "assumption: 8 TiB holds every frame rmpsim allocates (docs/models.md); Linux "
            "passes over all of RAM (snp-semantics §2.4)");
}

RmpoptParams rmpopt_params_from(const Config& c, const Clock& clock, unsigned cpus) {
  RmpoptParams p;
  p.enabled = c.get_bool("rmp.rmpopt");
  p.instruction_cycles = clock.cycles(c.get_float("rmp.rmpopt_ns"));
  p.rescan_delay_cycles = clock.cycles(c.get_float("rmp.rmpopt_rescan_delay_ms") * 1e6);
  p.ram_regions = std::uint64_t(c.get_int("rmp.rmpopt_ram_gib"));
  p.cpus = cpus;
  return p;
}

CheckOptions check_options_from(const Config& c, const Clock&) {
  CheckOptions o;
  o.npt_larger_than_rmp_faults = c.get_string("rmp.npt_larger_than_rmp") == "npf";
  o.gpt_not_validated_is_npf = c.get_string("rmp.gpt_not_validated") == "npf";
  return o;
}

}  // namespace rmpsim::rmp
