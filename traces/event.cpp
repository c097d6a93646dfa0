#include "traces/event.hpp"

namespace rmpsim::trace {

std::string_view op_name(Op op) {
  switch (op) {
    case Op::Read:
      return "R";
    case Op::Write:
      return "W";
    case Op::Exec:
      return "X";
    case Op::Modify:
      return "M";
    case Op::Delay:
      return "D";
    case Op::Map:
      return "MAP";
    case Op::Unmap:
      return "UNMAP";
    case Op::Pvalidate:
      return "PVALIDATE";
    case Op::Rmpadjust:
      return "RMPADJUST";
    case Op::Vmpl:
      return "VMPL";
    case Op::Psc:
      return "PSC";
    case Op::Convert:
      return "CONVERT";
    case Op::HostRead:
    case Op::HostWrite:
      return "HOST";
    case Op::Roi:
      return "ROI";
    case Op::HostMemRead:
    case Op::HostMemWrite:
      return "HMEM";
    case Op::Rmpopt:
      return "RMPOPT";
  }
  return "?";
}

std::string_view page_size_name(PageSize s) {
  switch (s) {
    case PageSize::k4K:
      return "4k";
    case PageSize::k2M:
      return "2m";
    case PageSize::k1G:
      return "1g";
  }
  return "?";
}

bool Event::operator==(const Event& o) const {
  if (op != o.op || vcpu != o.vcpu || size != o.size || addr != o.addr || gpa != o.gpa ||
      len != o.len || attrs != o.attrs || psc_count != o.psc_count)
    return false;
  // The entries live in different readers' buffers: compare them by value.
  for (unsigned i = 0; i < psc_count; ++i)
    if (!(psc[i] == o.psc[i])) return false;
  return true;
}

}  // namespace rmpsim::trace
