#pragma once
// Optional records of what happened when, for people and plots:
//   --events FILE  JSON lines: faults, exits, PSC requests and conversions,
//                  each with its cycle stamp and vCPU;
//   --vcd FILE     a VCD waveform of each vCPU's state (running / in an
//                  exit / in userspace) and of its MMU translating.
// Models call it through a pointer that is null when neither is asked for,
// so a run without them pays one test per exit, nothing per hit.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "models/common/change_spool.hpp"
#include "models/common/conversion_record.hpp"

namespace rmpsim {
namespace trace {
class OutputFile;  // traces/output_file.hpp
}

class EventLog {
 public:
  enum class State : std::uint8_t { Running = 0, Exit = 1, Userspace = 2 };

  // Either path may be empty. Both are opened at once, so a path that
  // cannot be written is refused before the run (InputError); files are
  // written under temporary names and renamed by finish(), without finish()
  // they are removed; a pipe or device is written as it comes
  // (trace::OutputFile). A write error (a full disk) names the file.
  EventLog(std::string events_path, std::string vcd_path, unsigned vcpus, double freq_ghz);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  bool wants_events() const { return m_events; }
  bool wants_vcd() const { return !m_vcd_path.empty(); }

  // The records, one JSON object per line (docs/events.md). Each is typed, so
  // that the models hand over values and the format lives here.
  // A #NPF exit: [cycle, cycle + cycles) of vCPU `vcpu`, the last
  // `userspace` cycles of it in userspace (also the VCD's exit interval).
  void npf(unsigned vcpu, std::uint64_t cycle, std::uint64_t gpa, std::uint64_t exitinfo1,
           std::uint64_t cycles, std::uint64_t userspace, bool resolved);
  // A fault delivered inside the guest on the access to `gva`: a #PF
  // (`code` its error code), or #VC 0x404 when `vc` (§4.7).
  // The measured region's begin or end (`begin`), reached by `vcpu` on trace
  // line `line`; a begin carries the warm-up accesses before it. Without
  // this, events of the warm-up could not be told from the region's.
  void region(unsigned vcpu, std::uint64_t cycle, bool begin, std::uint64_t line,
              std::uint64_t warmup_accesses);
  void guest_fault(unsigned vcpu, std::uint64_t cycle, bool vc, std::uint64_t gva,
                   std::uint64_t addr, std::uint64_t code);
  // A PSC VMGEXIT ("msr" or "ghcb") for `entries` entries describing
  // `pages` 4K pages: [start, start + cycles), `userspace` of it in
  // userspace (also the VCD's exit interval).
  void psc(unsigned vcpu, std::uint64_t start, const char* protocol, std::uint64_t entries,
           std::uint64_t pages, std::uint64_t cycles, std::uint64_t userspace);
  // A completed conversion, stamped with its start.
  void conversion(unsigned vcpu, const ConversionRecord& rec);
  // A vCPU's MMU spent [start, start + cycles) translating (L2 hit, walk).
  void translate_interval(unsigned vcpu, std::uint64_t start, std::uint64_t cycles);

  // Writes the VCD and renames both files into place, with `suffix` added to
  // their names (".partial" for an interrupted run).
  void finish(const std::string& suffix = "");

 private:
  void write_vcd(std::FILE* f);
  // One JSON object; `fields` is the rest of the object, already formatted
  // ("\"gpa\": 4096, ..."), or empty.
  void event(std::uint64_t cycle, unsigned vcpu, const char* type, const std::string& fields);
  // A vCPU spent [start, start + exit) in an exit, of which the last
  // `userspace` cycles in userspace.
  void exit_interval(unsigned vcpu, std::uint64_t start, std::uint64_t exit,
                     std::uint64_t userspace);

  // Hands the buffered events to m_events_out (at 64 KiB, and at the end).
  void flush_events();

  std::string m_events_path, m_vcd_path;
  std::unique_ptr<trace::OutputFile> m_events_out, m_vcd_out;
  std::string m_events_buf;
  bool m_events = false;
  unsigned m_vcpus;
  double m_freq_ghz;
  ChangeSpool m_changes;  // sorted on disk in runs: bounded memory (issue 14, item 11)
};

}  // namespace rmpsim
