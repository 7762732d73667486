// The answer of a build without the CUDA backend.
#include "harness/engine/cuda/device_info.hpp"

namespace huashan::engine::cuda {

device_report query_devices() {
  device_report report;
  report.note = "built without CUDA (HUASHAN_CUDA=OFF or no nvcc at configure time)";
  return report;
}

}  // namespace huashan::engine::cuda
