// NFC and the GPT-2 byte map (see unicode.hpp); the UTF-8 checks are common/utf8.cpp.
#include "harness/engine/unicode.hpp"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace huashan::engine {

namespace {

// byte -> code point and code point -> byte tables of GPT-2's bytes_to_unicode.
struct byte_map {
  std::array<std::string, 256> to_utf8;
  std::array<std::int16_t, 512> from_cp{};  // every mapped code point is < U+0144

  byte_map() {
    from_cp.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      // Printable Latin-1 bytes keep their code point; the others are
      // numbered from U+0100 in byte order, so every byte gets a visible char.
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
      utf8_append(to_utf8[static_cast<std::size_t>(b)], cp);
      from_cp[cp] = static_cast<std::int16_t>(b);
    }
  }
};

const byte_map& the_byte_map() {
  static const byte_map map;
  return map;
}

void nfc_valid_run(std::string_view run, std::string& out) {
  bool ascii = true;
  for (const char c : run) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii || run.empty()) {
    out.append(run);
    return;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                   static_cast<utf8proc_ssize_t>(run.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    // Only allocation failure is possible for a valid run; keep the text as is.
    out.append(run);
    return;
  }
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
  out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
}

}  // namespace

std::string nfc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t run_start = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8_valid_prefix(s.substr(i));
    if (n != 0) {
      i += n;
      continue;
    }
    nfc_valid_run(s.substr(run_start, i - run_start), out);
    out.push_back(s[i]);
    ++i;
    run_start = i;
  }
  nfc_valid_run(s.substr(run_start), out);
  return out;
}

std::string_view byte_to_unicode(std::uint8_t b) { return the_byte_map().to_utf8[b]; }

int unicode_to_byte(char32_t cp) {
  const byte_map& map = the_byte_map();
  if (cp >= map.from_cp.size()) return -1;
  return map.from_cp[cp];
}

}  // namespace huashan::engine
