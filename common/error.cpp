#include "common/error.hpp"

namespace huashan {

std::string first_line(const std::string& message) {
  const auto end = message.find('\n');
  std::string line = message.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  return line;
}

}  // namespace huashan
