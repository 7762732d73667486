// Text into HTML and URLs: every value a page shows from data passes through
// these (model names, categories and model output are untrusted).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace huashan::arena::http {

// Escapes & < > " ' so the text is safe in element content and quoted attributes.
std::string html_escape(std::string_view text);
// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view text);
// "?a=1&b=x%20y" from the pairs with a non-empty value ("" when none).
std::string query_string(const std::map<std::string, std::string>& params);

}  // namespace huashan::arena::http
