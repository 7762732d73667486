// Device query through the CUDA runtime. Compiled only when the CUDA backend is
// built; device_info_none.cpp answers otherwise.
#include <cuda_runtime.h>

#include "harness/engine/cuda/device_info.hpp"

namespace huashan::engine::cuda {

device_report query_devices() {
  device_report report;
  report.built_with_cuda = true;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    report.note = cudaGetErrorString(status);
    return report;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    device_info info;
    info.index = i;
    info.name = prop.name;
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.total_memory_bytes = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    report.devices.push_back(std::move(info));
  }
  if (report.devices.empty()) report.note = "no CUDA device found";
  return report;
}

}  // namespace huashan::engine::cuda
