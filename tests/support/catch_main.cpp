// The one Catch2 runner for every test executable. libsystemc.so defines
// main() and calls sc_main(), so Catch is started from sc_main
// (CONVENTIONS.md). ctest runs each case in its own process because SystemC
// allows one elaboration per process.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

int sc_main(int argc, char** argv) { return Catch::Session().run(argc, argv); }
