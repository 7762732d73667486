#include "harness/jinja/text.hpp"

namespace huashan::harness::jinja {

namespace {

bool is_space_code(unsigned cp) {
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f)) return true;
  if (cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a)) return true;
  return cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

}  // namespace

std::size_t space_at(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return is_space_code(c) ? 1 : 0;
  if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
    unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
    return is_space_code(cp) ? 2 : 0;
  }
  if ((c & 0xf0) == 0xe0 && i + 2 < s.size()) {
    unsigned cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
                  (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
    return is_space_code(cp) ? 3 : 0;
  }
  return 0;
}

std::size_t space_before(std::string_view s, std::size_t end) {
  for (std::size_t n = 1; n <= 3 && n <= end; ++n) {
    auto c = static_cast<unsigned char>(s[end - n]);
    bool lead = c < 0x80 || (c & 0xc0) == 0xc0;
    if (!lead) continue;
    return space_at(s, end - n) == n ? n : 0;
  }
  return 0;
}

std::string_view strip_left(std::string_view s) {
  std::size_t i = 0;
  while (std::size_t n = space_at(s, i)) i += n;
  return s.substr(i);
}

std::string_view strip_right(std::string_view s) {
  std::size_t end = s.size();
  while (std::size_t n = space_before(s, end)) end -= n;
  return s.substr(0, end);
}

}  // namespace huashan::harness::jinja
