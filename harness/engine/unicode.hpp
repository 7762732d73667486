// Unicode for the tokenizers: NFC through utf8proc and GPT-2's reversible map
// from bytes to printable code points used by byte-level BPE vocabularies,
// beside the UTF-8 sequence checks of common/utf8.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.hpp"

namespace huashan::engine {

// The UTF-8 checks live in common/utf8.hpp (the arena needs them too); the
// engine keeps its names for them.
using huashan::utf8_append;
using huashan::utf8_decode;
using huashan::utf8_incomplete_tail;
using huashan::utf8_is_valid;
using huashan::utf8_sanitize;
using huashan::utf8_valid_prefix;

// Unicode NFC of `s` (utf8proc). Invalid bytes are kept as they are and each
// valid run between them is normalised on its own. Never throws on content.
std::string nfc(std::string_view s);

// GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to
// U+0100 upwards (space -> "Ġ" U+0120). Returns the UTF-8 of the mapped code point.
std::string_view byte_to_unicode(std::uint8_t b);
// Inverse of byte_to_unicode for one code point; -1 when `cp` is not in the map.
int unicode_to_byte(char32_t cp);

}  // namespace huashan::engine
