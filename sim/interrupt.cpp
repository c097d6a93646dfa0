#include "sim/interrupt.hpp"

namespace rmpsim {
namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void record_signal(int sig) { g_signal = sig; }

}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = record_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a read of a trace from a pipe is resumed, not failed with
  // EINTR (the writer of the pipe normally gets the same Ctrl-C and closes it).
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
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
