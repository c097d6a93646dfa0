#pragma once
// Helpers for the trace library tests: a per-test temporary directory,
// reading a whole trace into owned events, and checking error messages.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "traces/byte_io.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace::test {

namespace fs = std::filesystem;

// Created fresh for each test case, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rmpsim-traces-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

// An Event together with its own copy of the PSC entries (a reader's entries
// only live until its next call).
struct Owned {
  Event ev;
  std::vector<PscEntry> psc;
  Event view() const {
    Event e = ev;
    e.psc = psc.empty() ? nullptr : psc.data();
    return e;
  }
  bool operator==(const Owned& o) const { return view() == o.view(); }
};

inline Owned own(const Event& ev) {
  Owned o{ev, {}};
  if (ev.psc_count) o.psc.assign(ev.psc, ev.psc + ev.psc_count);
  o.ev.psc = nullptr;
  return o;
}

inline std::vector<Owned> read_all(Reader& r) {
  std::vector<Owned> out;
  Event ev;
  while (r.next(ev)) out.push_back(own(ev));
  return out;
}

inline std::vector<Owned> read_file(const std::string& path) {
  auto r = open_reader(path);
  return read_all(*r);
}

// Parses `text` as a text trace named "t.rmpt".
inline std::vector<Owned> parse(const std::string& text) {
  TextReader r(memory_source(text), "t.rmpt");
  return read_all(r);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

inline void write_events(const std::string& path, const std::vector<Owned>& events) {
  auto w = open_writer(path);
  for (const Owned& o : events) w->write(o.view());
  w->finish();
}

// Runs `f` and returns the InputError message it throws ("" if none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

inline std::string parse_error(const std::string& text) {
  return error_of([&] { parse(text); });
}

// Shorthands for hand-written expectations.
inline Event access(Op op, std::uint16_t vcpu, std::uint64_t addr, std::uint32_t size) {
  Event e;
  e.op = op;
  e.vcpu = vcpu;
  e.addr = addr;
  e.size = size;
  return e;
}

}  // namespace rmpsim::trace::test

namespace Catch {
template <>
struct StringMaker<rmpsim::trace::test::Owned> {
  static std::string convert(const rmpsim::trace::test::Owned& o) {
    try {
      return rmpsim::trace::format_event(o.view());
    } catch (const std::exception&) {
      const auto& e = o.ev;
      std::ostringstream s;
      s << "{op " << unsigned(e.op) << " vcpu " << e.vcpu << " size " << e.size << " addr "
        << e.addr << " gpa " << e.gpa << " len " << e.len << " attrs " << e.attrs << " psc "
        << e.psc_count << "}";
      return s.str();
    }
  }
};
template <>
struct StringMaker<rmpsim::trace::Event> {
  static std::string convert(const rmpsim::trace::Event& e) {
    return StringMaker<rmpsim::trace::test::Owned>::convert(rmpsim::trace::test::own(e));
  }
};
}  // namespace Catch
