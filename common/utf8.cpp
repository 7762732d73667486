// UTF-8 checks and repair (see utf8.hpp).
#include "common/utf8.hpp"

#include <cassert>

namespace huashan {
namespace {

// Bounds of the second byte for a lead byte (RFC 3629 table): they exclude
// overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and > U+10FFFF (F4 90..).
struct lead_info {
  std::size_t length;  // 0 = not a valid lead byte
  unsigned char second_lo;
  unsigned char second_hi;
};

lead_info classify_lead(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation byte or overlong 2-byte lead
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::size_t utf8_decode(std::string_view s, char32_t& cp) {
  if (s.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  const lead_info lead = classify_lead(b0);
  if (lead.length == 0 || s.size() < lead.length) return 0;
  if (lead.length == 1) {
    cp = b0;
    return 1;
  }
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lead.second_lo || b1 > lead.second_hi) return 0;
  char32_t value = b0 & (0x7F >> lead.length);
  for (std::size_t i = 1; i < lead.length; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (!is_continuation(b)) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  cp = value;
  return lead.length;
}

std::size_t utf8_valid_prefix(std::string_view s) {
  char32_t cp = 0;
  return utf8_decode(s, cp);
}

bool utf8_is_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8_valid_prefix(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::size_t utf8_incomplete_tail(std::string_view s) {
  // A held-back tail is at most 3 bytes: a lead byte and fewer continuation
  // bytes than it announces, each within the bounds a valid sequence allows.
  const std::size_t max_back = s.size() < 3 ? s.size() : 3;
  for (std::size_t back = 1; back <= max_back; ++back) {
    const std::size_t start = s.size() - back;
    const auto b0 = static_cast<unsigned char>(s[start]);
    if (is_continuation(b0)) continue;
    const lead_info lead = classify_lead(b0);
    if (lead.length <= back) return 0;  // ASCII, invalid lead, or already complete
    if (back >= 2) {
      const auto b1 = static_cast<unsigned char>(s[start + 1]);
      if (b1 < lead.second_lo || b1 > lead.second_hi) return 0;
      for (std::size_t i = 2; i < back; ++i) {
        if (!is_continuation(static_cast<unsigned char>(s[start + i]))) return 0;
      }
    }
    return back;
  }
  return 0;
}

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8_valid_prefix(s.substr(i));
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  assert(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace huashan
