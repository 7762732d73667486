// Small JSON helpers for handlers whose headers must stay free of Boost.JSON.
#pragma once

#include <string>
#include <string_view>

namespace huashan::arena::http {

// `text` as a JSON string literal, quotes included; bytes that are not UTF-8
// become U+FFFD.
std::string json_quote(std::string_view text);

}  // namespace huashan::arena::http
