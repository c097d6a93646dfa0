#include "models/common/event_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <unistd.h>

#include "traces/input_error.hpp"

namespace rmpsim {

namespace {
std::string tmp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}
}  // namespace

EventLog::EventLog(std::string events_path, std::string vcd_path, unsigned vcpus, double freq_ghz)
    : m_events_path(std::move(events_path)),
      m_vcd_path(std::move(vcd_path)),
      m_vcpus(vcpus),
      m_freq_ghz(freq_ghz) {
  if (!m_events_path.empty()) {
    m_events_tmp = tmp_name(m_events_path);
    m_events = std::fopen(m_events_tmp.c_str(), "w");
    if (!m_events)
      throw InputError(m_events_path, 0,
                       std::string("cannot create the events file: ") + std::strerror(errno));
  }
}

EventLog::~EventLog() {
  if (m_events) {
    std::fclose(m_events);
    std::remove(m_events_tmp.c_str());
  }
}

void EventLog::event(std::uint64_t cycle, unsigned vcpu, const char* type,
                     const std::string& fields) {
  if (!m_events) return;
  fmt::print(m_events, "{{\"cycle\": {}, \"vcpu\": {}, \"type\": \"{}\"{}{}}}\n", cycle, vcpu,
             type, fields.empty() ? "" : ", ", fields);
}

void EventLog::npf(unsigned vcpu, std::uint64_t cycle, std::uint64_t gpa, std::uint64_t exitinfo1,
                   std::uint64_t cycles, std::uint64_t userspace, bool resolved) {
  exit_interval(vcpu, cycle, cycles, userspace);
  if (!m_events) return;
  event(cycle, vcpu, "npf",
        fmt::format("\"gpa\": {}, \"exitinfo1\": {}, \"cycles\": {}, \"userspace_cycles\": {}, "
                    "\"resolved\": {}",
                    gpa, exitinfo1, cycles, userspace, resolved));
}

void EventLog::guest_fault(unsigned vcpu, std::uint64_t cycle, bool vc, std::uint64_t gva,
                           std::uint64_t addr, std::uint64_t code) {
  if (!m_events) return;
  event(cycle, vcpu, vc ? "vc_not_validated" : "guest_pf",
        fmt::format("\"gva\": {}, \"addr\": {}, \"code\": {}", gva, addr, code));
}

void EventLog::psc(unsigned vcpu, std::uint64_t start, const char* protocol,
                   std::uint64_t entries, std::uint64_t pages, std::uint64_t cycles,
                   std::uint64_t userspace) {
  exit_interval(vcpu, start, cycles, userspace);
  if (!m_events) return;
  event(start, vcpu, "psc",
        fmt::format("\"protocol\": \"{}\", \"entries\": {}, \"pages\": {}, \"cycles\": {}",
                    protocol, entries, pages, cycles));
}

void EventLog::conversion(unsigned vcpu, const ConversionRecord& rec) {
  if (!m_events) return;
  const ConversionCost& c = rec.cost;
  event(rec.start, vcpu, "conversion",
        fmt::format("\"trigger\": \"{}\", \"to_private\": {}, \"pages\": {}, \"end\": {}, "
                    "\"cycles\": {}, \"cost\": {{\"exit\": {}, \"userspace\": {}, "
                    "\"rmpupdate\": {}, \"psmash\": {}, \"flush\": {}, \"npt\": {}, "
                    "\"pvalidate\": {}, \"guest\": {}}}",
                    trigger_name(rec.trigger), rec.to_private, rec.pages, rec.end,
                    rec.end - rec.start, c.exit, c.userspace, c.rmpupdate, c.psmash, c.flush,
                    c.npt, c.pvalidate, c.guest));
}

void EventLog::exit_interval(unsigned vcpu, std::uint64_t start, std::uint64_t exit,
                             std::uint64_t userspace) {
  if (!wants_vcd()) return;
  const unsigned s = 2 * vcpu;
  m_changes.push_back({start, s, unsigned(State::Exit)});
  if (userspace && userspace <= exit)
    m_changes.push_back({start + exit - userspace, s, unsigned(State::Userspace)});
  m_changes.push_back({start + exit, s, unsigned(State::Running)});
}

void EventLog::translate_interval(unsigned vcpu, std::uint64_t start, std::uint64_t cycles) {
  if (!wants_vcd() || !cycles) return;
  m_changes.push_back({start, 2 * vcpu + 1, 1});
  m_changes.push_back({start + cycles, 2 * vcpu + 1, 0});
}

void EventLog::write_vcd(std::FILE* f) {
  // Identifier codes: base-94 strings of the printable characters '!'..'~'.
  auto id = [](unsigned signal) {
    std::string s;
    do {
      s += char('!' + signal % 94);
      signal /= 94;
    } while (signal);
    return s;
  };
  fmt::print(f, "$date rmpsim $end\n$version rmpsim $end\n");
  // One VCD time unit is one core cycle. VCD only knows power-of-ten units
  // (1 ps, 10 ps, ...), and a cycle at 2.7 GHz is 370.37 ps, so the
  // $timescale cannot say "cycle": it stays 1 ps and the comments say how
  // to read it (issue 16, item 12), with the legend of the state codes.
  fmt::print(f,
             "$comment 1 time unit = 1 core cycle at {} GHz ({:.2f} ps); the $timescale of 1 ps "
             "is a placeholder, as VCD allows only powers of ten: read the times as cycles "
             "$end\n",
             m_freq_ghz, 1000.0 / m_freq_ghz);
  fmt::print(f,
             "$comment cpuN_state: b00 running guest code, b01 in a VM exit (hypervisor), b10 "
             "in userspace (exit-to-userspace policy); cpuN_translating: 1 while the MMU "
             "translates (L2 TLB hit or page walk) $end\n");
  fmt::print(f, "$timescale 1ps $end\n$scope module system $end\n");
  for (unsigned v = 0; v < m_vcpus; ++v) {
    fmt::print(f, "$var wire 2 {} cpu{}_state $end\n", id(2 * v), v);
    fmt::print(f, "$var wire 1 {} cpu{}_translating $end\n", id(2 * v + 1), v);
  }
  fmt::print(f, "$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n");
  for (unsigned v = 0; v < m_vcpus; ++v) fmt::print(f, "b00 {}\n0{}\n", id(2 * v), id(2 * v + 1));
  fmt::print(f, "$end\n");
  // Stable order: by cycle, then signal, then the order the changes came.
  std::stable_sort(m_changes.begin(), m_changes.end(), [](const Change& a, const Change& b) {
    return a.cycle != b.cycle ? a.cycle < b.cycle : a.signal < b.signal;
  });
  std::uint64_t now = 0;
  for (const Change& c : m_changes) {
    if (c.cycle != now) fmt::print(f, "#{}\n", now = c.cycle);
    if (c.signal % 2 == 0)
      fmt::print(f, "b{}{} {}\n", (c.value >> 1) & 1, c.value & 1, id(c.signal));
    else
      fmt::print(f, "{}{}\n", c.value, id(c.signal));
  }
}

void EventLog::finish(const std::string& suffix) {
  if (m_events) {
    const bool ok = std::fflush(m_events) == 0;
    std::fclose(m_events);
    m_events = nullptr;
    if (!ok || std::rename(m_events_tmp.c_str(), (m_events_path + suffix).c_str()) != 0) {
      std::remove(m_events_tmp.c_str());
      throw InputError(m_events_path, 0, "cannot write the events file");
    }
  }
  if (wants_vcd()) {
    const std::string tmp = tmp_name(m_vcd_path);
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) throw InputError(m_vcd_path, 0, "cannot create the VCD file");
    write_vcd(f);
    const bool ok = std::fflush(f) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), (m_vcd_path + suffix).c_str()) != 0) {
      std::remove(tmp.c_str());
      throw InputError(m_vcd_path, 0, "cannot write the VCD file");
    }
  }
}

}  // namespace rmpsim
