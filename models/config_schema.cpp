// The whole configuration schema: every block's fragment, in documentation
// order (docs/config.md and config.json list the keys in this order, so it is
// part of the output contract). A key belongs to the block whose code reads
// it; keys are added by the issue that gives them a meaning.
#include "models/config_schema.hpp"
#include "models/guest/guest_params.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/memory/memory_params.hpp"
#include "models/mmu/mmu_params.hpp"
#include "models/rmp/rmp_params.hpp"
#include "models/walker/walker_params.hpp"

namespace rmpsim {

const Schema& config_schema() {
  static const Schema schema = [] {
    SchemaBuilder b;
    guest::cpu_schema(b);              // cpu.*
    mmu::mmu_schema(b);                // mmu.*
    walker::walker_schema(b);          // walker.*
    memory::memory_schema(b);          // memory.*
    guest::guest_schema(b);            // guest.*
    hypervisor::hypervisor_schema(b);  // hypervisor.*, userspace.*
    rmp::rmp_schema(b);                // rmp.*
    guest::host_schema(b);             // host.*
    guest::sim_schema(b);              // sim.*
    return b.take();
  }();
  return schema;
}

}  // namespace rmpsim
