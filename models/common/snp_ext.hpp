#pragma once
// SNP sideband attributes of one access, carried on the TLM generic payload
// as a single extension (the libsystemctlm-soc "genattr" pattern,
// ARCHITECTURE.md): who accesses, in which context, and — filled in by the
// target — what the translation path did.
//
// The one time channel between initiator and target: `now_cycles` in,
// `cycles` out, integer core cycles. The b_transport `delay` argument is
// not used (initiators pass zero, targets leave it alone). Why cycles on the
// extension rather than the delay: the target's timing (the memory block's
// line cache and DRAM channels) needs the initiator's absolute cycle, not
// an offset from the kernel's time, and time is integer cycles throughout
// (ARCHITECTURE.md); the delay would be converted to and from sc_time on
// every access. (It used to carry a copy of `cycles` that no one read.)
#include <cstdint>

#include <tlm>

#include "models/common/types.hpp"
#include "models/common/x86_fault.hpp"

namespace rmpsim {

enum class Initiator : std::uint8_t { Guest, Host };

struct SnpAttrs : tlm::tlm_extension<SnpAttrs> {
  // Request.
  Initiator initiator = Initiator::Guest;
  AccessKind kind = AccessKind::Read;
  std::uint16_t asid = 1;
  std::uint8_t vmpl = 0;
  bool insn_operand = false;       // the operand of PVALIDATE/RMPADJUST (see Mmu::translate)
  std::uint64_t gcr3 = 0;          // guest root table (GPA)
  std::uint64_t ncr3 = 0;          // nested root table (SPA)
  std::uint64_t now_cycles = 0;    // the initiator's local time (absolute cycle)

  // Response.
  std::uint64_t cycles = 0;        // translation latency
  std::uint64_t spa = 0;
  std::uint64_t gpa = 0;
  bool cbit = false;
  x86::Fault fault;             // kind None when the access may proceed (its other
                                   // fields are then left from an earlier fault)

  tlm::tlm_extension_base* clone() const override { return new SnpAttrs(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const SnpAttrs&>(other);
  }
};

}  // namespace rmpsim
