#pragma once
// The guest block's configuration keys and its parameters: the vCPUs (cpu.*,
// and sim.quantum_ns, how far a vCPU runs ahead), the guest kernel and its
// SNP handling (guest.*), and the host's own accesses that the vCPU replays
// (host.*). Each section is a fragment of its own, so that the whole schema
// keeps the documentation order of models/config_schema.cpp.
#include "models/common/config.hpp"
#include "models/guest/guest_os.hpp"
#include "models/guest/vcpu.hpp"

namespace rmpsim::guest {

void cpu_schema(SchemaBuilder& b);
void guest_schema(SchemaBuilder& b);
void host_schema(SchemaBuilder& b);
void sim_schema(SchemaBuilder& b);

// The core clock (cpu.freq_ghz).
Clock clock_from(const Config& c);
unsigned vcpu_count(const Config& c);
// sim.warmup_accesses: access lines before the measured region (region.hpp).
std::uint64_t warmup_accesses(const Config& c);
GuestOsParams guest_os_params_from(const Config& c, const Clock& clock);
// The guest kernel's SNP handling (guest.*, and the rmp.* instruction costs).
GuestKernelParams guest_kernel_params_from(const Config& c, const Clock& clock);
// Every vCPU's parameters, with its MMU's (mmu::mmu_params_from) and its
// guest kernel's.
VcpuParams vcpu_params_from(const Config& c, const Clock& clock);

}  // namespace rmpsim::guest
