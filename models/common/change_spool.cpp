#include "models/common/change_spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <string>

#include <unistd.h>

#include "traces/input_error.hpp"

namespace rmpsim {

namespace {

bool before(const VcdChange& a, const VcdChange& b) {
  return a.cycle != b.cycle ? a.cycle < b.cycle : a.signal < b.signal;
}

}  // namespace

ChangeSpool::ChangeSpool(std::string vcd_path, std::size_t run_changes)
    : m_vcd_path(std::move(vcd_path)),
      m_scratch_path(m_vcd_path + ".changes.tmp." + std::to_string(::getpid())),
      m_run_changes(std::max<std::size_t>(run_changes, 1)) {}

ChangeSpool::~ChangeSpool() {
  if (m_file) std::fclose(m_file);
}

void ChangeSpool::sort_buffer() { std::stable_sort(m_buf.begin(), m_buf.end(), before); }

void ChangeSpool::spill() {
  if (!m_file) {
    m_file = std::fopen(m_scratch_path.c_str(), "w+b");
    if (!m_file)
      throw InputError(m_vcd_path, 0,
                       std::string("cannot create the VCD scratch file: ") + std::strerror(errno));
    ::unlink(m_scratch_path.c_str());
  }
  sort_buffer();
  const long offset = std::ftell(m_file);
  if (offset < 0 || std::fwrite(m_buf.data(), sizeof(VcdChange), m_buf.size(), m_file) !=
                        m_buf.size())
    throw InputError(m_vcd_path, 0,
                     std::string("cannot write the VCD scratch file: ") + std::strerror(errno));
  m_runs.push_back(Run{offset, m_buf.size()});
  m_buf.clear();
}

void ChangeSpool::drain(const std::function<void(const VcdChange&)>& f) {
  if (m_runs.empty()) {
    sort_buffer();
    for (const VcdChange& c : m_buf) f(c);
    m_buf.clear();
    return;
  }
  if (!m_buf.empty()) spill();
  if (std::fflush(m_file) != 0)
    throw InputError(m_vcd_path, 0, "cannot write the VCD scratch file");
  // A k-way merge, each run read through a small window of its own.
  constexpr std::size_t kWindow = 4096;
  struct Cursor {
    Run run;
    std::size_t next = 0;  // changes of the run consumed from the file
    std::vector<VcdChange> window;
    std::size_t pos = 0;
  };
  std::vector<Cursor> cur(m_runs.size());
  auto refill = [&](Cursor& c) {
    const std::size_t n = std::min(kWindow, c.run.count - c.next);
    c.window.resize(n);
    c.pos = 0;
    if (n == 0) return false;
    if (std::fseek(m_file, c.run.offset + long(c.next * sizeof(VcdChange)), SEEK_SET) != 0 ||
        std::fread(c.window.data(), sizeof(VcdChange), n, m_file) != n)
      throw InputError(m_vcd_path, 0, "cannot read the VCD scratch file");
    c.next += n;
    return true;
  };
  // Heap of run indexes; ties go to the earlier run (stable).
  auto later = [&](std::size_t a, std::size_t b) {
    const VcdChange& x = cur[a].window[cur[a].pos];
    const VcdChange& y = cur[b].window[cur[b].pos];
    if (before(x, y)) return false;
    if (before(y, x)) return true;
    return a > b;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
  for (std::size_t i = 0; i < cur.size(); ++i) {
    cur[i].run = m_runs[i];
    if (refill(cur[i])) heap.push(i);
  }
  while (!heap.empty()) {
    const std::size_t i = heap.top();
    heap.pop();
    Cursor& c = cur[i];
    f(c.window[c.pos]);
    if (++c.pos < c.window.size() || refill(c)) heap.push(i);
  }
  std::fclose(m_file);
  m_file = nullptr;
  m_runs.clear();
}

}  // namespace rmpsim
