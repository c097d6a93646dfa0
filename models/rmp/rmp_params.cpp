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
}

CheckOptions check_options_from(const Config& c, const Clock&) {
  CheckOptions o;
  o.npt_larger_than_rmp_faults = c.get_string("rmp.npt_larger_than_rmp") == "npf";
  o.gpt_not_validated_is_npf = c.get_string("rmp.gpt_not_validated") == "npf";
  return o;
}

}  // namespace rmpsim::rmp
