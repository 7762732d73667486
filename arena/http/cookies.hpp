// Reading a cookie from a request's Cookie header (the session and the
// page language both travel in one).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace huashan::arena::http {

// The value of cookie `name` in the headers' "cookie" (names lower-cased, as
// request::headers holds them); "" when it is absent.
std::string cookie_value(const std::map<std::string, std::string>& headers, std::string_view name);

}  // namespace huashan::arena::http
