#include "traces/numbers.hpp"

#include <cstdio>

namespace rmpsim::trace::text {
namespace {

void put_shown(std::string& out, unsigned char c) {
  if (c >= 0x20 && c < 0x7f) {
    out += char(c);
  } else {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
}

std::string show(const char* p, std::size_t limit, bool stop_at_sep) {
  std::string out;
  std::size_t n = 0;
  for (; *p != '\n' && !(stop_at_sep && is_sep(*p)); ++p, ++n) {
    if (n == limit) {
      out += "...";
      break;
    }
    put_shown(out, static_cast<unsigned char>(*p));
  }
  return out;
}

}  // namespace

std::string show_token(const char* p) { return show(p, 40, true); }
std::string show_line(const char* p) { return show(p, 60, false); }

std::string show_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 40) return out + "...";
    put_shown(out, static_cast<unsigned char>(text[i]));
  }
  return out;
}

}  // namespace rmpsim::trace::text
