#pragma once
// n % d without a division instruction, for a divisor fixed at set-up (the
// DRAM channel count on every line-cache miss).
//
// With m = ceil(2^64 / d), the high half of n * m is n / d for every n below
// 2^(64 - ceil(log2 d)) (Granlund & Montgomery, "Division by invariant
// integers using multiplication", 1994). Divisors up to kMaxFast = 1024 take
// the multiply for n below 2^54; anything else falls back to `%`.
#include <cstdint>

namespace rmpsim {

class Divisor {
 public:
  static constexpr std::uint64_t kMaxFast = 1024;

  explicit Divisor(std::uint64_t d)
      : m_d(d), m_magic(d > 1 && d <= kMaxFast ? ~0ull / d + 1 : 0) {}

  std::uint64_t mod(std::uint64_t n) const {
    if (__builtin_expect(m_magic == 0 || (n >> 54) != 0, 0)) return n % m_d;
    const std::uint64_t q =
        static_cast<std::uint64_t>((static_cast<unsigned __int128>(n) * m_magic) >> 64);
    return n - q * m_d;
  }

 private:
  std::uint64_t m_d;
  std::uint64_t m_magic;  // ceil(2^64 / d); 0: use `%`
};

}  // namespace rmpsim
