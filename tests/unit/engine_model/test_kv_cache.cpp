// Paged KV cache bookkeeping: block accounting, reference counts, prefix
// publication and lookup, LRU eviction of cached blocks, F16 conversion; and
// attention's prefetch and F16-vs-F32 agreement (every attention variant
// against attend_reference, bit for bit: tests/unit/engine_ops).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/attention.hpp"
#include "harness/engine/kv_cache.hpp"
#include "harness/engine/kv_half.hpp"

using namespace huashan::engine;

namespace {
kv_cache make_cache(std::int32_t n_blocks, std::int32_t block_tokens = 4) {
  kv_cache_shape shape{2, 2, 8, 8};
  kv_cache_config cfg;
  cfg.block_tokens = block_tokens;
  cfg.type = kv_type::f32;
  // K+V per block: 2 layers x (4 tokens x 16 floats) x 2 x 4 bytes
  const std::size_t block_bytes = 2u * 2u * static_cast<std::size_t>(block_tokens) * 16u * 4u;
  cfg.memory_budget_bytes = block_bytes * static_cast<std::size_t>(n_blocks);
  return kv_cache(shape, cfg);
}
std::vector<std::int32_t> iota(std::int32_t n, std::int32_t from = 10) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = from + i;
  return v;
}
// Attention over the second KV head of `seq`'s first n_kv positions, head size hd.
attention_args second_head_args(const kv_cache& c, std::int32_t seq, std::int32_t n_kv, std::int32_t hd) {
  attention_args a;
  a.cache = &c;
  a.blocks = &c.block_table(seq);
  a.n_kv = n_kv;
  a.kv_head = 1;
  a.head_dim_k = hd;
  a.head_dim_v = hd;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  return a;
}

// A one-layer F16 cache of two KV heads of size hd, 16 tokens a block.
kv_cache two_head_cache(std::int32_t hd, std::size_t budget_bytes) {
  kv_cache_config cfg;
  cfg.block_tokens = 16;
  cfg.type = kv_type::f16;
  cfg.memory_budget_bytes = budget_bytes;
  return kv_cache(kv_cache_shape{1, 2, hd, hd}, cfg);
}

// Positions 0 .. n-1 of seq (reserved) get N(0, 1) keys and values, both heads.
void fill_normal(kv_cache& c, std::int32_t seq, std::int32_t n, std::int32_t hd, std::mt19937& gen) {
  std::normal_distribution<float> nd;
  for (std::int32_t p = 0; p < n; ++p) {
    const std::int32_t b = c.block_table(seq)[static_cast<std::size_t>(p / 16)];
    for (int i = 0; i < 2 * hd; ++i) {
      static_cast<std::uint16_t*>(c.k_row(0, b, p % 16))[i] = kv::float_to_half(nd(gen));
      static_cast<std::uint16_t*>(c.v_row(0, b, p % 16))[i] = kv::float_to_half(nd(gen));
    }
  }
}

}  // namespace

TEST_CASE("kv cache: the budget sets the block count; a too small budget is an error") {
  auto c = make_cache(10);
  CHECK(c.n_blocks() == 10);
  CHECK(c.n_blocks_available() == 10);
  CHECK(c.blocks_for(9) == 3);
  kv_cache_config tiny;
  tiny.memory_budget_bytes = 16;
  CHECK_THROWS_AS(kv_cache(kv_cache_shape{2, 2, 8, 8}, tiny), huashan::input_error);
}

TEST_CASE("kv cache: reserve, release and reuse of published prefix blocks") {
  auto c = make_cache(8);
  const auto tokens = iota(10);
  const std::int32_t a = c.add_sequence();
  REQUIRE(c.reserve(a, 10));
  CHECK(c.block_table(a).size() == 3);
  CHECK(c.n_blocks_available() == 5);
  c.commit(a, tokens);
  CHECK(c.n_past(a) == 10);

  // Distinct rows of distinct blocks do not overlap.
  CHECK(c.k_row(0, c.block_table(a)[0], 1) != c.k_row(0, c.block_table(a)[1], 1));
  CHECK(c.k_row(1, 0, 0) != c.v_row(1, 0, 0));

  // A second sequence with the same first 8 tokens attaches the 2 full blocks.
  const std::int32_t b = c.add_sequence();
  CHECK(c.reuse_prefix(b, tokens, 9) == 8);
  CHECK(c.block_table(b)[0] == c.block_table(a)[0]);
  CHECK(c.block_table(b)[1] == c.block_table(a)[1]);
  CHECK(c.n_past(b) == 8);
  CHECK(c.stats().prefix_hit_blocks == 2);

  // A different second block stops the match after the first.
  auto other = tokens;
  other[5] = 999;
  const std::int32_t d = c.add_sequence();
  CHECK(c.reuse_prefix(d, other, 9) == 4);

  // max_tokens caps the match to whole blocks below it.
  const std::int32_t e = c.add_sequence();
  CHECK(c.reuse_prefix(e, tokens, 7) == 4);

  // Released published blocks stay cached (available, still reusable) until evicted.
  c.release_sequence(a);
  c.release_sequence(b);
  c.release_sequence(d);
  c.release_sequence(e);
  CHECK(c.n_blocks_available() == 8);
  const std::int32_t f = c.add_sequence();
  CHECK(c.reuse_prefix(f, tokens, 10) == 8);
  c.release_sequence(f);

  // Taking every block evicts the cached ones; the prefix is then gone.
  const std::int32_t g = c.add_sequence();
  REQUIRE(c.reserve(g, 32));
  CHECK(c.n_blocks_available() == 0);
  CHECK(c.stats().evictions == 2);
  CHECK_FALSE(c.reserve(g, 36));
  c.release_sequence(g);
  const std::int32_t h = c.add_sequence();
  CHECK(c.reuse_prefix(h, tokens, 10) == 0);
}

TEST_CASE("kv cache: half conversion round-trips and rounds to nearest even") {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f}) {
    CHECK(kv::half_to_float(kv::float_to_half(f)) == f);
  }
  CHECK(std::isinf(kv::half_to_float(kv::float_to_half(1e6f))));
  CHECK(std::isnan(kv::half_to_float(kv::float_to_half(NAN))));
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
  CHECK(kv::half_to_float(kv::float_to_half(1.0f + 0x1.0p-11f)) == 1.0f);
  CHECK(kv::half_to_float(kv::float_to_half(1.0f + 3 * 0x1.0p-11f)) == 1.0f + 0x1.0p-9f);
  // Relative error of normal values is at most 2^-11.
  for (int i = 1; i < 2000; ++i) {
    const float f = static_cast<float>(i) * 0.7391f - 700.0f;
    CHECK(std::abs(kv::half_to_float(kv::float_to_half(f)) - f) <= std::abs(f) * 0x1.0p-11f + 1e-7f);
  }
}

// The row conversion the cache stores with (F16C where present) gives
// float_to_half's bits for every value but NaN payloads: normal, subnormal,
// ties, overflow, signed zero; whole groups of eight and a tail.
TEST_CASE("kv cache: floats_to_halves equals float_to_half element by element") {
  std::vector<float> values = {0.0f, -0.0f, 1.0f + 0x1.0p-11f, 1.0f + 3 * 0x1.0p-11f, 65504.0f, 65520.0f, 1e6f, -1e6f,
                               6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 1e-9f, -3.0e-6f, INFINITY, -INFINITY};
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::uint32_t> bits;
  while (values.size() < 4099) {
    const std::uint32_t u = bits(rng) & 0xbfffffffu;  // no NaNs or huge exponents: exponents up to 2^1
    float f;
    std::memcpy(&f, &u, 4);
    values.push_back(f * 3.0e4f);
  }
  std::vector<std::uint16_t> out(values.size());
  kv::floats_to_halves(values.data(), out.data(), static_cast<std::int64_t>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(values[i]);
    CHECK(out[i] == kv::float_to_half(values[i]));
  }
}

// Naming the next row to fetch (a batch's next sequence, shorter or longer
// than this one) only prefetches: every kernel that reads it gives the bits
// it gives without (head sizes 128 and 64: AVX-512 pair and single kernels;
// 72: the AVX2 ones).
TEST_CASE("attention: fetching the next row's cache changes no bit") {
  for (const std::int32_t hd : {128, 64, 72}) {
    for (const std::int32_t n_q : {1, 2}) {
      for (const std::int32_t next_n_kv : {20, 90}) {
        CAPTURE(hd);
        CAPTURE(n_q);
        CAPTURE(next_n_kv);
        kv_cache c = two_head_cache(hd, 8u << 20);
        const std::int32_t seq = c.add_sequence();
        const std::int32_t next = c.add_sequence();
        REQUIRE(c.reserve(seq, 53));
        REQUIRE(c.reserve(next, next_n_kv));
        std::mt19937 gen(13);
        std::normal_distribution<float> nd;
        fill_normal(c, seq, 53, hd, gen);
        fill_normal(c, next, next_n_kv, hd, gen);
        const attention_args plain = second_head_args(c, seq, 53, hd);
        attention_args fetching = plain;
        fetching.next_blocks = &c.block_table(next);
        fetching.next_n_kv = next_n_kv;
        fetching.next_kv_head = 0;
        std::vector<float> q(static_cast<std::size_t>(n_q * hd));
        for (auto& x : q) x = 2.0f * nd(gen);
        std::vector<float> scores(2 * 53), without(q.size()), with(q.size());
        attend_group(plain, q.data(), n_q, scores.data(), without.data());
        attend_group(fetching, q.data(), n_q, scores.data(), with.data());
        CHECK(std::memcmp(without.data(), with.data(), without.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("kv cache: commit publishes only the blocks that end within the publish limit") {
  kv_cache_config cfg;
  cfg.block_tokens = 4;
  cfg.memory_budget_bytes = 1u << 20;
  kv_cache c(kv_cache_shape{1, 1, 8, 8}, cfg);
  const std::vector<std::int32_t> tokens{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::int32_t a = c.add_sequence();
  REQUIRE(c.reserve(a, 12));
  c.commit(a, std::span(tokens).subspan(0, 6), 6);  // block 0 (tokens 0-3) ends within 6
  c.commit(a, std::span(tokens).subspan(6, 6), 6);  // blocks 1 and 2 end past it
  const std::int32_t b = c.add_sequence();
  CHECK(c.reuse_prefix(b, tokens, 12) == 4);
}

TEST_CASE("attention: the dispatched kernel agrees with the scalar reference; F16 close to exact F32") {
  // One sequence of 70 positions, 2 KV heads, random K/V; head sizes 128
  // (qwen3's) and 64 (the register-held AVX-512 V pass), 72 (the 8-wide loop
  // and a 32-element dot with an 8-element tail), 8 and 24 (shorter than the
  // dot's step: exact products added in double, the fused one-pass kernel).
  for (const std::int32_t hd : {128, 64, 72, 8, 24}) {
    CAPTURE(hd);
    const kv_cache_shape shape{1, 2, hd, hd};
    std::mt19937 gen(5);
    std::normal_distribution<float> nd;
    std::vector<float> q(static_cast<std::size_t>(hd));
    for (auto& x : q) x = nd(gen);
    std::vector<std::vector<float>> outs;
    for (kv_type type : {kv_type::f16, kv_type::f32}) {
      kv_cache_config cfg;
      cfg.block_tokens = 16;
      cfg.type = type;
      cfg.memory_budget_bytes = 4u << 20;
      kv_cache c(shape, cfg);
      const std::int32_t seq = c.add_sequence();
      REQUIRE(c.reserve(seq, 70));
      std::mt19937 kv_gen(9);
      for (std::int32_t p = 0; p < 70; ++p) {
        const std::int32_t b = c.block_table(seq)[static_cast<std::size_t>(p / 16)];
        for (int i = 0; i < 2 * hd; ++i) {
          const float k = nd(kv_gen), v = nd(kv_gen);
          if (type == kv_type::f16) {
            static_cast<std::uint16_t*>(c.k_row(0, b, p % 16))[i] = kv::float_to_half(k);
            static_cast<std::uint16_t*>(c.v_row(0, b, p % 16))[i] = kv::float_to_half(v);
          } else {
            static_cast<float*>(c.k_row(0, b, p % 16))[i] = kv::half_to_float(kv::float_to_half(k));
            static_cast<float*>(c.v_row(0, b, p % 16))[i] = kv::half_to_float(kv::float_to_half(v));
          }
        }
      }
      const attention_args a = second_head_args(c, seq, 70, hd);
      std::vector<float> scores(70), fast(static_cast<std::size_t>(hd)), ref(fast.size());
      attend(a, q.data(), scores.data(), fast.data());
      attend_reference(a, q.data(), scores.data(), ref.data());
      for (std::size_t d = 0; d < fast.size(); ++d) {
        CAPTURE(d);
        if (type == kv_type::f16) {
          // Same exact products, same F16 roundings of the V accumulator: the
          // SIMD kernels repeat the scalar emulation of ggml's flash attention.
          CHECK(fast[d] == ref[d]);
        } else {
          CHECK(fast[d] == doctest::Approx(ref[d]).epsilon(2e-3).scale(1.0));
        }
      }
      outs.push_back(ref);
    }
    // Same (F16-representable) K/V: F16-accumulated attention within F16 precision of exact attention.
    for (std::size_t d = 0; d < outs[0].size(); ++d) CHECK(std::abs(outs[0][d] - outs[1][d]) <= 5e-3);
  }
}
