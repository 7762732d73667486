// attention.hpp's functions: which kernel runs for a cache type, head size and
// CPU. The reference is in attention_scalar.cpp, the kernels in
// attention_avx2.cpp and attention_avx512.cpp; every one gives the reference's
// bits for the F16 cache, so the choice changes speed, never results.
#include "harness/engine/attention.hpp"

#include <algorithm>
#include <cstddef>

#include "harness/engine/attention_internal.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/quants_internal.hpp"

namespace huashan::engine {

namespace {

// The best kernels this CPU and build have, within the tests' cap (kernel_isa_limit).
kernel_isa usable_isa() {
  static const kernel_isa detected = [] {
    const auto& f = detect_cpu_features();
    if (!(avx2::attention_compiled() && f.avx2 && f.fma && f.f16c)) return kernel_isa::scalar;
    if (avx512::attention_compiled() && f.avx512f && f.avx512vl && f.avx512bw && f.avx512dq) return kernel_isa::avx512;
    return kernel_isa::avx2;
  }();
  return std::min(detected, kernel_isa_limit());
}

bool runs_lanes(kernel_isa isa, const kv_cache& cache, std::int32_t head_dim_k, std::int32_t head_dim_v) {
  return isa >= kernel_isa::avx512 && cache.config().type == kv_type::f16 &&
         avx512::has_lanes_kernel(head_dim_k, head_dim_v);
}

}  // namespace

void attend(const attention_args& a, const float* q, float* scores, float* out) {
  const kernel_isa isa = usable_isa();
  // Heads shorter than 32 (the F16 dot's step) go through the fused pass, which
  // keeps up to 24 values in registers; longer values with such short keys
  // (no model we know) take the scalar code.
  const bool short_keys_long_values = a.head_dim_k < half_dot_step && a.head_dim_v > 24;
  if (isa >= kernel_isa::avx2 && a.cache->config().type == kv_type::f16 && a.head_dim_k % 8 == 0 &&
      a.head_dim_v % 8 == 0 && !short_keys_long_values) {
    avx2::attend_f16(a, q, scores, out, isa >= kernel_isa::avx512);
    return;
  }
  attend_reference(a, q, scores, out);
}

void attend_group(const attention_args& a, const float* q, std::int32_t n_q, float* scores, float* out) {
  std::int32_t h = 0;
  if (usable_isa() >= kernel_isa::avx512 && a.cache->config().type == kv_type::f16) {
    for (; h + 2 <= n_q; h += 2) {
      if (!avx512::attend_pair_f16(a, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scores,
                                   out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v))
        break;
    }
  }
  for (; h < n_q; ++h)
    attend(a, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scores, out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v);
}

std::int32_t attend_heads_span(const kv_cache& cache, std::int32_t head_dim_k, std::int32_t head_dim_v,
                               std::int32_t n_kv_heads) {
  return runs_lanes(usable_isa(), cache, head_dim_k, head_dim_v) ? n_kv_heads : 1;
}

void attend_heads(const attention_args& a, std::int32_t n_kv_heads, std::int32_t group, const float* q,
                  std::vector<float>& scratch, float* out) {
  const auto scratch_floats = static_cast<std::size_t>(a.n_kv) * 10;  // 8 weights and the raised flags per key
  if (scratch.size() < scratch_floats) scratch.resize(scratch_floats);
  if (runs_lanes(usable_isa(), *a.cache, a.head_dim_k, a.head_dim_v)) {
    avx512::attend_heads_lanes(a, n_kv_heads, group, q, scratch.data(), out);
    return;
  }
  attention_args one = a;
  for (std::int32_t g = 0; g < n_kv_heads; ++g) {
    one.kv_head = a.kv_head + g;
    attend_group(one, q + static_cast<std::ptrdiff_t>(g) * group * a.head_dim_k, group, scratch.data(),
                 out + static_cast<std::ptrdiff_t>(g) * group * a.head_dim_v);
  }
}

}  // namespace huashan::engine
