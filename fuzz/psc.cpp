// Fuzz target: Page State Change (models/hypervisor/psc.*, hypervisor.*).
//
// The input is a small program for one guest and its hypervisor, built
// fresh per input as the unit tests in tests/rmp/ build theirs (a PhysStore,
// an RMP and a Hypervisor; no SystemC needed). Byte 0 picks the set-up
// (policy, backing page size, whether userspace refuses conversions); then
// each command starts with an opcode byte:
//
//   0  GHCB PSC VMGEXIT: u16 scratch length (0..2099, beyond the 2032-byte
//      shared buffer on purpose), then the scratch bytes, decoded by the
//      hypervisor as hostile guest memory (psc::decode + the PSC server);
//   1  MSR-protocol PSC VMGEXIT: the u64 GHCB MSR value;
//   2  a guest data access (u32 page number below 4 GiB, flags: private,
//      write), faulting through the hypervisor as the walker would report it
//      -- this builds the RMP/NPT state (2M entries, mappings) that later
//      conversions must take apart;
//   3  the PSC state machine alone (psc::GhcbPscHandler) with a hostile guest
//      that rewrites its buffer between the userspace exits;
//   4  MSR-protocol request decode and KVM's answer, against the spec table.
//
// Checked: no crash, no out-of-bounds access (the scratch area is allocated
// at exactly its length), results only from the documented set
// (snp-semantics §3.1, §3.2), every request terminates, a successful GHCB
// request converted exactly the pages its entries name (an independent
// oracle), the RMP stays well-formed (§1.3), and a GFN never keeps the
// backing of the side it left (§4.2).
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "models/config_schema.hpp"
#include "fuzz/fuzz_support.hpp"
#include "models/common/x86_fault.hpp"
#include "models/hypervisor/hypervisor.hpp"
#include "models/hypervisor/hypervisor_params.hpp"
#include "models/hypervisor/psc.hpp"
#include "models/memory/phys_store.hpp"
#include "models/rmp/rmp_check.hpp"
#include "models/rmp/rmp_params.hpp"
#include "models/rmp/rmp_table.hpp"
#include "models/walker/page_table.hpp"

namespace {

namespace psc = rmpsim::hypervisor::psc;
namespace x86 = rmpsim::x86;
using rmpsim::PageSize;
using rmpsim::fuzz::finding;
using rmpsim::fuzz::require;

constexpr std::uint16_t kAsid = 1;
constexpr std::size_t kMaxScratch = psc::kSharedBufferBytes + 67;
constexpr std::size_t kMaxCommands = 24;

// Consumes the input front to back; reads past the end give zeros.
class Input {
 public:
  Input(const std::uint8_t* d, std::size_t n) : m_d(d), m_n(n) {}
  bool empty() const { return m_pos >= m_n; }
  std::uint64_t take(unsigned bytes) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i, ++m_pos)
      if (m_pos < m_n) v |= std::uint64_t{m_d[m_pos]} << (8 * i);
    return v;
  }
  // `len` bytes for a buffer of exactly that size, zero-filled past the end.
  std::unique_ptr<std::uint8_t[]> bytes(std::size_t len) {
    std::unique_ptr<std::uint8_t[]> b(new std::uint8_t[len == 0 ? 1 : len]());
    const std::size_t have = m_pos < m_n ? std::min(len, m_n - m_pos) : 0;
    if (have) std::memcpy(b.get(), m_d + m_pos, have);
    m_pos += len;
    return b;
  }

 private:
  const std::uint8_t* m_d;
  std::size_t m_n;
  std::size_t m_pos = 0;
};

bool is_documented_psc_result(std::uint64_t info1, std::uint64_t info2) {
  if (info1 == psc::kGhcbErrExitInfo1) return info2 == psc::kGhcbErrInvalidScratch;
  return info1 == 0 && (info2 == psc::kPscOk || info2 == psc::kPscInvalidHeader ||
                        info2 == psc::kPscInvalidEntry || info2 == psc::kPscGenericError);
}

// What a MAP_GPA_RANGE exit may look like (§4.2, §7).
void check_exit_shape(const psc::MapGpaRange& x) {
  const std::uint64_t a = x.attrs;
  require(a == 0 || a == psc::kMapGpaRangePageSz2M || a == psc::kMapGpaRangeEncrypted ||
              a == (psc::kMapGpaRangeEncrypted | psc::kMapGpaRangePageSz2M),
          fmt::format("MAP_GPA_RANGE attrs {:#x}", a));
  require(x.npages >= 1 && x.npages <= psc::kMaxEntries * psc::kPagesPer2M,
          fmt::format("MAP_GPA_RANGE npages {}", x.npages));
  require(x.gpa % 0x1000 == 0, fmt::format("MAP_GPA_RANGE gpa {:#x} not 4K aligned", x.gpa));
  // A 2M range is whole 2M units, or the remainder of a partly processed
  // 2M entry, which keeps the 2M flag (snp_begin_psc builds the size from
  // the entry; docs/snp-semantics.md §4.2): it then ends at the 2M boundary
  // of the unit it starts in.
  if (a & psc::kMapGpaRangePageSz2M) {
    const bool whole = x.gpa % 0x200000 == 0 && x.npages % psc::kPagesPer2M == 0;
    const bool remainder = x.gpa % 0x200000 != 0 && x.npages < psc::kPagesPer2M &&
                           (x.gpa + x.npages * 0x1000) % 0x200000 == 0;
    require(whole || remainder,
            fmt::format("2M MAP_GPA_RANGE {:#x} + {} pages is neither whole 2M units nor the "
                        "rest of one",
                        x.gpa, x.npages));
  }
}

// The configured defaults, built once: a Config per input would slow the
// fuzzer down.
const rmpsim::Config& default_config() {
  static const rmpsim::Config c = rmpsim::default_config();
  return c;
}
const rmpsim::Clock kClock{2.7};  // cpu.freq_ghz's default

struct World {
  rmpsim::memory::PhysStore hmem;
  rmpsim::rmp::RmpTable rmp;
  rmpsim::hypervisor::HypervisorParams params =
      rmpsim::hypervisor::hypervisor_params_from(default_config(), kClock);
  const rmpsim::rmp::CheckOptions check_options =
      rmpsim::rmp::check_options_from(default_config(), kClock);
  rmpsim::mmu::TranslationDomain tlbs;  // no vCPUs: flushes reach no TLB
  std::unique_ptr<rmpsim::hypervisor::Hypervisor> hv;
  // Reads the hypervisor's nested page tables (lookup only, never allocates).
  std::unique_ptr<rmpsim::paging::PageTableEditor> npt;
  // GFNs the commands touched and, once a GHCB request succeeded, the
  // attribute the oracle expects for them.
  std::set<std::uint64_t> touched;
  // False once a request failed on the way: a half-done conversion may
  // leave state the oracle does not predict.
  bool clean = true;

  explicit World(std::uint8_t setup) {
    const unsigned policy = setup & 3;
    params.policy = policy == 1   ? rmpsim::hypervisor::Policy::AutoConvert
                    : policy == 2 ? rmpsim::hypervisor::Policy::Terminate
                                  : rmpsim::hypervisor::Policy::ExitToUserspace;
    const unsigned backing = (setup >> 2) & 3;
    params.backing_page_size = backing == 1 ? PageSize::k2M
                               : backing == 2 ? PageSize::k1G
                                              : PageSize::k4K;
    params.userspace_refuses = (setup >> 4) & 1;
    params.guest_asid = kAsid;
    const bool prevalidated = (setup >> 5) & 1;
    hv = std::make_unique<rmpsim::hypervisor::Hypervisor>(
        hmem, rmp, params, [prevalidated](std::uint64_t) { return prevalidated; }, tlbs);
    npt = std::make_unique<rmpsim::paging::PageTableEditor>(
        hmem, params.npt_levels, [] { return std::uint64_t{0}; }, 0);
  }

  void check_rmp() {
    const std::string rmp_error = rmp.check_invariants();
    require(rmp_error.empty(), "RMP invariant broken: " + rmp_error);
  }

  // Over every GFN any command touched: run once at the end (the set can
  // hold a few hundred thousand GFNs).
  void check_pages() {
    if (!clean) return;
    auto& gm = hv->memory();
    for (std::uint64_t gfn : touched) {
      const std::uint64_t gpa = gfn << 12;
      std::uint64_t spa = 0;
      const bool priv = gm.is_private(gpa);
      // Converting discards the backing of the side the GFN left (§4.2).
      require(!gm.find_backing(gpa, !priv, spa),
              fmt::format("GFN {:#x} is {} but still has a {} backing", gfn,
                          priv ? "private" : "shared", priv ? "shared" : "private"));
      // A private page the RMP assigns is assigned to this guest at this GPA.
      if (priv && gm.find_backing(gpa, true, spa)) {
        const rmpsim::rmp::Governing g = rmp.governing(spa);
        require(!g.entry.assigned || (g.entry.asid == kAsid && g.page_gpa == gpa),
                fmt::format("GFN {:#x}: its private page is assigned to ASID {} at GPA {:#x}", gfn,
                            g.entry.asid, g.page_gpa));
      }
    }
  }

  // Command 0.
  void ghcb_psc(Input& in) {
    const std::size_t len = in.take(2) % (kMaxScratch + 1);
    std::unique_ptr<std::uint8_t[]> scratch = in.bytes(len);
    const std::vector<std::uint8_t> orig(scratch.get(), scratch.get() + len);
    const psc::DecodeResult d = psc::decode(orig.data(), len);
    // Decoding is lossless: every bit of the header and of each entry has
    // a field.
    if (d.ok) {
      std::vector<std::uint8_t> again(psc::encoded_size(d.buffer));
      require(psc::encode(d.buffer, again.data(), again.size()) == again.size() &&
                  std::equal(again.begin(), again.end(), orig.begin()),
              "encode(decode(scratch)) differs from the scratch bytes");
    }

    rmpsim::hypervisor::ConversionCost cost;
    const rmpsim::hypervisor::GhcbPscResult res = hv->psc_ghcb(scratch.get(), len, cost);
    require(is_documented_psc_result(res.sw_exitinfo1, res.sw_exitinfo2),
            fmt::format("GHCB PSC answered SW_EXITINFO1 {:#x}, SW_EXITINFO2 {:#x}",
                        res.sw_exitinfo1, res.sw_exitinfo2));
    const std::size_t written = d.ok ? psc::encoded_size(d.buffer) : 0;
    require(std::equal(scratch.get() + written, scratch.get() + len, orig.begin() + written),
            "the hypervisor wrote past the PSC descriptor");
    if (!d.ok) {
      require(res.sw_exitinfo1 == psc::kGhcbErrExitInfo1 &&
                  std::equal(scratch.get(), scratch.get() + len, orig.begin()),
              "an invalid scratch area was not answered 2/3 untouched");
      return;
    }
    const psc::PscHeader& h = d.buffer.header;
    if (res.sw_exitinfo2 == psc::kPscInvalidHeader) {
      require(h.end_entry >= psc::kMaxEntries &&
                  std::equal(scratch.get(), scratch.get() + len, orig.begin()),
              "invalid header reported for a valid one, or something was processed (§6 row 24)");
    }
    if (res.sw_exitinfo1 != 0 || res.sw_exitinfo2 != psc::kPscOk) {
      // Whatever was converted before the failure stays converted.
      clean = false;
      return;
    }

    // Success: the oracle. Entries cur_entry..end_entry in order; each
    // op 1/2 entry converts its unprocessed pages (§3.2, §4.2).
    const psc::DecodeResult after = psc::decode(scratch.get(), len);
    require(after.ok, "the written-back descriptor no longer decodes");
    const psc::PscHeader& ha = after.buffer.header;
    const std::size_t end = h.end_entry;
    const std::uint16_t want_cur =
        h.cur_entry > end ? h.cur_entry : static_cast<std::uint16_t>(end + 1);
    require(ha.cur_entry == want_cur && ha.end_entry == h.end_entry && ha.reserved == h.reserved,
            fmt::format("header after success: cur_entry {} end_entry {}, expected {} {}",
                        ha.cur_entry, ha.end_entry, want_cur, h.end_entry));
    std::map<std::uint64_t, bool> expect;  // GFN -> private
    for (std::size_t i = 0; i < d.buffer.entries.size(); ++i) {
      const psc::PscEntry& e = d.buffer.entries[i];
      const psc::PscEntry& a = after.buffer.entries[i];
      const bool processed = i >= h.cur_entry && i <= end;
      if (!processed) {
        require(a == e, fmt::format("entry {} outside cur_entry..end_entry was changed", i));
        continue;
      }
      require(a.cur_page == e.page_count() && a.gfn == e.gfn && a.op == e.op &&
                  a.huge == e.huge && a.reserved == e.reserved,
              fmt::format("entry {} not marked complete (cur_page {})", i, a.cur_page));
      if (e.op != psc::kOpPrivate && e.op != psc::kOpShared) continue;
      for (std::uint32_t p = e.cur_page; p < e.page_count(); ++p)
        expect[e.gfn + p] = e.op == psc::kOpPrivate;
    }
    for (const auto& [gfn, priv] : expect) {
      require(hv->memory().is_private(gfn << 12) == priv,
              fmt::format("after a successful PSC GFN {:#x} is {}, the request said {}", gfn,
                          priv ? "shared" : "private", priv ? "private" : "shared"));
      touched.insert(gfn);
    }
  }

  // Command 1.
  void msr_psc(Input& in) {
    const std::uint64_t msr = in.take(8);
    rmpsim::hypervisor::ConversionCost cost;
    const std::uint64_t resp = hv->psc_msr(msr, cost);
    const psc::MsrRequest r = psc::decode_msr_request(msr);
    if (!r.is_psc) {
      require(resp == msr, "a non-PSC GHCB MSR value was changed");
      return;
    }
    if (r.op != psc::kOpPrivate && r.op != psc::kOpShared) {
      require(resp == psc::kMsrPscRespError, "a bad MSR PSC op was not refused (§6 row 21)");
      return;
    }
    if (params.userspace_refuses) {
      require(resp == psc::kMsrPscRespError, "a refused MSR PSC was answered as done");
      return;
    }
    if (resp != psc::msr_response(0)) {
      clean = false;
      return;
    }
    require(hv->memory().is_private(r.gfn << 12) == (r.op == psc::kOpPrivate),
            fmt::format("MSR PSC of GFN {:#x} to {} left it the other way", r.gfn,
                        r.op == psc::kOpPrivate ? "private" : "shared"));
    touched.insert(r.gfn);
  }

  // Command 2: one guest access, faulting as the nested walker would
  // report it, retried after each resolved exit as the vCPU does.
  void access(Input& in) {
    const std::uint64_t gfn = in.take(4) & 0xfffff;
    const std::uint8_t flags = static_cast<std::uint8_t>(in.take(1));
    const bool priv = flags & 1, write = flags & 2;
    const std::uint64_t gpa = gfn << 12 | 0x18;
    touched.insert(gfn);
    constexpr unsigned kRounds = 16;  // the vCPU's bound (models/guest/vcpu.cpp)
    for (unsigned round = 0; round < kRounds; ++round) {
      std::uint64_t exitinfo1 = x86::npf_exitinfo1(/*present=*/false, write, /*fetch=*/false,
                                                   /*guest_page_table=*/false, priv);
      const auto m = npt->lookup(hv->ncr3(), gpa);
      if (m) {
        rmpsim::rmp::GuestAccess a;
        a.spa = m->pa + (gpa & (rmpsim::page_bytes(m->size) - 1));
        a.gpa = gpa;
        a.asid = kAsid;
        a.kind = write ? rmpsim::AccessKind::Write : rmpsim::AccessKind::Read;
        a.is_private = priv;
        a.nested_size = m->size;
        const rmpsim::rmp::CheckOutcome c = rmpsim::rmp::check_guest_access(rmp, a, check_options);
        if (c.result == rmpsim::rmp::CheckResult::Ok) return;
        // Not validated: #VC 0x404 inside the guest, no exit; the guest's
        // business from here.
        if (c.result == rmpsim::rmp::CheckResult::NotValidated) return;
        exitinfo1 = x86::npf_exitinfo1(/*present=*/true, write, /*fetch=*/false,
                                       /*guest_page_table=*/false, priv, c.npf_bits);
      }
      const rmpsim::hypervisor::NpfResult r = hv->handle_npf(0, gpa, exitinfo1);
      if (!r.resolved) {
        // Terminated by policy or refused: an outcome, not a failure. An
        // RMP instruction failing on the way is one, though.
        require(r.reason.find("failed with") == std::string::npos,
                "an #NPF failed inside the hypervisor: " + r.reason);
        return;
      }
    }
    finding(fmt::format("a {} {} of GPA {:#x} still faults after {} resolved #NPFs",
                        priv ? "private" : "shared", write ? "write" : "read", gpa, kRounds));
  }

  // Command 3: the handler alone, the guest rewriting its buffer between
  // the exits (the handler re-reads it every step, psc.hpp).
  void hostile_handler(Input& in) {
    const std::uint8_t mode = static_cast<std::uint8_t>(in.take(1));
    const std::size_t len = in.take(2) % (psc::kSharedBufferBytes + 1);
    std::unique_ptr<std::uint8_t[]> scratch = in.bytes(len);
    psc::DecodeResult d = psc::decode(scratch.get(), len);
    if (!d.ok) return;
    psc::GhcbPscHandler h(/*map_gpa_range_exits=*/(mode & 1) == 0);
    psc::Step s = h.begin(d.buffer);
    unsigned quiet_steps = 0;  // steps since the guest last changed anything
    while (s.needs_exit()) {
      check_exit_shape(s.exit);
      std::int64_t ret = 0;
      if (!in.empty()) {
        const std::uint8_t m = static_cast<std::uint8_t>(in.take(1));
        psc::PscBuffer& b = d.buffer;
        switch (m & 3) {
          case 1:
            b.header.cur_entry = static_cast<std::uint16_t>(in.take(2));
            break;
          case 2:
            b.header.end_entry = static_cast<std::uint16_t>(in.take(2));
            break;
          case 3:
            if (!b.entries.empty())
              b.entries[in.take(1) % b.entries.size()] = psc::unpack(in.take(8));
            break;
          default:
            break;
        }
        ret = (m >> 2) % 8 == 7 ? 1 : 0;  // userspace fails now and then
        quiet_steps = 0;
      } else {
        // Left alone, a request finishes: every step completes a run and
        // moves cur_entry forward.
        require(++quiet_steps <= psc::kMaxEntries + 1, "a PSC request does not terminate");
      }
      s = h.resume(ret);
    }
    require(!h.in_flight(), "a finished PSC request is still in flight");
    require(is_documented_psc_result(s.sw_exitinfo1, s.sw_exitinfo2),
            fmt::format("the PSC handler finished with {:#x}/{:#x}", s.sw_exitinfo1,
                        s.sw_exitinfo2));
    // Resuming with nothing in flight changes nothing.
    const psc::Step extra = h.resume(0);
    require(extra.done() && extra.sw_exitinfo2 == psc::kPscGenericError,
            "resume() without an exit in flight did not answer the generic error");
  }

  // Command 4: MSR protocol decode and KVM's answer, field by field (§3.1).
  void msr_decode(Input& in) {
    const std::uint64_t msr = in.take(8);
    const psc::MsrRequest r = psc::decode_msr_request(msr);
    const std::uint64_t back = (std::uint64_t{r.reserved} << 56) |
                               (std::uint64_t{r.op} << psc::kMsrOpShift) |
                               (r.gfn << psc::kMsrGfnShift) | r.info;
    require(back == msr, fmt::format("MSR {:#x} decodes to fields that make {:#x}", msr, back));
    require(r.is_psc == (r.info == psc::kMsrPscRequest), "is_psc does not follow the info code");
    for (bool exits : {true, false}) {
      const psc::MsrPscOutcome o = psc::kvm_msr_psc(msr, exits);
      if (!r.is_psc) {
        require(!o.is_psc && !o.needs_exit && o.response == msr, "a non-PSC value was answered");
      } else if ((r.op == psc::kOpPrivate || r.op == psc::kOpShared) && exits) {
        const psc::MapGpaRange want{r.gfn << 12, 1,
                                    r.op == psc::kOpPrivate ? psc::kMapGpaRangeEncrypted : 0};
        require(o.is_psc && o.needs_exit && o.exit == want,
                "an MSR PSC did not ask for exactly one 4K MAP_GPA_RANGE exit (§6 row 22)");
      } else {
        require(o.is_psc && !o.needs_exit && o.response == psc::kMsrPscRespError &&
                    !psc::linux_accepts_msr_response(o.response),
                "an MSR PSC KVM cannot serve was not answered 0x8000_0000_0000_0015 (§6 row 21)");
      }
    }
    const psc::MsrResponse resp = psc::decode_msr_response(msr);
    require(psc::linux_accepts_msr_response(msr) == (resp.is_psc_response && resp.error == 0),
            "Linux's acceptance of an MSR response does not follow its fields");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Input in(data + 1, size - 1);
  World w(data[0]);
  for (std::size_t n = 0; n < kMaxCommands && !in.empty(); ++n) {
    switch (in.take(1) % 5) {
      case 0: w.ghcb_psc(in); break;
      case 1: w.msr_psc(in); break;
      case 2: w.access(in); break;
      case 3: w.hostile_handler(in); break;
      case 4: w.msr_decode(in); break;
    }
    w.check_rmp();
  }
  w.check_pages();
  return 0;
}
