// Kernel throughput: one query head's attention over an F16 cache of n_kv
// positions (qwen3-0.6B's head size 128, 16-token blocks), as keys per second;
// and matmul of a 3072 x 1024 weight (qwen3-0.6B's ffn_up shape)
// against 1 and 16 activation rows, per weight type and thread count, as bytes
// of weights streamed per second. Each iteration uses the next of enough
// weight copies to exceed the last-level cache, so batch-1 figures are DRAM
// bandwidth, as in decoding. Every benchmark first checks its answer against
// matmul_reference (SkipWithError on a mismatch). With $HUASHAN_BENCH_GGUF set,
// also every matmul of one decode step of that model (model_matmuls).
// vnni_peak is the ceiling the packed products are measured against: 512-bit
// vpdpbusd alone, ten independent chains, as int8 multiply-adds per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "harness/engine/attention.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/kv_cache.hpp"
#include "harness/engine/kv_half.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/thread_pool.hpp"

using namespace huashan::engine;

namespace {

constexpr std::int64_t n_in = 1024;
constexpr std::int64_t n_out = 3072;
constexpr std::size_t min_total_bytes = 256u << 20;  // weight copies: well past any L3

std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct weights {
  std::vector<std::vector<std::byte>> copies;
  std::vector<tensor_view> views;
  // The same copies packed sixteen rows at a time (quants.hpp) when this CPU
  // and type have the packed product; empty otherwise.
  std::vector<std::vector<std::byte>> packed_copies;
  std::vector<tensor_view> packed_views;
};

const weights& weights_for(tensor_type t) {
  static std::vector<std::unique_ptr<weights>> cache(64);
  auto& slot = cache[static_cast<std::size_t>(t)];
  if (slot) return *slot;
  slot = std::make_unique<weights>();
  const auto f = gaussian(static_cast<std::size_t>(n_in * n_out), 1, 0.02f);
  const std::size_t rb = row_bytes(t, n_in);
  std::vector<std::byte> one(rb * n_out);
  for (std::int64_t r = 0; r < n_out; ++r) quantize_row(t, f.data() + r * n_in, one.data() + r * rb, n_in);
  const std::size_t n_copies = std::max<std::size_t>(2, min_total_bytes / one.size());
  for (std::size_t c = 0; c < n_copies; ++c) slot->copies.push_back(one);
  for (auto& c : slot->copies) {
    tensor_view v;
    v.name = "bench";
    v.type = t;
    v.n_dims = 2;
    v.ne = {n_in, n_out, 1, 1};
    v.data = c.data();
    v.n_bytes = c.size();
    slot->views.push_back(v);
  }
  if (packed_product_available() && packable_rows16(slot->views[0])) {
    for (const auto& v : slot->views) {
      slot->packed_copies.emplace_back(packed_rows16_bytes(v));
      pack_rows16(v, slot->packed_copies.back().data());
      tensor_view p = v;
      p.packed = slot->packed_copies.back().data();
      slot->packed_views.push_back(p);
    }
  }
  return *slot;
}

void bm_matmul(benchmark::State& state, tensor_type t, bool packed) {
  const auto n_tokens = static_cast<std::int64_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const weights& all = weights_for(t);
  if (packed && all.packed_views.empty()) {
    state.SkipWithError("no packed product for this type on this CPU");
    return;
  }
  const std::vector<tensor_view>& views = packed ? all.packed_views : all.views;
  thread_pool pool(threads);
  const auto x = gaussian(static_cast<std::size_t>(n_in * n_tokens), 2, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n_out * n_tokens)), ref(y.size());

  matmul(views[0], x.data(), n_tokens, y.data(), pool);
  matmul_reference(views[0], x.data(), n_tokens, ref.data());
  // Quantized weights see 8-bit activations: allow 2 % RMS error against the float reference.
  double err = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    err += (y[i] - ref[i]) * (y[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  if (!(std::sqrt(err) <= 0.02 * std::sqrt(norm))) {
    state.SkipWithError("matmul differs from the reference");
    return;
  }
  std::size_t k = 0;
  for (auto _ : state) {
    matmul(views[k], x.data(), n_tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
    k = (k + 1) % views.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(views[0].n_bytes));
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(n_tokens) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["multiply-adds/s"] =
      benchmark::Counter(static_cast<double>(n_in) * n_out * n_tokens * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

#if defined(__x86_64__)
// Ten chains, each started from its own value so that no two can be merged,
// and enough of them to cover the instruction's latency: its throughput alone.
__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) std::int64_t vpdpbusd_chains(std::int64_t rounds,
                                                                                           char weight, char input) {
  const __m512i w = _mm512_set1_epi8(weight);
  const __m512i x = _mm512_set1_epi8(input);
  __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2), a3 = _mm512_set1_epi32(3),
          a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5), a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7),
          a8 = _mm512_set1_epi32(8), a9 = _mm512_set1_epi32(9);
  for (std::int64_t r = 0; r < rounds; ++r) {
    a0 = _mm512_dpbusd_epi32(a0, w, x), a1 = _mm512_dpbusd_epi32(a1, w, x), a2 = _mm512_dpbusd_epi32(a2, w, x);
    a3 = _mm512_dpbusd_epi32(a3, w, x), a4 = _mm512_dpbusd_epi32(a4, w, x), a5 = _mm512_dpbusd_epi32(a5, w, x);
    a6 = _mm512_dpbusd_epi32(a6, w, x), a7 = _mm512_dpbusd_epi32(a7, w, x), a8 = _mm512_dpbusd_epi32(a8, w, x);
    a9 = _mm512_dpbusd_epi32(a9, w, x);
  }
  const __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                                     _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(s, _mm512_add_epi32(a8, a9)));
}
#endif

void bm_vnni_peak(benchmark::State& state) {
#if defined(__x86_64__)
  if (!packed_product_available()) {  // the same CPU test as the products it is the ceiling of
    state.SkipWithError("no AVX-512 VNNI on this CPU");
    return;
  }
  std::int64_t rounds = 1 << 16;
  char weight = 3, input = -5;
  benchmark::DoNotOptimize(rounds);  // unknown to the compiler: the loop must run
  benchmark::DoNotOptimize(input);
  // Every lane of every chain gains 4 · 3 · (-5) per instruction.
  const std::int64_t expected = 16 * (45 + 10 * rounds * 4 * 3 * -5);
  for (auto _ : state) {
    benchmark::DoNotOptimize(weight);  // each call must run: it has no other effect
    if (vpdpbusd_chains(rounds, weight, input) != expected) {
      state.SkipWithError("vpdpbusd chains gave a wrong sum");
      return;
    }
  }
  state.counters["multiply-adds/s"] = benchmark::Counter(
      static_cast<double>(rounds) * 10 * 64 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
#else
  state.SkipWithError("x86-64 only");
#endif
}

void bm_dot(benchmark::State& state, tensor_type t, bool simd) {
  const dot_fn f = simd ? dot_kernel_avx2(t) : dot_kernel_scalar(t);
  if (f == nullptr) {
    state.SkipWithError("kernel not available on this CPU");
    return;
  }
  const weights& w = weights_for(t);
  const auto xf = gaussian(n_in, 3, 1.0f);
  std::vector<std::byte> x(row_bytes(vec_dot_type(t), n_in));
  quantize_row(vec_dot_type(t), xf.data(), x.data(), n_in);
  const std::size_t rb = row_bytes(t, n_in);
  const auto* base = static_cast<const std::byte*>(w.views[0].data);
  std::int64_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(base + static_cast<std::size_t>(r) * rb, x.data(), n_in));
    r = (r + 1) % 256;  // rows stay in L2: compute-bound figure
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * rb));
}

// All the matrix products of one decode step of a real-shaped model: every 2D
// weight except the token embedding, plus the output projection (the
// embedding when tied). An upper bound on tokens/s from the matmuls alone.
// The model comes from $HUASHAN_BENCH_GGUF (e.g. a `huashan model synth` file).
void bm_model_matmuls(benchmark::State& state, const gguf_file* f) {
  const auto n_tokens = static_cast<std::int64_t>(state.range(0));
  thread_pool pool(static_cast<int>(state.range(1)));
  std::vector<const tensor_view*> mats;
  std::int64_t max_dim = 0;
  std::size_t bytes = 0;
  for (const auto& t : f->tensors()) {
    if (t.n_dims != 2 || t.name == "token_embd.weight" || !has_kernels(t.type)) continue;
    mats.push_back(&t);
  }
  if (f->find_tensor("output.weight") == nullptr && f->find_tensor("token_embd.weight") != nullptr) {
    mats.push_back(f->find_tensor("token_embd.weight"));
  }
  for (const auto* t : mats) {
    max_dim = std::max({max_dim, t->ne[0], t->ne[1]});
    bytes += t->n_bytes;
  }
  const auto x = gaussian(static_cast<std::size_t>(max_dim * n_tokens), 4, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(max_dim * n_tokens));
  for (auto _ : state) {
    for (const auto* t : mats) matmul(*t, x.data(), n_tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(n_tokens) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One row's attention over n_kv cached positions: every query head of a
// model's geometry (attend_heads), F16 cache, random K/V. With layers > 1
// each iteration attends to the next layer's cache: 64 layers of the qwen3
// shape (42 MB) are read from memory, as a batch-16 decoding step reads its
// sequences' caches, instead of from the core's cache.
void bm_attention(benchmark::State& state) {
  const auto n_kv = static_cast<std::int32_t>(state.range(0));
  const auto head_dim = static_cast<std::int32_t>(state.range(1));
  const auto n_kv_heads = static_cast<std::int32_t>(state.range(2));
  const auto group = static_cast<std::int32_t>(state.range(3));
  const auto n_layers = static_cast<std::int32_t>(state.range(4));
  const std::int32_t row = n_kv_heads * head_dim;  // halves of K (or V) per position
  kv_cache_config cfg;
  cfg.block_tokens = 16;
  cfg.type = kv_type::f16;
  cfg.memory_budget_bytes =
      static_cast<std::size_t>(n_kv + 16) * 2 * row * sizeof(std::uint16_t) * 2 * static_cast<std::size_t>(n_layers);
  kv_cache c(kv_cache_shape{n_layers, n_kv_heads, head_dim, head_dim}, cfg);
  const std::int32_t seq = c.add_sequence();
  if (!c.reserve(seq, n_kv)) {
    state.SkipWithError("cache budget too small");
    return;
  }
  const auto values = gaussian(static_cast<std::size_t>(n_kv) * 2 * row, 7, 1.0f);
  for (std::int32_t layer = 0; layer < n_layers; ++layer) {
    for (std::int32_t p = 0; p < n_kv; ++p) {
      const std::int32_t b = c.block_table(seq)[static_cast<std::size_t>(p / 16)];
      auto* k = static_cast<std::uint16_t*>(c.k_row(layer, b, p % 16));
      auto* v = static_cast<std::uint16_t*>(c.v_row(layer, b, p % 16));
      for (std::int32_t i = 0; i < row; ++i) {
        k[i] = kv::float_to_half(values[static_cast<std::size_t>(p * 2 * row + i)]);
        v[i] = kv::float_to_half(values[static_cast<std::size_t>(p * 2 * row + row + i)]);
      }
    }
  }
  attention_args a;
  a.cache = &c;
  a.blocks = &c.block_table(seq);
  a.n_kv = n_kv;
  a.head_dim_k = head_dim;
  a.head_dim_v = head_dim;
  a.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const std::int32_t n_heads = n_kv_heads * group;
  const auto q = gaussian(static_cast<std::size_t>(n_heads * head_dim), 8, 1.0f);
  std::vector<float> scratch, out(static_cast<std::size_t>(n_heads * head_dim));
  for (auto _ : state) {
    a.layer = (a.layer + 1) % n_layers;
    attend_heads(a, n_kv_heads, group, q.data(), scratch, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["head-keys/s"] = benchmark::Counter(
      static_cast<double>(n_kv) * n_heads * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

const tensor_type types[] = {tensor_type::f32, tensor_type::f16,  tensor_type::bf16, tensor_type::q8_0,
                             tensor_type::q4_0, tensor_type::q4_k, tensor_type::q6_k};

const int registered = [] {
  for (tensor_type t : types) {
    const std::string name(traits_of(t).name);
    for (const bool packed : {false, true}) {
      if (packed && !(t == tensor_type::q8_0 || t == tensor_type::q4_k || t == tensor_type::q6_k || t == tensor_type::f16))
        continue;
      benchmark::RegisterBenchmark(((packed ? "matmul_packed/" : "matmul/") + name).c_str(), bm_matmul, t, packed)
          ->ArgNames({"tokens", "threads"})
          ->Args({1, 1})
          ->Args({1, 2})
          ->Args({16, 1})
          ->Args({16, 2})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("dot_scalar/" + name).c_str(), bm_dot, t, false);
    benchmark::RegisterBenchmark(("dot_avx2/" + name).c_str(), bm_dot, t, true);
  }
  benchmark::RegisterBenchmark("vnni_peak", bm_vnni_peak);
  // Rows of the qwen3-0.6B shape (16 heads of 128 on 8 KV heads) and of stories260K (8 of 8 on 4).
  benchmark::RegisterBenchmark("attention/f16", bm_attention)
      ->ArgNames({"n_kv", "head_dim", "kv_heads", "group", "layers"})
      ->Args({160, 128, 8, 2, 1})
      ->Args({160, 128, 8, 2, 64})
      ->Args({160, 8, 4, 2, 1});
  if (const char* path = std::getenv("HUASHAN_BENCH_GGUF")) {
    static const gguf_file model = gguf_file::open(path);
    benchmark::RegisterBenchmark("model_matmuls", bm_model_matmuls, &model)
        ->ArgNames({"tokens", "threads"})
        ->Args({1, 1})
        ->Args({1, 2})
        ->Args({16, 2})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
