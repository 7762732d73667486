// UTF-8 shared by the layers: strict sequence checks (no overlongs, surrogates
// or code points above U+10FFFF), the incomplete tail a streaming decoder must
// hold back, and repair of text that must be UTF-8 (JSON, PostgreSQL) when a
// model emitted invalid bytes. No allocation beyond the returned strings; never
// throws on content.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace huashan {

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

}  // namespace huashan
