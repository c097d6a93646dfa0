// libsystemc.so defines main() and calls sc_main(). The targets that link
// the models (which link SystemC) never start a simulation and run under
// libFuzzer's main(), but libsystemc.so's reference to sc_main must still
// resolve at link time.
extern "C" int sc_main(int, char**) { return 0; }
