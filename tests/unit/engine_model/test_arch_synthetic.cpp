// The llama / qwen2 / qwen3 forward pass on small synthetic models written in
// the test with gguf_writer, against a naive full-sequence reference written
// here independently (double precision, no cache, no batching), plus loader
// errors and the RoPE relative-position property.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/llama_graph.hpp"
#include "harness/engine/model.hpp"
#include "harness/engine/rope.hpp"

using namespace huashan::engine;

namespace {

struct synth_shape {
  std::string arch;
  int n_embd = 32, n_head = 4, n_kv = 2, head_dim = 8, n_ff = 48, n_vocab = 64, n_layer = 2;
  float rope_base = 10000.0f;
  float rope_scale_factor = 0.0f;  // > 0: linear scaling
};

using tensor_map = std::map<std::string, std::vector<float>>;

struct synth_model {
  std::vector<std::byte> bytes;
  tensor_map w;
  synth_shape s;
};

synth_model build(const synth_shape& s, unsigned seed) {
  synth_model out;
  out.s = s;
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  gguf_writer wr;
  wr.set_string("general.architecture", s.arch);
  const std::string a = s.arch + ".";
  wr.set_u32(a + "context_length", 128);
  wr.set_u32(a + "embedding_length", static_cast<std::uint32_t>(s.n_embd));
  wr.set_u32(a + "block_count", static_cast<std::uint32_t>(s.n_layer));
  wr.set_u32(a + "feed_forward_length", static_cast<std::uint32_t>(s.n_ff));
  wr.set_u32(a + "attention.head_count", static_cast<std::uint32_t>(s.n_head));
  wr.set_u32(a + "attention.head_count_kv", static_cast<std::uint32_t>(s.n_kv));
  wr.set_u32(a + "attention.key_length", static_cast<std::uint32_t>(s.head_dim));
  wr.set_u32(a + "attention.value_length", static_cast<std::uint32_t>(s.head_dim));
  wr.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  wr.set_f32(a + "rope.freq_base", s.rope_base);
  if (s.rope_scale_factor > 0) {
    wr.set_string(a + "rope.scaling.type", "linear");
    wr.set_f32(a + "rope.scaling.factor", s.rope_scale_factor);
  }
  auto add = [&](const std::string& name, std::int64_t ne0, std::int64_t ne1, bool ones_ish) {
    std::vector<float> v(static_cast<std::size_t>(ne0 * ne1));
    for (auto& x : v) x = ones_ish ? 1.0f + 0.2f * nd(gen) : nd(gen) / std::sqrt(static_cast<float>(ne0) / 4.0f);
    std::vector<std::byte> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    std::vector<std::int64_t> ne = ne1 == 1 ? std::vector<std::int64_t>{ne0} : std::vector<std::int64_t>{ne0, ne1};
    wr.add_tensor(name, tensor_type::f32, ne, b);
    out.w[name] = std::move(v);
  };
  const int qw = s.n_head * s.head_dim, kw = s.n_kv * s.head_dim;
  add("token_embd.weight", s.n_embd, s.n_vocab, false);
  add("output_norm.weight", s.n_embd, 1, true);
  if (s.arch != "qwen3") add("output.weight", s.n_embd, s.n_vocab, false);  // qwen3: tied
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", s.n_embd, 1, true);
    add(p + "attn_q.weight", s.n_embd, qw, false);
    add(p + "attn_k.weight", s.n_embd, kw, false);
    add(p + "attn_v.weight", s.n_embd, kw, false);
    add(p + "attn_output.weight", qw, s.n_embd, false);
    if (s.arch == "qwen2") {
      add(p + "attn_q.bias", qw, 1, false);
      add(p + "attn_k.bias", kw, 1, false);
      add(p + "attn_v.bias", kw, 1, false);
    }
    if (s.arch == "qwen3") {
      add(p + "attn_q_norm.weight", s.head_dim, 1, true);
      add(p + "attn_k_norm.weight", s.head_dim, 1, true);
    }
    add(p + "ffn_norm.weight", s.n_embd, 1, true);
    add(p + "ffn_gate.weight", s.n_embd, s.n_ff, false);
    add(p + "ffn_up.weight", s.n_embd, s.n_ff, false);
    add(p + "ffn_down.weight", s.n_ff, s.n_embd, false);
  }
  out.bytes = wr.to_bytes();
  return out;
}

// ---- naive reference: whole sequence, double precision ----------------------
using vec = std::vector<double>;

vec matvec(const std::vector<float>& w, int n_in, int n_out, const vec& x) {  // w: n_out rows of n_in
  vec y(static_cast<std::size_t>(n_out), 0.0);
  for (int o = 0; o < n_out; ++o)
    for (int i = 0; i < n_in; ++i) y[static_cast<std::size_t>(o)] += w[static_cast<std::size_t>(o * n_in + i)] * x[static_cast<std::size_t>(i)];
  return y;
}
vec rmsnorm(const vec& x, const std::vector<float>& w, std::size_t off, std::size_t n) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double r = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-6);
  vec y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = x[off + i] * r * w[i];
  return y;
}
void rope(vec& x, std::size_t off, int hd, int pos, bool neox, double base, double scale) {
  for (int i = 0; i < hd / 2; ++i) {
    const double theta = pos * scale * std::pow(base, -2.0 * i / hd);
    const std::size_t a = off + static_cast<std::size_t>(neox ? i : 2 * i);
    const std::size_t b = off + static_cast<std::size_t>(neox ? i + hd / 2 : 2 * i + 1);
    const double x0 = x[a], x1 = x[b];
    x[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
    x[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
  }
}

// logits[t][v] for every position of `tokens`.
std::vector<vec> reference_forward(const synth_model& m, const std::vector<std::int32_t>& tokens) {
  const auto& s = m.s;
  const auto& W = m.w;
  const bool neox = s.arch != "llama";
  const double scale = s.rope_scale_factor > 0 ? 1.0 / s.rope_scale_factor : 1.0;
  const int T = static_cast<int>(tokens.size()), D = s.n_embd, hd = s.head_dim;
  std::vector<vec> x(static_cast<std::size_t>(T), vec(static_cast<std::size_t>(D)));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < D; ++i) x[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)] = W.at("token_embd.weight")[static_cast<std::size_t>(tokens[static_cast<std::size_t>(t)] * D + i)];
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::vector<vec> q(static_cast<std::size_t>(T)), k(static_cast<std::size_t>(T)), v(static_cast<std::size_t>(T));
    for (int t = 0; t < T; ++t) {
      const auto ut = static_cast<std::size_t>(t);
      const vec h = rmsnorm(x[ut], W.at(p + "attn_norm.weight"), 0, static_cast<std::size_t>(D));
      q[ut] = matvec(W.at(p + "attn_q.weight"), D, s.n_head * hd, h);
      k[ut] = matvec(W.at(p + "attn_k.weight"), D, s.n_kv * hd, h);
      v[ut] = matvec(W.at(p + "attn_v.weight"), D, s.n_kv * hd, h);
      if (s.arch == "qwen2") {
        for (std::size_t i = 0; i < q[ut].size(); ++i) q[ut][i] += W.at(p + "attn_q.bias")[i];
        for (std::size_t i = 0; i < k[ut].size(); ++i) k[ut][i] += W.at(p + "attn_k.bias")[i];
        for (std::size_t i = 0; i < v[ut].size(); ++i) v[ut][i] += W.at(p + "attn_v.bias")[i];
      }
      for (int h2 = 0; h2 < s.n_head; ++h2) {
        const auto off = static_cast<std::size_t>(h2 * hd);
        if (s.arch == "qwen3") {
          const vec n = rmsnorm(q[ut], W.at(p + "attn_q_norm.weight"), off, static_cast<std::size_t>(hd));
          std::copy(n.begin(), n.end(), q[ut].begin() + static_cast<std::ptrdiff_t>(off));
        }
        rope(q[ut], off, hd, t, neox, s.rope_base, scale);
      }
      for (int h2 = 0; h2 < s.n_kv; ++h2) {
        const auto off = static_cast<std::size_t>(h2 * hd);
        if (s.arch == "qwen3") {
          const vec n = rmsnorm(k[ut], W.at(p + "attn_k_norm.weight"), off, static_cast<std::size_t>(hd));
          std::copy(n.begin(), n.end(), k[ut].begin() + static_cast<std::ptrdiff_t>(off));
        }
        rope(k[ut], off, hd, t, neox, s.rope_base, scale);
      }
    }
    for (int t = 0; t < T; ++t) {
      const auto ut = static_cast<std::size_t>(t);
      vec att(static_cast<std::size_t>(s.n_head * hd), 0.0);
      for (int h2 = 0; h2 < s.n_head; ++h2) {
        const int g = h2 / (s.n_head / s.n_kv);
        vec sc(static_cast<std::size_t>(t + 1));
        double mx = -1e300;
        for (int j = 0; j <= t; ++j) {
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[ut][static_cast<std::size_t>(h2 * hd + i)] * k[static_cast<std::size_t>(j)][static_cast<std::size_t>(g * hd + i)];
          sc[static_cast<std::size_t>(j)] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, sc[static_cast<std::size_t>(j)]);
        }
        double sum = 0;
        for (auto& e : sc) sum += e = std::exp(e - mx);
        for (int j = 0; j <= t; ++j)
          for (int i = 0; i < hd; ++i) att[static_cast<std::size_t>(h2 * hd + i)] += sc[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>(j)][static_cast<std::size_t>(g * hd + i)];
      }
      const vec o = matvec(W.at(p + "attn_output.weight"), s.n_head * hd, D, att);
      for (int i = 0; i < D; ++i) x[ut][static_cast<std::size_t>(i)] += o[static_cast<std::size_t>(i)];
      const vec h = rmsnorm(x[ut], W.at(p + "ffn_norm.weight"), 0, static_cast<std::size_t>(D));
      vec gt = matvec(W.at(p + "ffn_gate.weight"), D, s.n_ff, h);
      const vec up = matvec(W.at(p + "ffn_up.weight"), D, s.n_ff, h);
      for (std::size_t i = 0; i < gt.size(); ++i) gt[i] = gt[i] / (1 + std::exp(-gt[i])) * up[i];
      const vec d = matvec(W.at(p + "ffn_down.weight"), s.n_ff, D, gt);
      for (int i = 0; i < D; ++i) x[ut][static_cast<std::size_t>(i)] += d[static_cast<std::size_t>(i)];
    }
  }
  std::vector<vec> logits;
  const auto& out_w = W.count("output.weight") ? W.at("output.weight") : W.at("token_embd.weight");
  for (int t = 0; t < T; ++t) logits.push_back(matvec(out_w, D, s.n_vocab, rmsnorm(x[static_cast<std::size_t>(t)], W.at("output_norm.weight"), 0, static_cast<std::size_t>(D))));
  return logits;
}

// Our forward over `tokens` fed in two chunks (to exercise the cache), all logits.
std::vector<std::vector<float>> engine_forward(const model& m, const std::vector<std::int32_t>& tokens, kv_type type) {
  thread_pool pool(2);
  kv_cache_config cfg;
  cfg.block_tokens = 4;
  cfg.type = type;
  cfg.memory_budget_bytes = 1u << 20;
  kv_cache cache(kv_cache_shape{m.hp.n_layer, m.hp.n_head_kv, m.hp.head_dim_k, m.hp.head_dim_v}, cfg);
  const std::int32_t seq = cache.add_sequence();
  REQUIRE(cache.reserve(seq, static_cast<std::int64_t>(tokens.size())));
  llama_graph graph(m, pool);
  std::vector<std::vector<float>> out;
  const std::size_t split = tokens.size() / 2 + 1;
  for (auto [b, e] : {std::pair<std::size_t, std::size_t>{0, split}, {split, tokens.size()}}) {
    std::vector<batch_row> rows;
    for (std::size_t t = b; t < e; ++t) rows.push_back({tokens[t], static_cast<std::int32_t>(t), seq, true});
    std::vector<float> logits;
    graph.forward(rows, cache, logits);
    cache.commit(seq, std::span<const std::int32_t>(tokens).subspan(b, e - b));
    for (std::size_t r = 0; r < rows.size(); ++r) out.emplace_back(logits.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::size_t>(m.hp.n_vocab)), logits.begin() + static_cast<std::ptrdiff_t>((r + 1) * static_cast<std::size_t>(m.hp.n_vocab)));
  }
  return out;
}

void check_against_reference(const synth_shape& shape) {
  const auto sm = build(shape, 7);
  const auto file = gguf_file::open_memory(sm.bytes, shape.arch + "-synthetic");
  const model m = model::load(file);
  CHECK(model_arch_name(m.hp.arch) == shape.arch);
  const std::vector<std::int32_t> tokens = {3, 17, 42, 5, 63, 0, 8, 21, 9};
  const auto ref = reference_forward(sm, tokens);
  for (kv_type type : {kv_type::f32, kv_type::f16}) {
    const auto ours = engine_forward(m, tokens, type);
    // F32 cache: float vs double rounding only. F16 cache: K/V rounded to 11 bits.
    const double tol = type == kv_type::f32 ? 2e-4 : 2e-2;
    double worst = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t)
      for (std::size_t v = 0; v < ref[t].size(); ++v) worst = std::max(worst, std::abs(ours[t][v] - ref[t][v]));
    CAPTURE(shape.arch);
    CAPTURE(type == kv_type::f32 ? "f32 cache" : "f16 cache");
    CHECK(worst <= tol);
  }
}

}  // namespace

TEST_CASE("llama (GQA, adjacent-pair RoPE) forward equals the naive reference") {
  synth_shape s;
  s.arch = "llama";
  check_against_reference(s);
  s.rope_scale_factor = 4.0f;  // linear RoPE scaling
  s.rope_base = 500000.0f;
  check_against_reference(s);
}

TEST_CASE("qwen2 (QKV bias, NeoX RoPE) forward equals the naive reference") {
  synth_shape s;
  s.arch = "qwen2";
  check_against_reference(s);
}

TEST_CASE("qwen3 (Q/K RMSNorm, head_dim != n_embd/n_head, tied output) forward equals the naive reference") {
  synth_shape s;
  s.arch = "qwen3";
  s.head_dim = 16;  // n_head * head_dim = 64 != n_embd 32, as in Qwen3-0.6B (2048 vs 1024)
  s.rope_base = 1000000.0f;
  check_against_reference(s);
  const auto sm = build(s, 1);
  const auto file = gguf_file::open_memory(sm.bytes, "qwen3-synthetic");
  const model m = model::load(file);
  CHECK(m.hp.head_dim_k == 16);
  CHECK(m.output.data == m.tok_embd.data);
}

TEST_CASE("loader errors name the architecture list and the missing tensor") {
  synth_shape s;
  s.arch = "gpt2";
  auto sm = build(s, 1);
  CHECK_THROWS_WITH_AS(model::load(gguf_file::open_memory(sm.bytes, "x.gguf")),
                       doctest::Contains("supported: llama, qwen2, qwen3"), huashan::input_error);
  // qwen2 requires the Q/K/V biases: a llama-shaped file labelled qwen2 lacks them.
  gguf_writer wr;
  s.arch = "llama";
  sm = build(s, 1);
  auto f = gguf_file::open_memory(sm.bytes, "y.gguf");
  for (const auto& kv : f.metadata()) {
    if (kv.key.rfind("llama.", 0) == 0) {
      const std::string key = "qwen2." + std::string(kv.key.substr(6));
      if (auto v = kv.value.as_int()) wr.set_u32(key, static_cast<std::uint32_t>(*v));
      else if (auto d = kv.value.as_float()) wr.set_f32(key, static_cast<float>(*d));
    }
  }
  wr.set_string("general.architecture", "qwen2");
  for (const auto& t : f.tensors()) {
    std::vector<std::int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    wr.add_tensor(t.name, t.type, ne, std::span<const std::byte>(static_cast<const std::byte*>(t.data), t.n_bytes));
  }
  const auto bytes = wr.to_bytes();
  CHECK_THROWS_WITH_AS(model::load(gguf_file::open_memory(bytes, "z.gguf")), doctest::Contains("blk.0.attn_q.bias"),
                       huashan::input_error);
}

TEST_CASE("RoPE: rotated dot products depend only on the relative position") {
  for (rope_layout layout : {rope_layout::normal, rope_layout::neox}) {
    rope_params p;
    p.layout = layout;
    p.n_rot = 16;
    p.freq_base = 10000.0f;
    std::mt19937 gen(3);
    std::normal_distribution<float> nd;
    std::vector<float> q(16), k(16);
    for (auto& x : q) x = nd(gen);
    for (auto& x : k) x = nd(gen);
    auto rotated_dot = [&](int pq, int pk) {
      std::vector<float> a = q, b = k, cs(16);
      rope_cos_sin(p, pq, cs.data());
      rope_apply(p, cs.data(), a.data());
      rope_cos_sin(p, pk, cs.data());
      rope_apply(p, cs.data(), b.data());
      double d = 0;
      for (int i = 0; i < 16; ++i) d += a[static_cast<std::size_t>(i)] * b[static_cast<std::size_t>(i)];
      return d;
    };
    CHECK(rotated_dot(7, 3) == doctest::Approx(rotated_dot(104, 100)).epsilon(1e-4));
    CHECK(rotated_dot(0, 0) == doctest::Approx(rotated_dot(50, 50)).epsilon(1e-4));
    // Rotation keeps the norm.
    std::vector<float> a = q, cs(16);
    rope_cos_sin(p, 33, cs.data());
    rope_apply(p, cs.data(), a.data());
    double n0 = 0, n1 = 0;
    for (int i = 0; i < 16; ++i) {
      n0 += q[static_cast<std::size_t>(i)] * q[static_cast<std::size_t>(i)];
      n1 += a[static_cast<std::size_t>(i)] * a[static_cast<std::size_t>(i)];
    }
    CHECK(n1 == doctest::Approx(n0).epsilon(1e-5));
  }
}
