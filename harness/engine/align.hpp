// Rounding sizes and offsets up to a multiple of an alignment.
#pragma once

#include <cstdint>

namespace huashan::engine {

// The smallest multiple of `alignment` (> 0) that is >= n.
constexpr std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

}  // namespace huashan::engine
