#pragma once
// The semantic rules every event obeys, whatever form it came from: readers
// of all forms reject what breaks them (so the simulator can rely on them),
// and writers refuse to write what no reader would read back.
// docs/trace-format.md, "Validation", lists them.
#include <string>

#include "traces/event.hpp"

namespace rmpsim::trace {

// "" when `ev` is well-formed, else what was expected, phrased for an
// InputError ("expected <len> to be a non-zero multiple of 2m (0x200000), got 0x1000").
// Fields an op does not use are not looked at.
std::string check_event(const Event& ev);

// The hot-path subset for accesses (R/W/X/M/HOST): all check_event() asks of
// them.
inline bool access_ok(const Event& ev) { return ev.size != 0; }

}  // namespace rmpsim::trace
