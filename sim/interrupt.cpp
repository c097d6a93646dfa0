#include "sim/interrupt.hpp"

#include "traces/output_file.hpp"

namespace rmpsim {
namespace {

volatile std::sig_atomic_t g_signal = 0;

// The process dies of the signal, as it would without a handler (the
// parent sees the signal), but no temporary file outlives it.
extern "C" void remove_temporaries_and_die(int sig) {
  trace::remove_temporaries_on_signal();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

extern "C" void record_signal(int sig) {
  if (g_signal) {
    remove_temporaries_and_die(sig);  // the second one: stop now
    return;
  }
  g_signal = sig;
}

}  // namespace

void remove_temporaries_on_fatal_signals() {
  struct sigaction sa {};
  sa.sa_handler = remove_temporaries_and_die;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // A signal ignored from the start stays ignored (nohup, a shell's
    // background jobs).
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sig, &sa, nullptr);
  }
}

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = record_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a read of a trace from a pipe is resumed, not failed with
  // EINTR (the writer of the pipe normally gets the same Ctrl-C and closes it).
  // A second signal ends the process at once (record_signal).
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &m_old_int);
  sigaction(SIGTERM, &sa, &m_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &m_old_int, nullptr);
  sigaction(SIGTERM, &m_old_term, nullptr);
}

const volatile std::sig_atomic_t* InterruptGuard::flag() { return &g_signal; }

const char* InterruptGuard::signal_name() {
  switch (g_signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "none";
  }
}

}  // namespace rmpsim
