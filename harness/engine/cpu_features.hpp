// What the CPU can do, detected once at run time; kernels dispatch on it.
#pragma once

#include <string>

namespace huashan::engine {

struct cpu_features {
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  int logical_cores = 1;
};

// Detected features of the running CPU (cached after the first call).
const cpu_features& detect_cpu_features();
// "avx2 fma f16c ..." for the features present.
std::string describe(const cpu_features& features);

}  // namespace huashan::engine
