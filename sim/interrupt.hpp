#pragma once
// SIGINT and SIGTERM during a run (docs/reliability.md, "Interrupted runs").
// The handler only records the signal; the trace feed sees it at its next
// run of events and ends the trace there, every vCPU finishes what it was
// doing, and `rmpsim run` writes the stats of what was simulated under
// partial names (stats.partial.json) and exits 128 + the signal number.
// A second signal ends the process at once, as a user pressing Ctrl-C twice
// expects, after removing the temporary files of unpublished outputs.
#include <csignal>

namespace rmpsim {

// Outside a run (trace gen, trace convert, before the run starts), SIGINT,
// SIGTERM and SIGHUP end the process as usual, after removing the temporary
// files of unpublished outputs (issue 14, item 9). Called first in main.
void remove_temporaries_on_fatal_signals();

class InterruptGuard {
 public:
  // Installs the handlers; the previous ones come back on destruction.
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // Non-zero (the signal number) once SIGINT or SIGTERM arrived.
  static const volatile std::sig_atomic_t* flag();
  static int signal_number() { return static_cast<int>(*flag()); }
  static const char* signal_name();

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

}  // namespace rmpsim
