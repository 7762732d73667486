// Request-target parsing: path and query, percent-decoded.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace huashan::arena::http {

struct parsed_target {
  std::string path;                          // percent-decoded, without the query
  std::map<std::string, std::string> query;  // '+' is a space in keys and values; last repeat wins
};

// Splits "/a%20b?x=1&y" into {"/a b", {x:"1", y:""}}. Malformed escapes stay literal;
// never throws.
parsed_target parse_target(std::string_view target);

// Decodes %XX (and '+' as a space when `plus_is_space`); malformed escapes stay literal.
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace huashan::arena::http
