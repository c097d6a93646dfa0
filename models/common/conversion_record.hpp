#pragma once
// What a private<->shared conversion cost, piece by piece, from the access
// or request that needed it until the guest made progress again
// (ARCHITECTURE.md "conversion latency"). Plain data below the blocks: the
// hypervisor fills in the costs, the guest side times the conversion, the
// hypervisor's ConversionLog keeps the statistics and the event log writes
// one line per conversion.
#include <cstdint>

namespace rmpsim {

enum class Trigger : std::uint8_t { Implicit = 0, PscMsr = 1, PscGhcb = 2, LazyAccept = 3 };
inline constexpr int kTriggerCount = 4;
inline const char* trigger_name(Trigger t) {
  static const char* names[] = {"implicit", "psc_msr", "psc_ghcb", "lazy_accept"};
  return names[static_cast<int>(t)];
}

// Cycles spent on a conversion, by component.
struct ConversionCost {
  std::uint64_t exit = 0;       // VM exit round trips (#NPF, VMGEXIT)
  std::uint64_t userspace = 0;  // exits to the userspace model and its work
  std::uint64_t rmpupdate = 0;
  std::uint64_t psmash = 0;
  std::uint64_t flush = 0;      // TLB flushes and IPIs
  std::uint64_t npt = 0;        // NPT fault-in / mapping work
  std::uint64_t pvalidate = 0;  // guest PVALIDATEs of the converted pages
  std::uint64_t guest = 0;      // guest-side work: PTE updates, #VC handling, retried walks
  std::uint64_t svsm = 0;       // SVSM calls (guest.svsm): VMPL switches + the SVSM's work

  std::uint64_t total() const {
    return exit + userspace + rmpupdate + psmash + flush + npt + pvalidate + guest + svsm;
  }
  ConversionCost& operator+=(const ConversionCost& o) {
    exit += o.exit;
    userspace += o.userspace;
    rmpupdate += o.rmpupdate;
    psmash += o.psmash;
    flush += o.flush;
    npt += o.npt;
    pvalidate += o.pvalidate;
    guest += o.guest;
    svsm += o.svsm;
    return *this;
  }
};

struct ConversionRecord {
  Trigger trigger = Trigger::Implicit;
  bool to_private = true;
  std::uint64_t pages = 0;  // 4K pages converted
  std::uint64_t start = 0;  // cycle of the access or request that needed it
  std::uint64_t end = 0;    // cycle the guest made progress again
  ConversionCost cost;
};

}  // namespace rmpsim
