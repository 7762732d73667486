#include "arena/http/origin.hpp"

#include <algorithm>
#include <cctype>

namespace huashan::arena::http {
namespace {

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool origin_allowed(const std::optional<std::string>& origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
  if (!origin) return true;
  if (same_text(*origin, "null")) return false;
  if (!allowed.empty())
    return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return same_text(*origin, a); });
  if (host.empty()) return false;
  for (const std::string_view scheme : {"http://", "https://"})
    if (origin->size() == scheme.size() + host.size() && same_text(std::string_view(*origin).substr(0, scheme.size()), scheme) &&
        same_text(std::string_view(*origin).substr(scheme.size()), host))
      return true;
  return false;
}

std::optional<std::string> origin_problem(std::string_view origin) {
  const auto colon = origin.find("://");
  if (colon == std::string_view::npos) return "it has no scheme (expected e.g. https://arena.example.org)";
  const auto scheme = origin.substr(0, colon);
  if (!same_text(scheme, "http") && !same_text(scheme, "https")) return "its scheme is not http or https";
  const auto rest = origin.substr(colon + 3);
  if (rest.empty()) return "it has no host";
  if (rest.find_first_of("/?#") != std::string_view::npos) return "an origin has no path, query or fragment";
  if (rest.find_first_of(" \t@") != std::string_view::npos) return "its host has a space or '@'";
  return std::nullopt;
}

}  // namespace huashan::arena::http
