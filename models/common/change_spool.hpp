#pragma once
// The VCD's value changes in bounded memory (issue 14, item 11). vCPUs
// report changes out of time order (temporal decoupling), so the VCD needs
// them sorted; instead of keeping the whole run's changes, the spool keeps
// up to kRunChanges in memory, stable-sorts each full run and writes it to
// an unlinked scratch file next to the output, then merges the sorted runs
// when the VCD is written. The order is that of one stable sort of all
// changes by (cycle, signal): ties keep the order they came in, because
// runs are merged in the order they were written.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace rmpsim {

struct VcdChange {
  std::uint64_t cycle;
  unsigned signal;  // 2*vcpu: state, 2*vcpu+1: translating
  unsigned value;
};

class ChangeSpool {
 public:
  // 256 Ki changes (4 MiB) per run in memory.
  static constexpr std::size_t kRunChanges = std::size_t(1) << 18;

  // The scratch file is created as `vcd_path`.changes.tmp.PID (and at once
  // unlinked, so nothing is left behind whatever happens to the process).
  explicit ChangeSpool(std::string vcd_path, std::size_t run_changes = kRunChanges);
  ~ChangeSpool();
  ChangeSpool(const ChangeSpool&) = delete;
  ChangeSpool& operator=(const ChangeSpool&) = delete;

  void push(const VcdChange& c) {
    m_buf.push_back(c);
    if (m_buf.size() == m_run_changes) spill();
  }
  // Visits every change in order; the spool is empty afterwards. push()
  // and drain() throw InputError naming the VCD file if the scratch file
  // cannot be written or read (a full disk).
  void drain(const std::function<void(const VcdChange&)>& f);
  // Sorted runs written to the scratch file so far.
  std::size_t runs() const { return m_runs.size(); }

 private:
  void spill();
  void sort_buffer();

  std::string m_vcd_path, m_scratch_path;
  std::size_t m_run_changes;
  std::vector<VcdChange> m_buf;
  std::FILE* m_file = nullptr;
  struct Run {
    long offset;
    std::size_t count;
  };
  std::vector<Run> m_runs;
};

}  // namespace rmpsim
