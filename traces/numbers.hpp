#pragma once
// Number scanning and printing for the text forms, written for the hot loop:
// no locale, no allocation, no exceptions. Input lines always end in '\n'
// (LineBuffer guarantees it), which serves as the sentinel that stops every
// scan, so there are no bounds checks.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rmpsim::trace::text {

// Field separators: runs of spaces/tabs; '\r' and '\n' end a token too so that
// CRLF files parse.
struct CharTables {
  bool sep[256] = {};
  std::uint8_t hex[256] = {};  // digit value, or 0xff
  constexpr CharTables() {
    sep[int(' ')] = sep[int('\t')] = sep[int('\r')] = sep[int('\n')] = true;
    for (int i = 0; i < 256; ++i) hex[i] = 0xff;
    for (int i = 0; i < 10; ++i) hex['0' + i] = std::uint8_t(i);
    for (int i = 0; i < 6; ++i) hex['a' + i] = hex['A' + i] = std::uint8_t(10 + i);
  }
};
inline constexpr CharTables kChars{};

inline bool is_sep(char c) { return kChars.sep[static_cast<unsigned char>(c)]; }
inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
inline const char* skip_blanks(const char* p) {
  while (is_blank(*p)) ++p;
  return p;
}
inline const char* token_end(const char* p) {
  while (!is_sep(*p)) ++p;
  return p;
}
// The token that starts at `p`.
inline std::string_view token(const char* p) { return {p, std::size_t(token_end(p) - p)}; }

enum class NumStatus : std::uint8_t { Ok, Bad, Overflow };

// Hex digits from p without a prefix; stops at the first non-digit. Leading
// zeros are fine; more than 64 significant bits is an overflow.
inline NumStatus scan_hex_digits(const char*& p, std::uint64_t& out) {
  const char* s = p;
  std::uint64_t v = 0;
  for (;;) {
    std::uint8_t d = kChars.hex[static_cast<unsigned char>(*s)];
    if (d > 15) break;
    if (v >> 60) return NumStatus::Overflow;
    v = (v << 4) | d;
    ++s;
  }
  if (s == p) return NumStatus::Bad;
  p = s;
  out = v;
  return NumStatus::Ok;
}

// Up to 16 hex digits at once, for the hot loop. Needs 16 readable bytes
// at p (LineBuffer::kPadding) whatever the line holds. Falls back to
// scan_hex_digits() for 16+ digit runs (leading zeros, overflow).
inline std::uint64_t swar_hex8(std::uint64_t chunk) {
  // ASCII to nibble: '0'-'9' keep their low nibble, letters (bit 6 set) add 9.
  std::uint64_t nib = (chunk & 0x0f0f0f0f0f0f0f0full) + ((chunk >> 6) & 0x0101010101010101ull) * 9;
  // The first character is the lowest byte and the most significant digit.
  nib = ((nib << 4) | (nib >> 8)) & 0x00ff00ff00ff00ffull;
  nib = ((nib << 8) | (nib >> 16)) & 0x0000ffff0000ffffull;
  return ((nib << 16) | (nib >> 32)) & 0xffffffffull;
}

__attribute__((always_inline)) inline NumStatus scan_hex_digits_fast(const char*& p,
                                                                     std::uint64_t& out) {
#if defined(__SSE2__)
  __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i lower = _mm_or_si128(c, _mm_set1_epi8(0x20));
  __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                                _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
  __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                _mm_cmplt_epi8(lower, _mm_set1_epi8('f' + 1)));
  unsigned mask = unsigned(_mm_movemask_epi8(_mm_or_si128(digit, alpha)));
  unsigned k = unsigned(__builtin_ctz(~mask));  // leading hex digits, 0..16
  if (k == 0) return NumStatus::Bad;
  if (k == 16) return scan_hex_digits(p, out);
  std::uint64_t lo, hi;
  if (k <= 8) {
    std::memcpy(&lo, p, 8);
    out = swar_hex8(lo << (8 * (8 - k)));  // drop what follows, pad with leading zeros
  } else {
    std::memcpy(&hi, p, 8);
    std::memcpy(&lo, p + k - 8, 8);
    out = (swar_hex8(hi << (8 * (16 - k))) << 32) | swar_hex8(lo);
  }
  p += k;
  return NumStatus::Ok;
#else
  return scan_hex_digits(p, out);
#endif
}

// Decimal or 0x hex digits from p, without looking at what follows them
// (PSC entries continue with ":2m"). On success p is left after the digits.
inline NumStatus scan_number_prefix(const char*& p, std::uint64_t& out) {
  const char* s = p;
  std::uint64_t v = 0;
  if (s[0] == '0' && (s[1] | 0x20) == 'x') {
    s += 2;
    NumStatus st = scan_hex_digits_fast(s, v);
    if (st != NumStatus::Ok) return st;
  } else {
    const char* d = s;
    for (;;) {
      unsigned digit = unsigned(static_cast<unsigned char>(*s)) - '0';
      if (digit > 9) break;
      // UINT64_MAX = 18446744073709551615
      if (v > 1844674407370955161ull || (v == 1844674407370955161ull && digit > 5))
        return NumStatus::Overflow;
      v = v * 10 + digit;
      ++s;
    }
    if (s == d) return NumStatus::Bad;
  }
  p = s;
  out = v;
  return NumStatus::Ok;
}

// A whole token: decimal or 0x hex, followed by a separator. On success p is
// left at that separator.
inline NumStatus scan_number(const char*& p, std::uint64_t& out) {
  const char* s = p;
  std::uint64_t v;
  NumStatus st = scan_number_prefix(s, v);
  if (st != NumStatus::Ok) return st;
  if (!is_sep(*s)) return NumStatus::Bad;
  p = s;
  out = v;
  return NumStatus::Ok;
}

// The token at p for an error message: cut at a separator, at most 40
// characters, non-printable bytes shown as \xNN.
std::string show_token(const char* p);
// A whole line (up to '\n') for an error message, same rules, 60 characters.
std::string show_line(const char* p);
// A piece of a token for an error message, same rules as show_token().
std::string show_text(std::string_view text);

// Printing. Each returns the end of what it wrote; callers keep >= 24 bytes
// of room per number.
inline char* put_dec(char* out, std::uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *out++ = tmp[--n];
  return out;
}

inline char* put_hex(char* out, std::uint64_t v) {  // "0x" + lowercase digits
  static constexpr char kDigits[] = "0123456789abcdef";
  *out++ = '0';
  *out++ = 'x';
  int digits = v ? (64 - __builtin_clzll(v) + 3) / 4 : 1;
  for (int i = digits - 1; i >= 0; --i) out[i] = kDigits[v & 0xf], v >>= 4;
  return out + digits;
}

inline char* put_str(char* out, std::string_view s) {
  for (char c : s) *out++ = c;
  return out;
}

}  // namespace rmpsim::trace::text
