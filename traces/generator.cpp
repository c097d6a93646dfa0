#include "traces/generator.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rmpsim::trace {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr const char* kGen = "<gen>";

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

class GeneratorReader final : public Reader {
 public:
  explicit GeneratorReader(const GenSpec& spec) : m_gen(spec) {}
  bool next(Event& ev) override {
    if (!m_gen.next(ev)) return false;
    ++m_events;
    return true;
  }
  std::uint64_t bytes_read() const override { return 0; }
  std::uint64_t bytes_total() const override { return 0; }
  std::uint64_t line() const override { return m_events; }  // the event's index, 1-based
  const std::string& name() const override { return m_name; }

 private:
  Generator m_gen;
  std::uint64_t m_events = 0;
  std::string m_name = kGen;
};

}  // namespace

void check_gen_spec(const GenSpec& s) {
  if (s.pattern != "hot" && s.pattern != "random" && s.pattern != "stream" &&
      s.pattern != "chase")
    throw InputError(kGen, 0,
                     fmt::format("unknown pattern '{}' (expected hot, random, stream or chase)",
                                 s.pattern));
  if (s.vcpus < 1 || s.vcpus > 65536)
    throw InputError(kGen, 0, fmt::format("expected vcpus to be 1..65536, got {}", s.vcpus));
  if (s.footprint_bytes / s.vcpus < kPage)
    throw InputError(
        kGen, 0,
        fmt::format("expected footprint_bytes to be at least 4096 per vCPU ({}), got {}",
                    kPage * s.vcpus, s.footprint_bytes));
  if (!(s.write_fraction >= 0.0 && s.write_fraction <= 1.0))
    throw InputError(kGen, 0,
                     fmt::format("expected write_fraction to be 0..1, got {}", s.write_fraction));
  if (s.base_gva % kPage)
    throw InputError(kGen, 0,
                     fmt::format("expected base_gva to be 4K-aligned, got {:#x}", s.base_gva));
  if (s.base_gva + s.footprint_bytes < s.base_gva)
    throw InputError(kGen, 0, "expected base_gva + footprint_bytes to stay below 2^64");
  if (s.pattern == "hot" && s.hot_pages < 1)
    throw InputError(kGen, 0, "expected hot_pages to be at least 1, got 0");
}

Generator::Generator(const GenSpec& spec) : m_spec(spec) {
  check_gen_spec(spec);
  m_pattern = spec.pattern == "hot"      ? Pattern::Hot
              : spec.pattern == "stream" ? Pattern::Stream
              : spec.pattern == "chase"  ? Pattern::Chase
                                         : Pattern::Random;
  m_share = spec.footprint_bytes / spec.vcpus / kPage * kPage;
  m_hot_pages = std::min<std::uint64_t>(spec.hot_pages, m_share / kPage);
  std::uint64_t x = spec.seed;
  for (std::uint64_t& w : m_state) w = splitmix64(x);
  m_stream_pos.assign(spec.vcpus, 0);
  if (m_pattern == Pattern::Chase) {
    m_lines = m_share / 64;
    unsigned bits = 2;
    while ((1ull << bits) < m_lines) bits += 2;
    m_half_bits = bits / 2;
    for (std::uint64_t& k : m_keys) k = splitmix64(x);
    m_touch = m_share / kPage * spec.vcpus;
  }
}

std::uint64_t Generator::permute(std::uint64_t i) const {
  const std::uint64_t mask = (1ull << m_half_bits) - 1;
  std::uint64_t x = i;
  do {  // cycle-walk: the domain is below 4 * m_lines, so a few rounds at most
    std::uint64_t l = x >> m_half_bits, r = x & mask;
    for (std::uint64_t k : m_keys) {
      std::uint64_t z = r ^ k;
      const std::uint64_t f = splitmix64(z) & mask;
      const std::uint64_t t = l ^ f;
      l = r;
      r = t;
    }
    x = (l << m_half_bits) | r;
  } while (x >= m_lines);
  return x;
}

// xoshiro256** (Blackman and Vigna), written out so that the output is the
// same with every compiler and standard library.
std::uint64_t Generator::rand64() {
  std::array<std::uint64_t, 4>& s = m_state;
  std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

// Multiply-shift range reduction: the bias (< n / 2^64) does not matter here,
// determinism does.
std::uint64_t Generator::rand_below(std::uint64_t n) {
  return std::uint64_t((unsigned __int128)rand64() * n >> 64);
}

bool Generator::next(Event& ev) {
  if (m_done == m_spec.accesses + m_touch) return false;
  unsigned vcpu = unsigned(m_done % m_spec.vcpus);
  const std::uint64_t index = m_done / m_spec.vcpus;  // this vCPU's event number
  ++m_done;
  std::uint64_t base = m_spec.base_gva + vcpu * m_share;
  std::uint64_t offset = 0;
  switch (m_pattern) {
    case Pattern::Hot:
      offset = rand_below(m_hot_pages) * kPage + rand_below(kPage / 8) * 8;
      break;
    case Pattern::Random:
      offset = rand_below(m_share / 8) * 8;
      break;
    case Pattern::Stream:
      offset = m_stream_pos[vcpu];
      m_stream_pos[vcpu] = offset + 64 < m_share ? offset + 64 : 0;
      break;
    case Pattern::Chase: {
      // The touch pass (every page once, in order), then the chase. Each
      // vCPU's loads follow its own cycle; a blocking core makes every load
      // depend on the one before, as MLC's linked list does.
      const std::uint64_t pages = m_share / kPage;
      offset = index < pages ? index * kPage : permute((index - pages) % m_lines) * 64;
      break;
    }
  }
  // Drawn for every access, so the address sequence does not depend on it.
  bool write = double(rand64() >> 11) * 0x1.0p-53 < m_spec.write_fraction;
  ev = Event{};
  // A chase is loads only, as MLC's is (write_fraction does not apply).
  ev.op = write && m_pattern != Pattern::Chase ? Op::Write : Op::Read;
  ev.vcpu = std::uint16_t(vcpu);
  ev.size = 8;
  ev.addr = base + offset;
  return true;
}

void generate(const GenSpec& spec, Writer& out) {
  Generator gen(spec);
  Event ev;
  while (gen.next(ev)) out.write(ev);
}

std::unique_ptr<Reader> generator_reader(const GenSpec& spec) {
  return std::make_unique<GeneratorReader>(spec);
}

}  // namespace rmpsim::trace
