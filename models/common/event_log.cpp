#include "models/common/event_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include "traces/input_error.hpp"
#include "traces/output_file.hpp"

namespace rmpsim {

EventLog::EventLog(std::string events_path, std::string vcd_path, unsigned vcpus, double freq_ghz)
    : m_events_path(std::move(events_path)),
      m_vcd_path(std::move(vcd_path)),
      m_vcpus(vcpus),
      m_freq_ghz(freq_ghz),
      m_changes(m_vcd_path) {
  if (!m_events_path.empty()) {
    m_events_out = std::make_unique<trace::OutputFile>(m_events_path, "events file");
    m_events = true;
  }
  if (!m_vcd_path.empty()) m_vcd_out = std::make_unique<trace::OutputFile>(m_vcd_path, "VCD file");
}

EventLog::~EventLog() = default;  // unpublished outputs are removed

void EventLog::flush_events() {
  m_events_out->write(m_events_buf.data(), m_events_buf.size());
  m_events_buf.clear();
}

void EventLog::event(std::uint64_t cycle, unsigned vcpu, const char* type,
                     const std::string& fields) {
  if (!m_events) return;
  fmt::format_to(std::back_inserter(m_events_buf),
                 "{{\"cycle\": {}, \"vcpu\": {}, \"type\": \"{}\"{}{}}}\n", cycle, vcpu, type,
                 fields.empty() ? "" : ", ", fields);
  // A write error (a full disk) throws here, naming the file, and stops the
  // run like any input error.
  if (m_events_buf.size() >= (64u << 10)) flush_events();
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

void EventLog::region(unsigned vcpu, std::uint64_t cycle, bool begin, std::uint64_t line,
                      std::uint64_t warmup_accesses) {
  if (!m_events) return;
  event(cycle, vcpu, "region",
        begin ? fmt::format("\"edge\": \"begin\", \"line\": {}, \"warmup_accesses\": {}", line,
                            warmup_accesses)
              : fmt::format("\"edge\": \"end\", \"line\": {}", line));
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
                    "\"pvalidate\": {}, \"guest\": {}{}}}",
                    trigger_name(rec.trigger), rec.to_private, rec.pages, rec.end,
                    rec.end - rec.start, c.exit, c.userspace, c.rmpupdate, c.psmash, c.flush,
                    c.npt, c.pvalidate, c.guest,
                    // Only conversions that made SVSM calls (guest.svsm) carry it.
                    c.svsm ? fmt::format(", \"svsm\": {}", c.svsm) : std::string()));
}

void EventLog::exit_interval(unsigned vcpu, std::uint64_t start, std::uint64_t exit,
                             std::uint64_t userspace) {
  if (!wants_vcd()) return;
  const unsigned s = 2 * vcpu;
  m_changes.push({start, s, unsigned(State::Exit)});
  if (userspace && userspace <= exit)
    m_changes.push({start + exit - userspace, s, unsigned(State::Userspace)});
  m_changes.push({start + exit, s, unsigned(State::Running)});
}

void EventLog::translate_interval(unsigned vcpu, std::uint64_t start, std::uint64_t cycles) {
  if (!wants_vcd() || !cycles) return;
  m_changes.push({start, 2 * vcpu + 1, 1});
  m_changes.push({start + cycles, 2 * vcpu + 1, 0});
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
  std::uint64_t now = 0;
  m_changes.drain([&](const VcdChange& c) {
    if (c.cycle != now) fmt::print(f, "#{}\n", now = c.cycle);
    if (c.signal % 2 == 0)
      fmt::print(f, "b{}{} {}\n", (c.value >> 1) & 1, c.value & 1, id(c.signal));
    else
      fmt::print(f, "{}{}\n", c.value, id(c.signal));
  });
}

void EventLog::finish(const std::string& suffix) {
  if (m_events) {
    flush_events();
    m_events_out->publish(suffix);
    m_events = false;
  }
  if (wants_vcd()) {
    // A FILE over a duplicate of the output's descriptor; fmt reports a
    // failed write as std::system_error, reported here with the file's name.
    std::FILE* f = ::fdopen(::dup(m_vcd_out->fd()), "w");
    if (!f) throw InputError(m_vcd_path, 0, "cannot write the VCD file");
    bool ok = true;
    try {
      write_vcd(f);
    } catch (const std::system_error&) {
      ok = false;
    }
    ok = std::fflush(f) == 0 && ok;
    const int err = errno;
    std::fclose(f);
    if (!ok)
      throw InputError(m_vcd_path, 0,
                       std::string("cannot write the VCD file: ") + std::strerror(err));
    m_vcd_out->publish(suffix);
    m_vcd_path.clear();
  }
}

}  // namespace rmpsim
