// Plain reference kernels: dequantizers, quantizers and dot products for every
// supported type, written for clarity. The AVX2 kernels are tested against these.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "harness/engine/quants.hpp"
#include "harness/engine/quants_internal.hpp"

namespace huashan::engine {

namespace {

// Round half to even, as the SIMD quantizers do (_mm256_round_ps nearest).
int round_even(float v) { return static_cast<int>(std::nearbyint(v)); }

}  // namespace

// ---------------------------------------------------------------- q8_0

void quantize_q8_0(const float* x, block_q8_0* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk8_0; ++b, x += qk8_0) {
    float amax = 0.0f;
    for (int j = 0; j < qk8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    for (int j = 0; j < qk8_0; ++j) y[b].qs[j] = static_cast<std::int8_t>(round_even(x[j] * id));
  }
}

void dequantize_q8_0(const block_q8_0* x, float* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk8_0; ++b, y += qk8_0) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < qk8_0; ++j) y[j] = d * static_cast<float>(x[b].qs[j]);
  }
}

// ---------------------------------------------------------------- q4_0

void quantize_q4_0(const float* x, block_q4_0* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk4_0; ++b, x += qk4_0) {
    // The element of largest magnitude maps to q = 0 exactly (value -8*d), so
    // d takes its sign: the 16 levels -8..7 cover it without clipping.
    float amax = 0.0f;
    float vmax = 0.0f;
    for (int j = 0; j < qk4_0; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        vmax = x[j];
      }
    }
    const float d = vmax / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    for (int j = 0; j < qk4_0 / 2; ++j) {
      const int lo = std::clamp(round_even(x[j] * id) + 8, 0, 15);
      const int hi = std::clamp(round_even(x[j + qk4_0 / 2] * id) + 8, 0, 15);
      y[b].qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

void dequantize_q4_0(const block_q4_0* x, float* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk4_0; ++b, y += qk4_0) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < qk4_0 / 2; ++j) {
      y[j] = d * static_cast<float>((x[b].qs[j] & 0x0f) - 8);
      y[j + qk4_0 / 2] = d * static_cast<float>((x[b].qs[j] >> 4) - 8);
    }
  }
}

// ---------------------------------------------------------------- q4_k

void q4_k_scale_min(int j, const std::uint8_t* scales, int& sc, int& m) {
  if (j < 4) {
    sc = scales[j] & 63;
    m = scales[j + 4] & 63;
  } else {
    sc = (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4);
    m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

namespace {

// Fits x ≈ s*q - m with q in [0, 15], s >= 0, m >= 0 for one 32-element
// sub-block: start from the min/max range, then least-squares refits of (s, m)
// for the current assignment, keeping the best squared error.
void fit_q4_sub_block(const float* x, float& s_out, float& m_out) {
  float lo = 0.0f;
  float hi = x[0];
  for (int l = 0; l < 32; ++l) {
    lo = std::min(lo, x[l]);
    hi = std::max(hi, x[l]);
  }
  float s = (hi - lo) / 15.0f;
  float m = -lo;
  auto error_of = [x](float s_try, float m_try) {
    double e = 0.0;
    for (int l = 0; l < 32; ++l) {
      const int q = s_try > 0.0f ? std::clamp(round_even((x[l] + m_try) / s_try), 0, 15) : 0;
      const double diff = s_try * static_cast<float>(q) - m_try - x[l];
      e += diff * diff;
    }
    return e;
  };
  float best_s = s;
  float best_m = m;
  double best_e = error_of(s, m);
  for (int iter = 0; iter < 3 && s > 0.0f; ++iter) {
    // Least squares for x ≈ s*q - m over the current q.
    double sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int l = 0; l < 32; ++l) {
      const double q = std::clamp(round_even((x[l] + m) / s), 0, 15);
      sq += q;
      sqq += q * q;
      sx += x[l];
      sqx += q * x[l];
    }
    const double det = 32.0 * sqq - sq * sq;
    if (det <= 0.0) break;
    double s_new = (32.0 * sqx - sq * sx) / det;
    double m_new = (s_new * sq - sx) / 32.0;
    if (m_new < 0.0) {  // mins are stored unsigned: refit s with m = 0
      m_new = 0.0;
      s_new = sqq > 0.0 ? sqx / sqq : 0.0;
    }
    if (s_new <= 0.0) break;
    s = static_cast<float>(s_new);
    m = static_cast<float>(m_new);
    const double e = error_of(s, m);
    if (e < best_e) {
      best_e = e;
      best_s = s;
      best_m = m;
    }
  }
  s_out = best_s;
  m_out = best_m;
}

}  // namespace

void quantize_q4_k(const float* x, block_q4_k* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    float s[8];
    float m[8];
    float max_s = 0.0f;
    float max_m = 0.0f;
    for (int j = 0; j < 8; ++j) {
      fit_q4_sub_block(x + 32 * j, s[j], m[j]);
      max_s = std::max(max_s, s[j]);
      max_m = std::max(max_m, m[j]);
    }
    // 6-bit sub-block scales and mins relative to d and dmin. Scales round up
    // so the fitted range still fits in 15 steps (no clipping at the top).
    const float d = fp16_to_f32(f32_to_fp16(max_s / 63.0f));
    const float dmin = fp16_to_f32(f32_to_fp16(max_m / 63.0f));
    int ls[8];
    int lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = d > 0.0f ? std::clamp(static_cast<int>(std::ceil(s[j] / d - 1e-4f)), 0, 63) : 0;
      lm[j] = dmin > 0.0f ? std::clamp(round_even(m[j] / dmin), 0, 63) : 0;
    }
    block_q4_k& out = y[b];
    out.d = f32_to_fp16(max_s / 63.0f);
    out.dmin = f32_to_fp16(max_m / 63.0f);
    std::memset(out.scales, 0, sizeof(out.scales));
    for (int j = 0; j < 4; ++j) {
      out.scales[j] = static_cast<std::uint8_t>(ls[j] | ((ls[j + 4] >> 4) << 6));
      out.scales[j + 4] = static_cast<std::uint8_t>(lm[j] | ((lm[j + 4] >> 4) << 6));
      out.scales[j + 8] = static_cast<std::uint8_t>((ls[j + 4] & 0x0f) | ((lm[j + 4] & 0x0f) << 4));
    }
    // Final levels with the scales as stored.
    std::uint8_t q[qk_k];
    for (int j = 0; j < 8; ++j) {
      const float ds = d * static_cast<float>(ls[j]);
      const float dm = dmin * static_cast<float>(lm[j]);
      for (int l = 0; l < 32; ++l) {
        const float v = x[32 * j + l];
        q[32 * j + l] = static_cast<std::uint8_t>(ds > 0.0f ? std::clamp(round_even((v + dm) / ds), 0, 15) : 0);
      }
    }
    // Chunk c of 64 elements: byte l holds q[64c + l] (low) and q[64c + 32 + l] (high).
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        out.qs[32 * c + l] = static_cast<std::uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void dequantize_q4_k(const block_q4_k* x, float* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk_k; ++b) {
    const float d = fp16_to_f32(x[b].d);
    const float dmin = fp16_to_f32(x[b].dmin);
    const std::uint8_t* q = x[b].qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      int sc0, m0, sc1, m1;
      q4_k_scale_min(2 * c, x[b].scales, sc0, m0);
      q4_k_scale_min(2 * c + 1, x[b].scales, sc1, m1);
      const float d0 = d * static_cast<float>(sc0), mm0 = dmin * static_cast<float>(m0);
      const float d1 = d * static_cast<float>(sc1), mm1 = dmin * static_cast<float>(m1);
      for (int l = 0; l < 32; ++l) *y++ = d0 * static_cast<float>(q[l] & 0x0f) - mm0;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] >> 4) - mm1;
    }
  }
}

// ---------------------------------------------------------------- q6_k

void quantize_q6_k(const float* x, block_q6_k* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    // Per 16 elements a signed scale s with the largest-magnitude value at q = -32.
    float s[16];
    float s_big = 0.0f;
    for (int j = 0; j < 16; ++j) {
      float amax = 0.0f;
      float vmax = 0.0f;
      for (int l = 0; l < 16; ++l) {
        const float v = x[16 * j + l];
        if (std::fabs(v) > amax) {
          amax = std::fabs(v);
          vmax = v;
        }
      }
      s[j] = vmax / -32.0f;
      if (std::fabs(s[j]) > std::fabs(s_big)) s_big = s[j];
    }
    block_q6_k& out = y[b];
    // int8 scales relative to d; the largest maps to -128. Magnitudes round up
    // so no value clips at the far end.
    const float d_raw = s_big / -128.0f;
    out.d = f32_to_fp16(d_raw);
    const float d = fp16_to_f32(out.d);
    std::int8_t q[qk_k];
    for (int j = 0; j < 16; ++j) {
      int sc = 0;
      if (d != 0.0f) {
        const float r = s[j] / d;
        sc = static_cast<int>(r < 0.0f ? -std::ceil(-r - 1e-4f) : std::ceil(r - 1e-4f));
        sc = std::clamp(sc, -128, 127);
      }
      out.scales[j] = static_cast<std::int8_t>(sc);
      const float ds = d * static_cast<float>(sc);
      for (int l = 0; l < 16; ++l) {
        const float v = x[16 * j + l];
        q[16 * j + l] = static_cast<std::int8_t>(ds != 0.0f ? std::clamp(round_even(v / ds), -32, 31) : 0);
      }
    }
    // Half h of 128 elements: ql[64h + l] low nibbles of q[128h + l] and q[128h + 64 + l];
    // ql[64h + 32 + l] of q[128h + 32 + l] and q[128h + 96 + l]; qh[32h + l] the top 2 bits of the four.
    for (int h = 0; h < 2; ++h) {
      std::uint8_t* ql = out.ql + 64 * h;
      std::uint8_t* qh = out.qh + 32 * h;
      const std::int8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = qq[l] + 32, q2 = qq[l + 32] + 32, q3 = qq[l + 64] + 32, q4 = qq[l + 96] + 32;
        ql[l] = static_cast<std::uint8_t>((q1 & 0x0f) | ((q3 & 0x0f) << 4));
        ql[l + 32] = static_cast<std::uint8_t>((q2 & 0x0f) | ((q4 & 0x0f) << 4));
        qh[l] = static_cast<std::uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

void q6_k_unpack(const block_q6_k& x, std::int8_t* q) {
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* ql = x.ql + 64 * h;
    const std::uint8_t* qh = x.qh + 32 * h;
    std::int8_t* qq = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      qq[l] = static_cast<std::int8_t>(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
      qq[l + 32] = static_cast<std::int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
      qq[l + 64] = static_cast<std::int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      qq[l + 96] = static_cast<std::int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

void dequantize_q6_k(const block_q6_k* x, float* y, std::int64_t n) {
  std::int8_t q[qk_k];
  for (std::int64_t b = 0; b < n / qk_k; ++b, y += qk_k) {
    const float d = fp16_to_f32(x[b].d);
    q6_k_unpack(x[b], q);
    for (int l = 0; l < qk_k; ++l) y[l] = d * static_cast<float>(x[b].scales[l / 16]) * static_cast<float>(q[l]);
  }
}

// ---------------------------------------------------------------- q8_k

void quantize_q8_k(const float* x, block_q8_k* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    float amax = 0.0f;
    for (int j = 0; j < qk_k; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = amax / 127.0f;
    for (int j = 0; j < qk_k; ++j) y[b].qs[j] = static_cast<std::int8_t>(round_even(x[j] * id));
    for (int g = 0; g < qk_k / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[b].qs[16 * g + l];
      y[b].bsums[g] = static_cast<std::int16_t>(sum);
    }
  }
}

void dequantize_q8_k(const block_q8_k* x, float* y, std::int64_t n) {
  for (std::int64_t b = 0; b < n / qk_k; ++b, y += qk_k) {
    for (int j = 0; j < qk_k; ++j) y[j] = x[b].d * static_cast<float>(x[b].qs[j]);
  }
}

// ---------------------------------------------------------------- dot products

namespace scalar {

float dot_f32(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

float dot_f32_prompt(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  float lane[8] = {};
  for (std::int64_t i = 0; i < n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] = std::fma(a[i + l], b[i + l], lane[l]);
  return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

float dot_f16(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const std::uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i])) * b[i];
  return static_cast<float>(sum);
}

float dot_bf16(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const std::uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_f32(a[i])) * b[i];
  return static_cast<float>(sum);
}

float dot_q8_0(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q8_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  float sum = 0.0f;
  for (std::int64_t k = 0; k < n / qk8_0; ++k) {
    int sumi = 0;
    for (int j = 0; j < qk8_0; ++j) sumi += a[k].qs[j] * b[k].qs[j];
    sum += fp16_to_f32(a[k].d) * fp16_to_f32(b[k].d) * static_cast<float>(sumi);
  }
  return sum;
}

float dot_q4_0(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q4_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  float sum = 0.0f;
  for (std::int64_t k = 0; k < n / qk4_0; ++k) {
    int sumi = 0;
    for (int j = 0; j < qk4_0 / 2; ++j) {
      sumi += ((a[k].qs[j] & 0x0f) - 8) * b[k].qs[j];
      sumi += ((a[k].qs[j] >> 4) - 8) * b[k].qs[j + qk4_0 / 2];
    }
    sum += fp16_to_f32(a[k].d) * fp16_to_f32(b[k].d) * static_cast<float>(sumi);
  }
  return sum;
}

float dot_q4_k(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q4_k*>(w);
  const auto* b = static_cast<const block_q8_k*>(x);
  float sum = 0.0f;
  for (std::int64_t k = 0; k < n / qk_k; ++k) {
    // Σ_j sc_j Σ_l q·y  -  (dmin/d)·Σ_j m_j Σ_l y, with Σ_l y from bsums.
    int sumi = 0;
    int summ = 0;
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      q4_k_scale_min(j, a[k].scales, sc, m);
      const std::uint8_t* q = a[k].qs + 32 * (j / 2);
      const int shift = (j % 2) * 4;
      int dot = 0;
      for (int l = 0; l < 32; ++l) dot += ((q[l] >> shift) & 0x0f) * b[k].qs[32 * j + l];
      sumi += sc * dot;
      summ += m * (b[k].bsums[2 * j] + b[k].bsums[2 * j + 1]);
    }
    sum += b[k].d * (fp16_to_f32(a[k].d) * static_cast<float>(sumi) - fp16_to_f32(a[k].dmin) * static_cast<float>(summ));
  }
  return sum;
}

float dot_q6_k(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q6_k*>(w);
  const auto* b = static_cast<const block_q8_k*>(x);
  float sum = 0.0f;
  std::int8_t q[qk_k];
  for (std::int64_t k = 0; k < n / qk_k; ++k) {
    q6_k_unpack(a[k], q);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      int dot = 0;
      for (int l = 0; l < 16; ++l) dot += q[16 * j + l] * b[k].qs[16 * j + l];
      sumi += a[k].scales[j] * dot;
    }
    sum += fp16_to_f32(a[k].d) * b[k].d * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace scalar

}  // namespace huashan::engine
