#pragma once
// GHCB Page State Change (PSC), protocol core (functional, no SystemC):
//   - the MSR protocol (one 4K page per request, snp-semantics §3.1) and
//     KVM's handling of it (§4.2): one KVM_HC_MAP_GPA_RANGE userspace exit;
//   - the GHCB PSC descriptor (§3.2): decoding it from the guest's bytes,
//     which are hostile input, and encoding it (guest side, tests);
//   - KVM's processing of a GHCB PSC request (§4.2, §6 rows 23-27) as a
//     resumable state machine: validate, coalesce runs of entries into
//     MAP_GPA_RANGE exits, write the progress fields back;
//   - the checks a Linux guest applies to the hypervisor's answer (§3.2,
//     §6 row 28).
// PSC handling itself changes no RMP entry (§4.2): the caller applies the
// attribute conversion a MapGpaRange asks for.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rmpsim::hypervisor::psc {

// ---------------------------------------------------------------------------
// Operations (§3.2; the MSR protocol uses 1 and 2 only, §3.1).
enum Op : unsigned { kOpPrivate = 1, kOpShared = 2, kOpPsmash = 3, kOpUnsmash = 4 };

// ---------------------------------------------------------------------------
// KVM_HC_MAP_GPA_RANGE (§4.2, §7): args = {gpa, npages (4K pages), attrs}.
inline constexpr std::uint64_t kMapGpaRangePageSz4K = 0;
inline constexpr std::uint64_t kMapGpaRangePageSz2M = 1ull << 0;
inline constexpr std::uint64_t kMapGpaRangePageSz1G = 1ull << 1;
inline constexpr std::uint64_t kMapGpaRangeEncrypted = 1ull << 4;  // to private
inline constexpr std::uint64_t kMapGpaRangeDecrypted = 0;          // to shared

struct MapGpaRange {
  std::uint64_t gpa = 0;
  std::uint64_t npages = 0;  // 4K pages
  std::uint64_t attrs = 0;
  bool to_private() const { return (attrs & kMapGpaRangeEncrypted) != 0; }
  bool operator==(const MapGpaRange& o) const {
    return gpa == o.gpa && npages == o.npages && attrs == o.attrs;
  }
  bool operator!=(const MapGpaRange& o) const { return !(*this == o); }
};

// ---------------------------------------------------------------------------
// MSR protocol (§3.1).
inline constexpr std::uint64_t kMsrInfoMask = 0xfff;  // GHCBInfo, bits [11:0]
inline constexpr std::uint16_t kMsrPscRequest = 0x014;
inline constexpr std::uint16_t kMsrPscResponse = 0x015;
inline constexpr std::uint64_t kGfnMask = (1ull << 40) - 1;  // GFN, bits [51:12]
inline constexpr unsigned kMsrGfnShift = 12;
inline constexpr unsigned kMsrOpShift = 52;  // op, bits [55:52]
inline constexpr std::uint64_t kMsrOpMask = 0xf;
// KVM's generic failure: 0x015 with bit 63 set (§3.1, §6 row 21).
inline constexpr std::uint64_t kMsrPscRespError = 0x8000'0000'0000'0015ull;

// A request value as a guest writes it; `gfn` is cut to 40 bits, `op` to 4.
std::uint64_t msr_request(std::uint64_t gfn, unsigned op);
// A response value: 0x015 with `error` in bits [63:32].
std::uint64_t msr_response(std::uint32_t error);

// A guest-written MSR value taken apart field by field; every bit pattern
// decodes (nothing is trusted, nothing is rejected here).
struct MsrRequest {
  bool is_psc = false;        // info code == 0x014
  std::uint16_t info = 0;     // bits [11:0]
  std::uint64_t gfn = 0;      // bits [51:12]
  unsigned op = 0;            // bits [55:52], 0..15
  std::uint8_t reserved = 0;  // bits [63:56]; KVM ignores them
};
MsrRequest decode_msr_request(std::uint64_t msr);

struct MsrResponse {
  bool is_psc_response = false;  // info code == 0x015
  std::uint32_t error = 0;       // bits [63:32]
};
MsrResponse decode_msr_response(std::uint64_t msr);

// KVM's handling of a guest's MSR PSC (§3.1, §4.2, §6 rows 21-22). Either the
// guest is answered at once (`needs_exit` false, `response` is the new GHCB
// MSR value) or KVM needs exactly one userspace exit `exit`, after which
// msr_psc_complete() gives the response.
struct MsrPscOutcome {
  bool is_psc = false;  // false: not a PSC request, nothing done, `response` = the value as-is
  bool needs_exit = false;
  MapGpaRange exit{};
  std::uint64_t response = 0;
};
// `map_gpa_range_exits`: userspace enabled KVM_HC_MAP_GPA_RANGE exits (§4.2).
MsrPscOutcome kvm_msr_psc(std::uint64_t ghcb_msr, bool map_gpa_range_exits = true);
// The GHCB MSR value after userspace returned `userspace_ret` (hypercall.ret).
std::uint64_t kvm_msr_psc_complete(std::int64_t userspace_ret);
// Linux guest acceptance of an MSR response: code 0x015 and error 0 (§3.1).
bool linux_accepts_msr_response(std::uint64_t msr);

// ---------------------------------------------------------------------------
// GHCB PSC descriptor (§3.2): 8-byte header + 8-byte entries, little-endian.
inline constexpr std::size_t kHeaderBytes = 8;
inline constexpr std::size_t kEntryBytes = 8;
inline constexpr std::size_t kMaxEntries = 253;          // GHCB-defined maximum
inline constexpr std::size_t kSharedBufferBytes = 2032;  // 8 + 253 * 8
inline constexpr std::size_t kLinuxMaxEntries = 64;      // what a Linux guest sends at most
inline constexpr std::uint16_t kPagesPer2M = 512;

struct PscHeader {
  std::uint16_t cur_entry = 0;
  std::uint16_t end_entry = 0;  // index of the last valid entry, inclusive
  std::uint32_t reserved = 0;   // must be 0
  bool operator==(const PscHeader& o) const {
    return cur_entry == o.cur_entry && end_entry == o.end_entry && reserved == o.reserved;
  }
};

struct PscEntry {
  std::uint16_t cur_page = 0;  // bits [11:0]: pages of this entry already processed
  std::uint64_t gfn = 0;       // bits [51:12]
  std::uint8_t op = 0;         // bits [55:52]
  bool huge = false;           // bit [56]: 0 = 4K, 1 = 2M
  std::uint8_t reserved = 0;   // bits [63:57]
  // Pages this entry describes (1 or 512).
  std::uint32_t page_count() const { return huge ? kPagesPer2M : 1u; }
  bool operator==(const PscEntry& o) const {
    return cur_page == o.cur_page && gfn == o.gfn && op == o.op && huge == o.huge &&
           reserved == o.reserved;
  }
};

// One entry as its 64-bit word; pack() cuts every field to its width.
std::uint64_t pack(const PscEntry& e);
PscEntry unpack(std::uint64_t raw);

struct PscBuffer {
  PscHeader header;
  std::vector<PscEntry> entries;  // as many as the scratch area holds (<= 253)
};

// GHCB-level input errors (§3.2): SW_EXITINFO1 = 2, SW_EXITINFO2 = reason.
inline constexpr std::uint64_t kGhcbErrExitInfo1 = 2;
inline constexpr std::uint64_t kGhcbErrInvalidScratch = 3;

struct DecodeResult {
  bool ok = false;
  PscBuffer buffer;                // when ok
  std::uint64_t sw_exitinfo1 = 0;  // when !ok: 2
  std::uint64_t sw_exitinfo2 = 0;  // when !ok: 3 (invalid scratch area)
};
// Decodes the guest's scratch area `data[0..len)`. `len` is the length the
// guest supplied. Invalid scratch when: `data` is null, `len` cannot hold the
// header, `len` exceeds the 2032-byte shared buffer, or end_entry < 253 and
// `len` cannot hold entries 0..end_entry. end_entry >= 253 decodes (the
// handler reports the invalid header, §6 row 24). Decodes min((len-8)/8, 253)
// entries; reads nothing outside `data[0..len)`.
DecodeResult decode(const std::uint8_t* data, std::size_t len);

// Bytes encode() writes for `b`: 8 + 8 * entries.size().
std::size_t encoded_size(const PscBuffer& b);
// Writes the header and every entry of `b` to `out` (fields cut to their
// widths). Returns the bytes written, or 0 with nothing written when `out`
// is null or `len` < encoded_size(b).
std::size_t encode(const PscBuffer& b, std::uint8_t* out, std::size_t len);

// ---------------------------------------------------------------------------
// KVM's processing of a GHCB PSC request (§3.2, §4.2, §6 rows 23-27).
// SW_EXITINFO2 results:
inline constexpr std::uint64_t kPscOk = 0;
inline constexpr std::uint64_t kPscInvalidHeader = (1ull << 32) | 1;  // end_entry >= 253
inline constexpr std::uint64_t kPscInvalidEntry = (1ull << 32) | 2;   // cur_page / alignment
inline constexpr std::uint64_t kPscGenericError = 0x100ull << 32;     // userspace failed

struct Step {
  enum class Kind : std::uint8_t { kExit, kDone };
  Kind kind = Kind::kDone;
  MapGpaRange exit{};              // kExit: the userspace exit KVM needs
  std::uint64_t sw_exitinfo1 = 0;  // kDone: what the guest sees
  std::uint64_t sw_exitinfo2 = 0;
  bool needs_exit() const { return kind == Kind::kExit; }
  bool done() const { return kind == Kind::kDone; }
};

// Counts for the request in progress (reset by begin()).
struct PscRequestStats {
  std::uint32_t exits = 0;            // MAP_GPA_RANGE exits asked for
  std::uint64_t pages_forwarded = 0;  // sum of npages over those exits
  std::uint64_t pages_done = 0;       // pages of exits userspace acknowledged with 0
  std::uint32_t noop_entries = 0;     // entries completed without an exit (op not 1/2)
};

// Usage: Step s = h.begin(buf); while (s.needs_exit()) s = h.resume(userspace(s.exit));
// The handler updates `buf` in place (cur_entry, cur_page) as KVM writes the
// guest's buffer; encode() it back for the guest to see. `buf` must outlive
// the request. Between steps the buffer may change (a hostile guest): every
// step re-reads and re-validates it, so a step never indexes outside
// `buf.entries` and every request terminates.
class GhcbPscHandler {
 public:
  // `map_gpa_range_exits`: userspace enabled KVM_HC_MAP_GPA_RANGE exits;
  // otherwise every request fails with the generic error (§4.2).
  explicit GhcbPscHandler(bool map_gpa_range_exits = true) : m_exits_enabled(map_gpa_range_exits) {}

  // Starts a request (abandons one in flight).
  Step begin(PscBuffer& buf);
  // Userspace's hypercall.ret for the exit of the previous step. Called with
  // no exit in flight it changes nothing and returns done/generic error.
  Step resume(std::int64_t userspace_ret);

  bool in_flight() const { return m_in_flight; }
  const PscRequestStats& stats() const { return m_stats; }

 private:
  Step next_range();
  Step finish(std::uint64_t exitinfo1, std::uint64_t exitinfo2);
  void complete_run();

  bool m_exits_enabled;
  PscBuffer* m_buf = nullptr;
  bool m_in_flight = false;
  std::size_t m_run_first = 0;  // first entry of the run in flight
  std::size_t m_run_count = 0;  // entries in it
  std::uint64_t m_run_pages = 0;
  PscRequestStats m_stats;
};

// ---------------------------------------------------------------------------
// Linux guest checks after each PSC VMGEXIT (vmgexit_psc, §3.2, §6 row 28):
// rejects SW_EXITINFO1[31:0] != 0 (a GHCB-level error), SW_EXITINFO2 != 0,
// header reserved != 0, end_entry larger than before, cur_entry smaller
// than before. `before` is the header the guest wrote.
bool linux_accepts(const PscHeader& before, const PscHeader& after, std::uint64_t sw_exitinfo2,
                   std::uint64_t sw_exitinfo1 = 0);
// The guest issues another VMGEXIT while cur_entry <= end_entry (§3.2).
inline bool linux_needs_another_vmgexit(const PscHeader& h) { return h.cur_entry <= h.end_entry; }

}  // namespace rmpsim::hypervisor::psc
