// Fuzzes request-target parsing: any bytes must parse without a crash, and a
// decoded path can never be longer than the target it came from.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arena/http/target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto parsed = huashan::arena::http::parse_target(target);
  if (parsed.path.size() > size) std::abort();
  for (const auto& [key, value] : parsed.query)
    if (key.size() + value.size() > size) std::abort();
  return 0;
}
