# Sourced by the reliability scripts that compare rmpsim's stderr exactly.
# Under AddressSanitizer (scripts/test-sanitize) SystemC's thread switches
# make ASan print a three-line warning about __asan_handle_no_return before
# rmpsim's own message (see tests/support/cli_runner.hpp); messages FILE
# prints FILE without those lines.
messages() {
  grep -v -e 'WARNING: ASan is ignoring requested __asan_handle_no_return' \
    -e '^False positive error reports may follow$' \
    -e '^For details see https://github.com/google/sanitizers/issues/189$' "$1" || true
}
