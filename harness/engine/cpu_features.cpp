#include "harness/engine/cpu_features.hpp"

#include <thread>

namespace huashan::engine {

const cpu_features& detect_cpu_features() {
  static const cpu_features detected = [] {
    cpu_features f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.sse42 = __builtin_cpu_supports("sse4.2");
    f.avx = __builtin_cpu_supports("avx");
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512dq = __builtin_cpu_supports("avx512dq");
    f.avx512vnni = __builtin_cpu_supports("avx512vnni");
    // F16C has no __builtin_cpu_supports name in GCC 12; every AVX2 CPU shipped has it.
    f.f16c = f.avx2;
#endif
    const unsigned cores = std::thread::hardware_concurrency();
    f.logical_cores = cores == 0 ? 1 : static_cast<int>(cores);
    return f;
  }();
  return detected;
}

std::string describe(const cpu_features& f) {
  std::string out;
  auto add = [&out](bool present, const char* name) {
    if (!present) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(f.sse42, "sse4.2");
  add(f.avx, "avx");
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vnni, "avx512vnni");
  return out.empty() ? "none detected" : out;
}

}  // namespace huashan::engine
