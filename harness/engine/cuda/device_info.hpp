// CUDA devices visible to this process. Plain types only: no CUDA headers here,
// so every layer can include it whether or not the CUDA backend was built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace huashan::engine::cuda {

struct device_info {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t total_memory_bytes = 0;
  int multiprocessors = 0;
};

struct device_report {
  bool built_with_cuda = false;
  std::vector<device_info> devices;
  // Why the list is empty: "built without CUDA", the driver's error text, ...
  std::string note;
};

// Queries the CUDA runtime; never throws (a missing driver is a note, not an error).
device_report query_devices();

}  // namespace huashan::engine::cuda
