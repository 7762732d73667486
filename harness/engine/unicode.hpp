// UTF-8 helpers for the tokenizers: strict sequence checks (no overlongs,
// surrogates or code points above U+10FFFF), the incomplete tail a streaming
// decoder must hold back, NFC through utf8proc, and GPT-2's reversible map
// from bytes to printable code points used by byte-level BPE vocabularies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace huashan::engine {

// Byte length of the valid UTF-8 sequence at the start of `s` (1..4), or 0
// when `s` is empty or does not start with a complete valid sequence.
std::size_t utf8_valid_prefix(std::string_view s);
// Same, and stores the decoded code point in `cp` when the length is not 0.
std::size_t utf8_decode(std::string_view s, char32_t& cp);
// True when every byte of `s` belongs to a complete valid sequence.
bool utf8_is_valid(std::string_view s);
// Bytes at the end of `s` that start a valid sequence which is not yet
// complete (0..3): the part a streaming decoder holds back.
std::size_t utf8_incomplete_tail(std::string_view s);
// `s` with each invalid byte replaced by U+FFFD (for output that must be UTF-8).
std::string utf8_sanitize(std::string_view s);
// Appends the UTF-8 encoding of `cp` (asserted to be a scalar value).
void utf8_append(std::string& out, char32_t cp);

// Unicode NFC of `s` (utf8proc). Invalid bytes are kept as they are and each
// valid run between them is normalised on its own. Never throws on content.
std::string nfc(std::string_view s);

// GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to
// U+0100 upwards (space -> "Ġ" U+0120). Returns the UTF-8 of the mapped code point.
std::string_view byte_to_unicode(std::uint8_t b);
// Inverse of byte_to_unicode for one code point; -1 when `cp` is not in the map.
int unicode_to_byte(char32_t cp);

}  // namespace huashan::engine
