#include "models/hypervisor/psc.hpp"

#include <algorithm>

namespace rmpsim::hypervisor::psc {

namespace {

// Entry word layout, §3.2.
constexpr std::uint64_t kCurPageMask = 0xfff;  // [11:0]
constexpr unsigned kEntryGfnShift = 12;        // [51:12]
constexpr unsigned kEntryOpShift = 52;         // [55:52]
constexpr unsigned kEntrySizeShift = 56;       // [56]
constexpr unsigned kEntryRsvdShift = 57;       // [63:57]
constexpr std::uint64_t kEntryRsvdMask = 0x7f;

std::uint64_t read_le(const std::uint8_t* p, unsigned bytes) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void write_le(std::uint8_t* p, std::uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t map_attrs(unsigned op, bool huge) {
  return (op == kOpPrivate ? kMapGpaRangeEncrypted : kMapGpaRangeDecrypted) |
         (huge ? kMapGpaRangePageSz2M : kMapGpaRangePageSz4K);
}

}  // namespace

// --- MSR protocol, §3.1 ----------------------------------------------------

std::uint64_t msr_request(std::uint64_t gfn, unsigned op) {
  return ((std::uint64_t{op} & kMsrOpMask) << kMsrOpShift) | ((gfn & kGfnMask) << kMsrGfnShift) |
         kMsrPscRequest;
}

std::uint64_t msr_response(std::uint32_t error) {
  return (std::uint64_t{error} << 32) | kMsrPscResponse;
}

MsrRequest decode_msr_request(std::uint64_t msr) {
  MsrRequest r;
  r.info = static_cast<std::uint16_t>(msr & kMsrInfoMask);
  r.is_psc = r.info == kMsrPscRequest;
  r.gfn = (msr >> kMsrGfnShift) & kGfnMask;
  r.op = static_cast<unsigned>((msr >> kMsrOpShift) & kMsrOpMask);
  r.reserved = static_cast<std::uint8_t>(msr >> 56);
  return r;
}

MsrResponse decode_msr_response(std::uint64_t msr) {
  MsrResponse r;
  r.is_psc_response = (msr & kMsrInfoMask) == kMsrPscResponse;
  r.error = static_cast<std::uint32_t>(msr >> 32);
  return r;
}

MsrPscOutcome kvm_msr_psc(std::uint64_t ghcb_msr, bool map_gpa_range_exits) {
  MsrPscOutcome o;
  o.response = ghcb_msr;
  const MsrRequest r = decode_msr_request(ghcb_msr);
  if (!r.is_psc) return o;  // another GHCBInfo code: not ours to answer
  o.is_psc = true;
  // Only private/shared are supported, and only when userspace takes
  // MAP_GPA_RANGE exits; otherwise the generic error (§3.1, §6 row 21).
  // Bits [63:56] are ignored, as KVM does.
  if ((r.op != kOpPrivate && r.op != kOpShared) || !map_gpa_range_exits) {
    o.response = kMsrPscRespError;
    return o;
  }
  // Exactly one 4K page per exit (§4.2, §6 row 22).
  o.needs_exit = true;
  o.exit = MapGpaRange{r.gfn << 12, 1, map_attrs(r.op, false)};
  return o;
}

std::uint64_t kvm_msr_psc_complete(std::int64_t userspace_ret) {
  return userspace_ret == 0 ? msr_response(0) : kMsrPscRespError;
}

bool linux_accepts_msr_response(std::uint64_t msr) {
  const MsrResponse r = decode_msr_response(msr);
  return r.is_psc_response && r.error == 0;
}

// --- GHCB descriptor, §3.2 -------------------------------------------------

std::uint64_t pack(const PscEntry& e) {
  return (std::uint64_t{e.cur_page} & kCurPageMask) | ((e.gfn & kGfnMask) << kEntryGfnShift) |
         ((std::uint64_t{e.op} & 0xf) << kEntryOpShift) |
         (std::uint64_t{e.huge ? 1u : 0u} << kEntrySizeShift) |
         ((std::uint64_t{e.reserved} & kEntryRsvdMask) << kEntryRsvdShift);
}

PscEntry unpack(std::uint64_t raw) {
  PscEntry e;
  e.cur_page = static_cast<std::uint16_t>(raw & kCurPageMask);
  e.gfn = (raw >> kEntryGfnShift) & kGfnMask;
  e.op = static_cast<std::uint8_t>((raw >> kEntryOpShift) & 0xf);
  e.huge = ((raw >> kEntrySizeShift) & 1) != 0;
  e.reserved = static_cast<std::uint8_t>((raw >> kEntryRsvdShift) & kEntryRsvdMask);
  return e;
}

DecodeResult decode(const std::uint8_t* data, std::size_t len) {
  DecodeResult r;
  // The scratch area must hold the header and fit the shared buffer (§3.2).
  if (data == nullptr || len < kHeaderBytes || len > kSharedBufferBytes) {
    r.sw_exitinfo1 = kGhcbErrExitInfo1;
    r.sw_exitinfo2 = kGhcbErrInvalidScratch;
    return r;
  }
  PscHeader& h = r.buffer.header;
  h.cur_entry = static_cast<std::uint16_t>(read_le(data, 2));
  h.end_entry = static_cast<std::uint16_t>(read_le(data + 2, 2));
  h.reserved = static_cast<std::uint32_t>(read_le(data + 4, 4));
  const std::size_t fit = std::min((len - kHeaderBytes) / kEntryBytes, kMaxEntries);
  // end_entry is the guest's claim: it must lie inside what was supplied.
  // end_entry >= 253 is left to the handler (invalid header, row 24).
  if (h.end_entry < kMaxEntries && h.end_entry >= fit) {
    r.sw_exitinfo1 = kGhcbErrExitInfo1;
    r.sw_exitinfo2 = kGhcbErrInvalidScratch;
    r.buffer = PscBuffer{};
    return r;
  }
  r.buffer.entries.resize(fit);
  for (std::size_t i = 0; i < fit; ++i)
    r.buffer.entries[i] = unpack(read_le(data + kHeaderBytes + i * kEntryBytes, 8));
  r.ok = true;
  return r;
}

std::size_t encoded_size(const PscBuffer& b) {
  return kHeaderBytes + b.entries.size() * kEntryBytes;
}

std::size_t encode(const PscBuffer& b, std::uint8_t* out, std::size_t len) {
  const std::size_t n = encoded_size(b);
  if (out == nullptr || len < n) return 0;
  write_le(out, b.header.cur_entry, 2);
  write_le(out + 2, b.header.end_entry, 2);
  write_le(out + 4, b.header.reserved, 4);
  for (std::size_t i = 0; i < b.entries.size(); ++i)
    write_le(out + kHeaderBytes + i * kEntryBytes, pack(b.entries[i]), 8);
  return n;
}

// --- KVM's GHCB PSC processing, §4.2 ---------------------------------------

Step GhcbPscHandler::begin(PscBuffer& buf) {
  m_buf = &buf;
  m_in_flight = false;
  m_stats = PscRequestStats{};
  // Without MAP_GPA_RANGE exits KVM fails the whole request (§4.2).
  if (!m_exits_enabled) return finish(0, kPscGenericError);
  return next_range();
}

Step GhcbPscHandler::resume(std::int64_t userspace_ret) {
  if (!m_in_flight || m_buf == nullptr) {
    Step s;
    s.sw_exitinfo2 = kPscGenericError;
    return s;
  }
  m_in_flight = false;
  // Userspace failure completes the whole request, the run stays
  // unprocessed in the guest's buffer (§4.2, §6 row 27).
  if (userspace_ret != 0) return finish(0, kPscGenericError);
  m_stats.pages_done += m_run_pages;
  complete_run();
  return next_range();
}

Step GhcbPscHandler::finish(std::uint64_t exitinfo1, std::uint64_t exitinfo2) {
  m_in_flight = false;
  m_buf = nullptr;
  Step s;
  s.sw_exitinfo1 = exitinfo1;
  s.sw_exitinfo2 = exitinfo2;
  return s;
}

// The run in flight is done: every entry of it is fully processed and
// cur_entry moves past it (§3.2 hypervisor obligations). The page count is
// read from the entry's size bit as it is now, as KVM does.
void GhcbPscHandler::complete_run() {
  std::vector<PscEntry>& es = m_buf->entries;
  const std::size_t last = std::min(m_run_first + m_run_count, es.size());
  for (std::size_t i = m_run_first; i < last; ++i)
    es[i].cur_page = static_cast<std::uint16_t>(es[i].page_count());
  m_buf->header.cur_entry = static_cast<std::uint16_t>(m_run_first + m_run_count);
}

// Finds the next run of entries needing work and asks for its exit, or
// completes the request. The header and entries are re-read on every call:
// the guest owns the buffer and may have changed it while userspace ran.
Step GhcbPscHandler::next_range() {
  PscBuffer& b = *m_buf;
  PscHeader& h = b.header;
  if (h.end_entry >= kMaxEntries) return finish(0, kPscInvalidHeader);  // §6 row 24
  const std::size_t end = h.end_entry;
  // decode() guarantees entries 0..end_entry exist; a guest that moved
  // end_entry since then points outside its scratch area.
  if (end >= b.entries.size()) return finish(kGhcbErrExitInfo1, kGhcbErrInvalidScratch);

  // Each pass either returns or moves cur_entry forward (at most end + 1).
  for (;;) {
    // Skip fully processed entries, validating each one looked at (§3.2).
    std::size_t idx = h.cur_entry;
    std::uint64_t gfn = 0, npages = 0;
    bool partial = false;
    for (; idx <= end; ++idx) {
      const PscEntry& e = b.entries[idx];
      const std::uint32_t count = e.page_count();
      if (e.cur_page > count || e.gfn % count != 0) {  // §6 row 25
        h.cur_entry = static_cast<std::uint16_t>(idx);
        return finish(0, kPscInvalidEntry);
      }
      npages = count - e.cur_page;
      if (npages != 0) {
        // A partly processed 2M entry is finished at 4K granularity from
        // its first unprocessed page (§4.2).
        partial = e.cur_page != 0;
        gfn = e.gfn + e.cur_page;
        break;
      }
    }
    // cur_entry follows the skipped entries (idx <= 253, or unchanged).
    h.cur_entry = static_cast<std::uint16_t>(idx);
    if (idx > end) return finish(0, kPscOk);

    // Coalesce: same op, contiguous GFNs, same size bit, untouched (§4.2).
    // A partly processed entry is never merged.
    const PscEntry start = b.entries[idx];
    std::size_t count = 1;
    if (!partial) {
      for (std::size_t j = idx + 1; j <= end; ++j) {
        const PscEntry& e = b.entries[j];
        if (e.op != start.op || e.huge != start.huge || e.cur_page != 0 || e.gfn != gfn + npages)
          break;
        npages += e.page_count();
        ++count;
      }
    }
    m_run_first = idx;
    m_run_count = count;
    m_run_pages = npages;

    if (start.op == kOpPrivate || start.op == kOpShared) {
      m_in_flight = true;
      ++m_stats.exits;
      m_stats.pages_forwarded += npages;
      Step s;
      s.kind = Step::Kind::kExit;
      // The size flag comes from the first entry's own size bit, even for
      // the 4K remainder of a partly processed 2M entry: snp_begin_psc
      // clears its local `huge` for that remainder but builds args[2] from
      // entry_start.pagesize (arch/x86/kvm/svm/sev.c; snp-semantics §4.2).
      s.exit = MapGpaRange{gfn << 12, npages, map_attrs(start.op, start.huge)};
      return s;
    }
    // Decision: every op other than 1/2 -- PSMASH (3), UNSMASH (4) and the
    // undefined 0 and 5..15 alike -- is marked complete with no exit and no
    // RMP change, as KVM's handler does for any operation it does not
    // support (§4.2, §6 row 26); none is reported as an invalid entry.
    m_stats.noop_entries += static_cast<std::uint32_t>(count);
    complete_run();
  }
}

// --- Linux guest checks, §3.2 ----------------------------------------------

bool linux_accepts(const PscHeader& before, const PscHeader& after, std::uint64_t sw_exitinfo2,
                   std::uint64_t sw_exitinfo1) {
  if ((sw_exitinfo1 & 0xffff'ffffull) != 0) return false;  // GHCB-level error
  if (sw_exitinfo2 != 0) return false;
  if (after.reserved != 0) return false;
  if (after.end_entry > before.end_entry) return false;
  if (after.cur_entry < before.cur_entry) return false;
  return true;
}

}  // namespace rmpsim::hypervisor::psc
