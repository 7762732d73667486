// One table: every engine op x every instruction-set variant the engine has for
// it x several shapes (odd and tail sizes included), each variant's result
// against the op's scalar reference with the op's stated tolerance, in the
// spirit of llama.cpp's tests/test-backend-ops.cpp. A variant runs through the
// ordinary dispatch under limit_kernel_isa (quants_internal.hpp), as it would
// on a CPU with no more than that; variants this CPU lacks are skipped with a
// message. An op with a single implementation is still listed, with the
// variants it has.
//
// Tolerances (per element; "same bits" compares the bit patterns):
//   dot TYPE                 vs the scalar kernel: 1e-5 · Σ|w_i x_i| (float
//                            summation order only; integer block sums are exact)
//   dot f32, prompt order    vs scalar::dot_f32_prompt: same bits
//   matmul TYPE              vs matmul_reference (dequantize, double):
//                            1e-5 · Σ|w_i x_i| + Σ|w_i|·|x_i - x̂_i|, x̂ the
//                            activations as the kernels see them (q8_0/q8_k
//                            for the quantized types: their rounding; x for
//                            f32/f16/bf16)
//   matmul TYPE, kernels     vs the scalar kernels' matmul (the same quantized
//                            activations): 1e-5 · Σ|w_i x_i|
//   attention (F16 and F32)  vs attend_reference: same bits
//   rms_norm_rows            vs rms_norm row by row: same bits
//   rope_apply               vs the rotation in double: 2^-22 · (|a·c| + |b·s|);
//                            elements past n_rot unchanged
//   swiglu                   vs swiglu_reference: same bits
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../engine_gguf/fixtures.hpp"
#include "harness/engine/attention.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/kv_cache.hpp"
#include "harness/engine/kv_half.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/norms.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/quants_internal.hpp"
#include "harness/engine/rope.hpp"
#include "harness/engine/thread_pool.hpp"

using namespace huashan::engine;

namespace {

using values = std::vector<float>;

struct variant {
  kernel_isa isa = kernel_isa::scalar;
  const char* label = "scalar";
  bool packed = false;  // matmul: weights packed sixteen rows at a time (AVX-512 VNNI)
};
const variant scalar_v{kernel_isa::scalar, "scalar"};
const variant avx2_v{kernel_isa::avx2, "avx2"};
const variant avx512_v{kernel_isa::avx512, "avx512"};
const variant avx512_packed_v{kernel_isa::avx512, "avx512 packed", true};

// One shape of one op: the reference's result, the error allowed per element
// (0: the same bits) and how a variant computes it.
struct op_case {
  std::string shape;
  values expected;
  values bound;
  std::function<values(const variant&)> run;
};

struct op_row {
  std::string name;
  std::vector<variant> variants;  // the variants the engine has for this op
  bool needs_vnni = false;        // its AVX-512 variant also needs AVX-512 VNNI
  std::string note;               // why variants are missing, where they are
  std::function<std::vector<op_case>()> cases;
};

// Whether this CPU runs the variant (cpu_features, as the dispatch decides).
bool cpu_has(const variant& v, bool needs_vnni) {
  const cpu_features& f = detect_cpu_features();
  switch (v.isa) {
    case kernel_isa::scalar: return true;
    case kernel_isa::avx2: return f.avx2 && f.fma && f.f16c;
    case kernel_isa::avx512:
      return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512vl && f.avx512bw && f.avx512dq &&
             (!needs_vnni || f.avx512vnni);
  }
  return false;
}

// Runs what it holds with the dispatch capped at isa; the cap is lifted after.
struct isa_cap {
  explicit isa_cap(kernel_isa isa) { limit_kernel_isa(isa); }
  ~isa_cap() { limit_kernel_isa(kernel_isa::avx512); }
  isa_cap(const isa_cap&) = delete;
  isa_cap& operator=(const isa_cap&) = delete;
};

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// ---------------------------------------------------------------- dot products and matmul

const tensor_type weight_types[] = {tensor_type::f32,  tensor_type::f16,  tensor_type::bf16, tensor_type::q8_0,
                                    tensor_type::q4_0, tensor_type::q4_k, tensor_type::q6_k};

bool quantized_activations(tensor_type t) { return vec_dot_type(t) != tensor_type::f32; }

// Σ_i |w_i x_i| of a weight row and float activations (the scale of the dot's rounding).
double abs_dot(tensor_type t, const void* w_row, const float* x, std::int64_t n) {
  std::vector<float> w(static_cast<std::size_t>(n));
  dequantize_row(t, w_row, w.data(), n);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(w[static_cast<std::size_t>(i)]) * x[i]);
  return s;
}

// Row lengths: block-1 types get 8-, 32- and 1-element tails; blocked types
// an odd number of blocks (the two-accumulator kernels' last block alone).
std::vector<std::int64_t> dot_lengths(tensor_type t) {
  switch (traits_of(t).block_size) {
    case 1: return {1, 7, 33, 200, 1003};
    case 32: return {32, 96, 1056};
    default: return {256, 768, 3072};
  }
}

std::vector<op_case> dot_cases(tensor_type t) {
  std::vector<op_case> cases;
  for (const std::int64_t n : dot_lengths(t)) {
    auto wf = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 11, 0.02f);
    wf[0] = -0.1f;  // a block whose largest weight is negative: -127 and the sign paths
    auto xf = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 12);
    auto w = std::make_shared<std::vector<std::byte>>(row_bytes(t, n));
    auto x = std::make_shared<std::vector<std::byte>>(row_bytes(vec_dot_type(t), n));
    quantize_row(t, wf.data(), w->data(), n);
    quantize_row(vec_dot_type(t), xf.data(), x->data(), n);
    std::vector<float> x_float(static_cast<std::size_t>(n));
    dequantize_row(vec_dot_type(t), x->data(), x_float.data(), n);
    op_case c;
    c.shape = "n=" + std::to_string(n);
    c.expected = {dot_kernel_scalar(t)(w->data(), x->data(), n)};
    c.bound = {static_cast<float>(1e-5 * abs_dot(t, w->data(), x_float.data(), n) + 1e-12)};
    c.run = [t, w, x, n](const variant& v) -> values {
      const isa_cap cap(v.isa);
      const dot_fn f = v.isa == kernel_isa::scalar ? dot_kernel_scalar(t)
                       : v.isa == kernel_isa::avx2 ? dot_kernel_avx2(t)
                                                   : dot_kernel_vnni(t);
      const bool has_kernel = f != nullptr;
      REQUIRE(has_kernel);
      return {f(w->data(), x->data(), n)};
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<op_case> dot_prompt_cases() {
  std::vector<op_case> cases;
  for (const std::int64_t n : {8, 72, 1024}) {
    const auto w = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 21);
    const auto x = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 22);
    op_case c;
    c.shape = "n=" + std::to_string(n);
    c.expected = {scalar::dot_f32_prompt(w.data(), x.data(), n)};
    c.bound = {0.0f};
    c.run = [w, x, n](const variant& v) -> values {
      const isa_cap cap(v.isa);
      return {dot_f32_prompt_kernel()(w.data(), x.data(), n)};
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

struct gemm_shape {
  std::int64_t n_in, n_out, n_tokens;
};

// Weight rows: a block's worth and more, 16-row multiples (packable) and odd
// row counts; tokens: one, a four-token group plus one, and more than a tile
// of eight.
std::vector<gemm_shape> gemm_shapes(tensor_type t) {
  switch (traits_of(t).block_size) {
    case 1: return {{72, 12, 6}, {200, 16, 5}, {1003, 17, 3}, {512, 48, 17}};
    case 32: return {{32, 16, 1}, {96, 67, 5}, {1024, 48, 17}};
    default: return {{256, 16, 1}, {768, 67, 5}, {1024, 48, 17}};
  }
}

// matmul of every gemm_shape under each variant; `kernels`: against the
// scalar kernels' matmul (the same activations) instead of matmul_reference.
std::vector<op_case> matmul_cases(tensor_type t, bool kernels) {
  std::vector<op_case> cases;
  for (const gemm_shape& s : gemm_shapes(t)) {
    struct inputs {
      std::vector<std::byte> w, packed;
      tensor_view view;
      values x;
      std::vector<std::uint8_t> prompt_rows;
    };
    auto in = std::make_shared<inputs>();
    const auto wf = huashan::engine::test::gaussian(static_cast<std::size_t>(s.n_in * s.n_out), 5, 0.02f);
    in->w = huashan::engine::test::quantized(t, wf, s.n_in);
    in->view.name = "w";
    in->view.type = t;
    in->view.n_dims = 2;
    in->view.ne = {s.n_in, s.n_out, 1, 1};
    in->view.data = in->w.data();
    in->view.n_bytes = in->w.size();
    in->x = huashan::engine::test::gaussian(static_cast<std::size_t>(s.n_in * s.n_tokens), 6);
    in->x[3] = -40.0f;  // a block whose extreme value quantizes to -127
    // f32: prompt rows take llama.cpp's prompt order where the shape allows it.
    for (std::int64_t k = 0; k < s.n_tokens; ++k) in->prompt_rows.push_back(static_cast<std::uint8_t>(k % 3 != 1));
    if (packable_rows16(in->view)) {
      in->packed.resize(packed_rows16_bytes(in->view));
      pack_rows16(in->view, in->packed.data());
    }
    auto product = [in, s](const variant& v) -> values {
      const isa_cap cap(v.isa);
      tensor_view view = in->view;
      if (v.packed) {
        REQUIRE(packed_product_available());
        view.packed = in->packed.data();
      }
      thread_pool pool(2);
      values y(static_cast<std::size_t>(s.n_out * s.n_tokens));
      matmul(view, in->x.data(), s.n_tokens, y.data(), pool, in->prompt_rows.data());
      return y;
    };
    op_case c;
    std::ostringstream shape;
    shape << s.n_out << "x" << s.n_in << ", " << s.n_tokens << " tokens";
    c.shape = shape.str();
    c.expected.resize(static_cast<std::size_t>(s.n_out * s.n_tokens));
    if (kernels) {
      c.expected = product(scalar_v);
    } else {
      matmul_reference(in->view, in->x.data(), s.n_tokens, c.expected.data());
    }
    // The activations as the kernels see them (x̂: quantized, then back to floats).
    values x_seen = in->x;
    if (quantized_activations(t)) {
      std::vector<std::byte> xq(row_bytes(vec_dot_type(t), s.n_in));
      for (std::int64_t k = 0; k < s.n_tokens; ++k) {
        quantize_row(vec_dot_type(t), in->x.data() + k * s.n_in, xq.data(), s.n_in);
        dequantize_row(vec_dot_type(t), xq.data(), x_seen.data() + k * s.n_in, s.n_in);
      }
    }
    values w_row(static_cast<std::size_t>(s.n_in));
    c.bound.resize(c.expected.size());
    for (std::int64_t o = 0; o < s.n_out; ++o) {
      dequantize_row(t, in->view.row(o), w_row.data(), s.n_in);
      for (std::int64_t k = 0; k < s.n_tokens; ++k) {
        double magnitude = 0.0, rounding = 0.0;  // Σ|w x|, Σ|w|·|x - x̂|
        for (std::int64_t i = 0; i < s.n_in; ++i) {
          const auto at = static_cast<std::size_t>(k * s.n_in + i);
          const double w = w_row[static_cast<std::size_t>(i)];
          magnitude += std::fabs(w * in->x[at]);
          rounding += std::fabs(w) * std::fabs(static_cast<double>(in->x[at]) - x_seen[at]);
        }
        c.bound[static_cast<std::size_t>(k * s.n_out + o)] =
            static_cast<float>(1e-5 * magnitude + (kernels ? 0.0 : rounding) + 1e-9);
      }
    }
    c.run = [product, in](const variant& v) -> values {
      if (v.packed && in->packed.empty()) return {};  // not packable: nothing to run
      return product(v);
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---------------------------------------------------------------- attention

struct attention_shape {
  std::int32_t hd_k, hd_v, n_kv_heads, group;
};

// stories260K's heads (8 of 8 on 4 KV heads), one KV head for eight query
// heads, plain multi-head, groups of three to five (lanes straddle groups),
// every short K/V pair the side-by-side kernel has, the 8-wide loop with an
// 8-element tail (72), the pair kernel with an odd third head (64) and with
// and without a dot tail (80, 96), qwen3's 128, and sizes only the reference
// takes (20: not a multiple of 8; 8 keys with 32 values).
const attention_shape attention_shapes[] = {
    {8, 8, 4, 2},   {8, 8, 1, 8},   {8, 8, 6, 1},    {16, 16, 2, 3},   {16, 16, 1, 5}, {24, 8, 2, 2},
    {24, 8, 1, 4},  {8, 16, 3, 2},  {16, 8, 5, 1},   {32, 32, 2, 2},   {64, 64, 2, 3}, {72, 72, 1, 3},
    {80, 64, 1, 2}, {96, 128, 1, 2}, {128, 128, 2, 2}, {20, 20, 2, 2}, {8, 32, 2, 1}};

// One sequence's cache of one layer, N(0, 1) keys and values (F32 ones
// rounded through F16, so that the types hold the same numbers), 16 tokens a
// block; a second sequence for the next-row prefetch.
struct attention_inputs {
  attention_inputs(kv_type type, const attention_shape& g, std::int32_t n_kv)
      : cache(kv_cache_shape{1, g.n_kv_heads, g.hd_k, g.hd_v}, config(type)) {
    seq = cache.add_sequence();
    next = cache.add_sequence();
    REQUIRE(cache.reserve(seq, n_kv));
    REQUIRE(cache.reserve(next, 40));
    std::mt19937 gen(static_cast<unsigned>(7 + n_kv + g.hd_k * 3 + g.hd_v + g.n_kv_heads));
    std::normal_distribution<float> nd;
    auto fill = [&](std::int32_t s, std::int32_t n) {
      for (std::int32_t p = 0; p < n; ++p) {
        const std::int32_t b = cache.block_table(s)[static_cast<std::size_t>(p / 16)];
        for (int i = 0; i < g.n_kv_heads * g.hd_k; ++i) put(cache.k_row(0, b, p % 16), i, nd(gen));
        for (int i = 0; i < g.n_kv_heads * g.hd_v; ++i) put(cache.v_row(0, b, p % 16), i, nd(gen));
      }
    };
    fill(seq, n_kv);
    fill(next, 40);
  }
  static kv_cache_config config(kv_type type) {
    kv_cache_config cfg;
    cfg.block_tokens = 16;
    cfg.type = type;
    cfg.memory_budget_bytes = 8u << 20;
    return cfg;
  }
  void put(void* row, int i, float x) const {
    if (cache.config().type == kv_type::f16) {
      static_cast<std::uint16_t*>(row)[i] = kv::float_to_half(x);
    } else {
      static_cast<float*>(row)[i] = kv::half_to_float(kv::float_to_half(x));
    }
  }
  kv_cache cache;
  std::int32_t seq = 0;
  std::int32_t next = 0;
};

enum class attention_call { attend, attend_group, attend_heads };

// Decode: one query row over n_kv keys (the next row's cache named, to
// prefetch). Prefill: rows at positions 0 .. n_kv-1 of a prompt, each over the
// keys up to its own (causal), as llama_graph calls it.
struct attention_step {
  std::int32_t n_kv;
  bool prefill;
};
const attention_step attention_steps[] = {{1, false}, {17, false}, {130, false}, {41, true}};

std::vector<op_case> attention_cases(kv_type type, attention_call call) {
  std::vector<op_case> cases;
  for (const attention_shape& g : attention_shapes) {
    for (const attention_step& step : attention_steps) {
      auto in = std::make_shared<attention_inputs>(type, g, step.n_kv);
      const std::int32_t n_q = g.n_kv_heads * g.group;
      const std::int32_t first_row = step.prefill ? 0 : step.n_kv - 1;
      const auto n_rows = static_cast<std::size_t>(step.n_kv - first_row);
      // Large scores, so that the running maximum moves often and at
      // different keys in different heads.
      auto q = std::make_shared<values>(huashan::engine::test::gaussian(n_rows * n_q * g.hd_k, 3, 3.0f));
      auto args = [in, g, step](std::int32_t row) {
        attention_args a;
        a.cache = &in->cache;
        a.blocks = &in->cache.block_table(in->seq);
        a.n_kv = row + 1;
        a.head_dim_k = g.hd_k;
        a.head_dim_v = g.hd_v;
        a.scale = 1.0f / std::sqrt(static_cast<float>(g.hd_k));
        if (!step.prefill) {
          a.next_blocks = &in->cache.block_table(in->next);
          a.next_n_kv = 40;
        }
        return a;
      };
      const auto q_row = [q, g, n_q, first_row](std::int32_t row) {
        return q->data() + static_cast<std::size_t>(row - first_row) * n_q * g.hd_k;
      };
      const std::size_t out_row = static_cast<std::size_t>(n_q) * g.hd_v;
      op_case c;
      std::ostringstream shape;
      shape << (step.prefill ? "prefill " : "decode ") << step.n_kv << " keys, heads " << g.hd_k << "/" << g.hd_v
            << ", " << g.n_kv_heads << " KV heads x " << g.group;
      c.shape = shape.str();
      std::vector<float> scores(2 * static_cast<std::size_t>(step.n_kv));
      for (std::int32_t row = first_row; row < step.n_kv; ++row) {
        for (std::int32_t h = 0; h < n_q; ++h) {
          attention_args a = args(row);
          a.kv_head = h / g.group;
          values one(static_cast<std::size_t>(g.hd_v));
          attend_reference(a, q_row(row) + h * g.hd_k, scores.data(), one.data());
          c.expected.insert(c.expected.end(), one.begin(), one.end());
        }
      }
      // attend_heads also runs as two calls (the first KV heads, the rest):
      // each writes only its own heads' rows.
      if (call == attention_call::attend_heads && g.n_kv_heads >= 2) {
        const values whole = c.expected;
        c.expected.insert(c.expected.end(), whole.begin(), whole.end());
      }
      c.bound.assign(c.expected.size(), 0.0f);
      c.run = [in, g, n_q, first_row, n_kv = step.n_kv, out_row, call, args, q_row](const variant& v) -> values {
        const isa_cap cap(v.isa);
        const auto n_rows = static_cast<std::size_t>(n_kv - first_row);
        values out(n_rows * out_row, -1.0f), split;
        std::vector<float> scores(2 * static_cast<std::size_t>(n_kv)), scratch;
        for (std::int32_t row = first_row; row < n_kv; ++row) {
          float* o = out.data() + static_cast<std::size_t>(row - first_row) * out_row;
          attention_args a = args(row);
          switch (call) {
            case attention_call::attend:
              for (std::int32_t h = 0; h < n_q; ++h) {
                a.kv_head = h / g.group;
                attend(a, q_row(row) + h * g.hd_k, scores.data(), o + h * g.hd_v);
              }
              break;
            case attention_call::attend_group:
              for (std::int32_t kv = 0; kv < g.n_kv_heads; ++kv) {
                a.kv_head = kv;
                attend_group(a, q_row(row) + kv * g.group * g.hd_k, g.group, scores.data(),
                             o + kv * g.group * g.hd_v);
              }
              break;
            case attention_call::attend_heads:
              attend_heads(a, g.n_kv_heads, g.group, q_row(row), scratch, o);
              break;
          }
        }
        if (call == attention_call::attend_heads && g.n_kv_heads >= 2) {
          split.assign(out.size(), -1.0f);
          const std::int32_t mid = g.n_kv_heads / 2;
          for (std::int32_t row = first_row; row < n_kv; ++row) {
            float* o = split.data() + static_cast<std::size_t>(row - first_row) * out_row;
            attention_args a = args(row);
            attend_heads(a, mid, g.group, q_row(row), scratch, o);
            a.kv_head = mid;
            attend_heads(a, g.n_kv_heads - mid, g.group, q_row(row) + mid * g.group * g.hd_k, scratch,
                         o + mid * g.group * g.hd_v);
          }
          out.insert(out.end(), split.begin(), split.end());
        }
        return out;
      };
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

// ---------------------------------------------------------------- norms, RoPE, SwiGLU

std::vector<op_case> rms_norm_cases() {
  std::vector<op_case> cases;
  for (const std::int64_t n : {1, 7, 136, 1003}) {
    for (const std::int64_t rows : {1, 3, 4, 9}) {
      const std::int64_t stride = n + 4;
      const auto x = huashan::engine::test::gaussian(static_cast<std::size_t>(rows * stride), 11, 2.0f);
      const auto w = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 12, 2.0f);
      op_case c;
      c.shape = "n=" + std::to_string(n) + ", " + std::to_string(rows) + " rows";
      values one(static_cast<std::size_t>(n));
      for (std::int64_t r = 0; r < rows; ++r) {
        rms_norm(x.data() + r * stride, w.data(), n, 1e-6f, one.data());
        c.expected.insert(c.expected.end(), one.begin(), one.end());
      }
      c.bound.assign(c.expected.size(), 0.0f);
      c.run = [x, w, n, rows, stride](const variant&) -> values {
        values out(static_cast<std::size_t>(rows * n));
        rms_norm_rows(x.data(), stride, w.data(), n, rows, 1e-6f, out.data(), n);
        return out;
      };
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::vector<op_case> rope_cases() {
  struct rope_shape {
    rope_layout layout;
    std::int32_t head, n_rot;
    bool freq_factors;
  };
  const rope_shape shapes[] = {{rope_layout::normal, 64, 64, false},
                               {rope_layout::neox, 128, 128, false},
                               {rope_layout::neox, 80, 32, true},
                               {rope_layout::normal, 8, 8, false}};
  std::vector<op_case> cases;
  for (const rope_shape& s : shapes) {
    for (const std::int32_t pos : {0, 1, 17, 4095}) {
      auto factors = std::make_shared<values>(static_cast<std::size_t>(s.n_rot / 2));
      for (std::size_t i = 0; i < factors->size(); ++i) (*factors)[i] = 1.0f + 0.25f * static_cast<float>(i % 5);
      rope_params p;
      p.layout = s.layout;
      p.n_rot = s.n_rot;
      p.freq_base = 1e6f;
      p.freq_factors = s.freq_factors ? factors->data() : nullptr;
      auto cs = std::make_shared<values>(static_cast<std::size_t>(s.n_rot));
      rope_cos_sin(p, pos, cs->data());
      const auto x = huashan::engine::test::gaussian(static_cast<std::size_t>(s.head), 31 + static_cast<std::uint32_t>(pos));
      op_case c;
      c.shape = std::string(s.layout == rope_layout::normal ? "normal" : "neox") + ", head " + std::to_string(s.head) +
                ", n_rot " + std::to_string(s.n_rot) + ", pos " + std::to_string(pos);
      c.expected = x;
      c.bound.assign(x.size(), 0.0f);
      for (std::int32_t i = 0; i < s.n_rot / 2; ++i) {
        const std::size_t ia = static_cast<std::size_t>(s.layout == rope_layout::normal ? 2 * i : i);
        const std::size_t ib = static_cast<std::size_t>(s.layout == rope_layout::normal ? 2 * i + 1 : i + s.n_rot / 2);
        const double a = x[ia], b = x[ib], co = (*cs)[2 * static_cast<std::size_t>(i)],
                     si = (*cs)[2 * static_cast<std::size_t>(i) + 1];
        c.expected[ia] = static_cast<float>(a * co - b * si);
        c.expected[ib] = static_cast<float>(a * si + b * co);
        c.bound[ia] = static_cast<float>(0x1p-22 * (std::fabs(a * co) + std::fabs(b * si)));
        c.bound[ib] = static_cast<float>(0x1p-22 * (std::fabs(a * si) + std::fabs(b * co)));
      }
      c.run = [p, cs, x, factors](const variant&) -> values {
        values out = x;
        rope_apply(p, cs->data(), out.data());
        return out;
      };
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::vector<op_case> swiglu_cases() {
  std::vector<op_case> cases;
  for (const std::int64_t n : {1, 7, 8, 9, 41, 1027}) {
    auto gate = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 7, 4.0f);
    const auto up = huashan::engine::test::gaussian(static_cast<std::size_t>(n), 8, 4.0f);
    if (n > 3) gate[2] = 95.0f, gate[3] = -95.0f;  // lanes whose exp leaves the normal range
    op_case c;
    c.shape = "n=" + std::to_string(n);
    c.expected = gate;
    swiglu_reference(c.expected.data(), up.data(), n);
    c.bound.assign(c.expected.size(), 0.0f);
    c.run = [gate, up, n](const variant& v) -> values {
      values out = gate;
      if (v.isa == kernel_isa::scalar) {
        swiglu_reference(out.data(), up.data(), n);
      } else {
        swiglu(out.data(), up.data(), n);  // its own dispatch: AVX2 on a CPU with AVX2 and FMA
      }
      return out;
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---------------------------------------------------------------- the table

std::vector<op_row> table() {
  std::vector<op_row> rows;
  for (const tensor_type t : weight_types) {
    const std::string type(traits_of(t).name);
    const bool has_vnni_dot = t == tensor_type::q8_0;
    rows.push_back({"dot " + type,
                    has_vnni_dot ? std::vector<variant>{scalar_v, avx2_v, avx512_v} : std::vector<variant>{scalar_v, avx2_v},
                    true, has_vnni_dot ? "" : "no AVX-512 dot for this type (AVX-512 runs the AVX2 one)",
                    [t] { return dot_cases(t); }});
  }
  rows.push_back({"dot f32, prompt order", {scalar_v, avx2_v}, false,
                  "AVX-512 runs it eight rows at a time inside matmul (the matmul f32 rows)", dot_prompt_cases});
  for (const tensor_type t : weight_types) {
    const std::string type(traits_of(t).name);
    const bool packable = t == tensor_type::q8_0 || t == tensor_type::q4_k || t == tensor_type::q6_k ||
                          t == tensor_type::f16;
    std::vector<variant> all = {scalar_v, avx2_v, avx512_v};
    if (packable) all.push_back(avx512_packed_v);
    const std::string note = packable ? "" : "no packed product for this type";
    rows.push_back({"matmul " + type, all, true, note, [t] { return matmul_cases(t, false); }});
    std::vector<variant> simd(all.begin() + 1, all.end());
    rows.push_back({"matmul " + type + ", kernels", simd, true, note, [t] { return matmul_cases(t, true); }});
  }
  const std::vector<variant> attention_variants = {scalar_v, avx2_v, avx512_v};
  for (const auto& [which, name] : {std::pair{attention_call::attend, "attend"},
                                    std::pair{attention_call::attend_group, "attend_group"},
                                    std::pair{attention_call::attend_heads, "attend_heads"}}) {
    const attention_call call = which;
    rows.push_back({std::string(name) + ", F16 cache", attention_variants, false, "",
                    [call] { return attention_cases(kv_type::f16, call); }});
    rows.push_back({std::string(name) + ", F32 cache", {scalar_v}, false,
                    "no SIMD kernel for the F32 cache: every CPU runs attend_reference",
                    [call] { return attention_cases(kv_type::f32, call); }});
  }
  rows.push_back({"rms_norm_rows", {scalar_v}, false, "one implementation (scalar, four rows side by side)",
                  rms_norm_cases});
  rows.push_back({"rope_apply", {scalar_v}, false,
                  "one implementation, built twice by target_clones (fma, default): the loader picks, not selectable",
                  rope_cases});
  rows.push_back({"swiglu", {scalar_v, avx2_v}, false, "no AVX-512 form", swiglu_cases});
  return rows;
}

// The first element of got that breaks the bound, or -1.
std::ptrdiff_t first_mismatch(const values& got, const op_case& c) {
  if (got.size() != c.expected.size()) return 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool ok = c.bound[i] == 0.0f ? same_bits(got[i], c.expected[i])
                                       : std::isfinite(got[i]) && std::fabs(got[i] - c.expected[i]) <= c.bound[i];
    if (!ok) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("parity table: every op x every ISA variant x shapes against the scalar reference") {
  MESSAGE("CPU: " << describe(detect_cpu_features()));
  for (const op_row& op : table()) {
    std::ostringstream ran, skipped;
    const std::vector<op_case> cases = op.cases();
    for (const variant& v : op.variants) {
      if (!cpu_has(v, op.needs_vnni)) {
        skipped << " " << v.label;
        continue;
      }
      ran << " " << v.label;
      for (const op_case& c : cases) {
        const values got = c.run(v);
        if (got.empty() && v.packed) continue;  // this shape is not packable
        const std::ptrdiff_t bad = first_mismatch(got, c);
        INFO(op.name << " [" << std::string(v.label) << "] " << c.shape);
        if (bad < 0) {
          CHECK(bad < 0);
          continue;
        }
        const auto i = static_cast<std::size_t>(bad);
        CHECK_MESSAGE(bad < 0, "element " << i << ": got " << (i < got.size() ? got[i] : NAN) << ", reference "
                                          << c.expected[i] << ", allowed " << c.bound[i] << " (sizes "
                                          << got.size() << ", " << c.expected.size() << ")");
      }
    }
    MESSAGE(op.name << ": ran" << ran.str() << (skipped.str().empty() ? "" : "; this CPU lacks" + skipped.str())
                    << " (" << cases.size() << " shapes)" << (op.note.empty() ? "" : "; " + op.note));
  }
}

// The cap really selects the variant: the kernels the dispatch hands out
// under each cap, on a CPU that has them.
TEST_CASE("parity table: limit_kernel_isa selects each variant's kernels") {
  const variant caps[] = {scalar_v, avx2_v, avx512_v};
  for (const variant& v : caps) {
    CAPTURE(v.label);
    const isa_cap cap(v.isa);
    CHECK(kernel_isa_limit() == v.isa);
    // (Function pointers compared first: doctest cannot print them.)
    if (v.isa == kernel_isa::scalar) {
      const bool scalar_dot = dot_kernel(tensor_type::q8_0) == scalar::dot_q8_0;
      const bool no_dot4 = dot4_kernel(tensor_type::q8_0) == nullptr;
      CHECK(scalar_dot);
      CHECK(no_dot4);
      CHECK_FALSE(packed_product_available());
    }
    if (v.isa == kernel_isa::avx2 && cpu_has(v, false)) {
      const bool avx2_dot = dot_kernel(tensor_type::q8_0) == avx2::dot_q8_0;
      const bool avx2_prompt = dot_f32_prompt_kernel() == avx2::dot_f32_prompt;
      const bool no_dot8 = dot8_f32_kernel() == nullptr;
      CHECK(avx2_dot);
      CHECK(avx2_prompt);
      CHECK(no_dot8);
    }
    if (v.isa == kernel_isa::avx512 && cpu_has(v, true)) {
      const bool vnni_dot = dot_kernel(tensor_type::q8_0) == vnni::dot_q8_0;
      CHECK(vnni_dot);
      CHECK(packed_product_available());
    }
    // Short heads run side by side only with AVX-512.
    kv_cache_config cfg;
    cfg.type = kv_type::f16;
    cfg.memory_budget_bytes = 1u << 20;
    const kv_cache cache(kv_cache_shape{1, 4, 8, 8}, cfg);
    CHECK(attend_heads_span(cache, 8, 8, 4) == (v.isa == kernel_isa::avx512 && cpu_has(v, false) ? 4 : 1));
  }
  CHECK(kernel_isa_limit() == kernel_isa::avx512);
}
