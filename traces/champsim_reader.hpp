#pragma once
// Importer for ChampSim instruction traces (the DPC-3 / CRC-2 / GAP /
// CloudSuite collections): docs/trace-format.md, "ChampSim traces". A trace
// is a sequence of 64-byte `input_instr` records, little-endian, no header:
//
//   bytes  0..7   ip (the instruction's address)
//   byte   8      is_branch        (ignored)
//   byte   9      branch_taken     (ignored)
//   bytes 10..11  2 destination register ids (ignored)
//   bytes 12..15  4 source register ids      (ignored)
//   bytes 16..31  2 destination memory addresses (0 = none)
//   bytes 32..63  4 source memory addresses      (0 = none)
//
// Each record becomes one X (the fetch at ip), then one R per non-zero
// source address, then one W per non-zero destination address, all on
// vCPU 0 and all 1 byte long: a record carries no sizes, and ChampSim itself
// issues exactly one memory request per address, so one access per address
// and never a page-crossing split. A record is decoded and checked whole
// before any of its events is handed out; errors name the 1-based record
// number in place of a line ("trace.champsim:5: error: truncated record
// (expected 64 bytes, got 24)").
#include <array>
#include <memory>
#include <string>

#include "traces/byte_io.hpp"
#include "traces/trace_io.hpp"

namespace rmpsim::trace {

class ChampSimReader final : public Reader {
 public:
  static constexpr std::size_t kRecordBytes = 64;
  static constexpr std::size_t kDestinations = 2;
  static constexpr std::size_t kSources = 4;

  ChampSimReader(std::unique_ptr<ByteSource> src, std::string name);

  bool next(Event& ev) override;
  std::uint64_t bytes_read() const override { return m_src->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_src->bytes_total(); }
  std::uint64_t line() const override { return m_record; }  // record of the last event
  const std::string& name() const override { return m_name; }

 private:
  bool decode_next_record();
  std::size_t fill();

  std::unique_ptr<ByteSource> m_src;
  std::string m_name;
  std::unique_ptr<unsigned char[]> m_buf;
  const unsigned char* m_cur;
  const unsigned char* m_end;
  std::uint64_t m_record = 0;  // records decoded so far
  // The current record's events: [m_next, m_count) are still to be handed out.
  std::array<Event, 1 + kSources + kDestinations> m_events{};
  std::size_t m_next = 0, m_count = 0;
};

}  // namespace rmpsim::trace
