#include <doctest/doctest.h>

#include "harness/engine/cpu_features.hpp"
#include "harness/engine/cuda/device_info.hpp"

using namespace huashan::engine;

TEST_CASE("cpu features are self-consistent") {
  const auto& f = detect_cpu_features();
  CHECK(f.logical_cores >= 1);
  if (f.avx2) CHECK(f.avx);
  if (f.avx512bw) CHECK(f.avx512f);
  CHECK_FALSE(describe(f).empty());
  CHECK(&detect_cpu_features() == &f);
}

TEST_CASE("the CUDA device query never throws and explains an empty list") {
  const auto report = cuda::query_devices();
  if (report.devices.empty()) CHECK_FALSE(report.note.empty());
#ifdef HUASHAN_HAVE_CUDA
  CHECK(report.built_with_cuda);
#else
  CHECK_FALSE(report.built_with_cuda);
#endif
}
