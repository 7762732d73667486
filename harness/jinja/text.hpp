// Python's notion of whitespace (str.isspace: ASCII blanks, \x1c-\x1f and the
// Unicode spaces) over UTF-8, for strip(), split() and the lexer's \s.
#pragma once

#include <cstddef>
#include <string_view>

namespace huashan::harness::jinja {

// Length in bytes of the whitespace character starting at s[i], 0 if none.
std::size_t space_at(std::string_view s, std::size_t i);
// Length in bytes of the whitespace character ending at s[end - 1], 0 if none.
std::size_t space_before(std::string_view s, std::size_t end);

std::string_view strip_left(std::string_view s);
std::string_view strip_right(std::string_view s);

}  // namespace huashan::harness::jinja
