#include "arena/http/cookies.hpp"

namespace huashan::arena::http {

std::string cookie_value(const std::map<std::string, std::string>& headers, std::string_view name) {
  const auto it = headers.find("cookie");
  if (it == headers.end()) return {};
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace huashan::arena::http
