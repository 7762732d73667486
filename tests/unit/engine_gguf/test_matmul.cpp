// matmul against the plain reference (dequantize rows, dot in double) for
// batch 1 and batch 16 on every weight type; get_rows; the thread pool.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "fixtures.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/thread_pool.hpp"

using namespace huashan;
using namespace huashan::engine;

TEST_CASE("thread_pool: parallel_for covers every index once, run reaches every thread, errors propagate") {
  for (int threads : {1, 2, 3}) {
    thread_pool pool(threads);
    CHECK(pool.size() == threads);
    for (std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{7}, std::int64_t{1000}}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      for (int rep = 0; rep < 20; ++rep) {
        pool.parallel_for(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
        });
      }
      for (auto& h : hits) CHECK(h.load() == 20);
    }
    // Chunks: contiguous, at least `grain` long except the one that ends at n.
    for (std::int64_t grain : {std::int64_t{1}, std::int64_t{5}, std::int64_t{64}}) {
      std::mutex m;
      std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
      pool.parallel_for(1000, [&](std::int64_t b, std::int64_t e) {
        std::lock_guard<std::mutex> lock(m);
        chunks.emplace_back(b, e);
      }, grain);
      std::sort(chunks.begin(), chunks.end());
      std::int64_t covered = 0;
      for (const auto& [b, e] : chunks) {
        CHECK(b == covered);
        CHECK(e > b);
        if (e != 1000) CHECK(e - b >= grain);
        covered = e;
      }
      CHECK(covered == 1000);
    }
    std::atomic<int> mask{0};
    pool.run([&](int i, int nt) {
      CHECK(nt == threads);
      mask |= 1 << i;
    });
    CHECK(mask.load() == (1 << threads) - 1);
    CHECK_THROWS_AS(pool.parallel_for(100, [](std::int64_t, std::int64_t e) {
      if (e > 50) throw std::runtime_error("boom");  // the chunk holding index 50
    }),
                    std::runtime_error);
    // Still usable after an exception.
    std::atomic<std::int64_t> sum{0};
    pool.parallel_for(100, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) sum += i;
    });
    CHECK(sum.load() == 4950);
  }
}

namespace {

struct weight {
  std::vector<std::byte> bytes;
  tensor_view view;
};

weight make_weight(tensor_type t, std::int64_t n_in, std::int64_t n_out, std::uint32_t seed) {
  weight w;
  const auto f = test::gaussian(static_cast<std::size_t>(n_in * n_out), seed, 0.02f);
  w.bytes = test::quantized(t, f, n_in);
  w.view.name = "w";
  w.view.type = t;
  w.view.n_dims = 2;
  w.view.ne = {n_in, n_out, 1, 1};
  w.view.data = w.bytes.data();
  w.view.n_bytes = w.bytes.size();
  return w;
}

}  // namespace

// Tolerance: matmul's activations are quantized to q8_0/q8_k for quantized
// weights, the reference uses them in float, so the difference is that 8-bit
// rounding: |Δ| <= 0.01 · sqrt(Σ_i (w_i x_i)^2 · n) ... bounded here simply by
// 2 % of Σ|w_i x_i| (float types: 1e-5).
TEST_CASE("matmul equals the dequantize-then-dot reference, batch 1 and 16") {
  thread_pool pool(3);
  constexpr std::int64_t n_in = 512, n_out = 67;
  for (auto t : {tensor_type::f32, tensor_type::f16, tensor_type::bf16, tensor_type::q8_0, tensor_type::q4_0,
                 tensor_type::q4_k, tensor_type::q6_k}) {
    const weight w = make_weight(t, n_in, n_out, 5);
    for (std::int64_t n_tokens : {std::int64_t{1}, std::int64_t{16}, std::int64_t{70}}) {
      CAPTURE(traits_of(t).name);
      CAPTURE(n_tokens);
      const auto x = test::gaussian(static_cast<std::size_t>(n_in * n_tokens), 6);
      std::vector<float> y(static_cast<std::size_t>(n_out * n_tokens)), ref(y.size());
      matmul(w.view, x.data(), n_tokens, y.data(), pool);
      matmul_reference(w.view, x.data(), n_tokens, ref.data());
      std::vector<float> row(n_in);
      const bool quantized_x = vec_dot_type(t) != tensor_type::f32;
      for (std::int64_t o = 0; o < n_out; ++o) {
        dequantize_row(t, w.view.row(o), row.data(), n_in);
        for (std::int64_t tk = 0; tk < n_tokens; ++tk) {
          double scale = 0.0;
          for (std::int64_t i = 0; i < n_in; ++i) scale += std::fabs(row[i] * x[tk * n_in + i]);
          const double tol = (quantized_x ? 2e-2 : 1e-5) * scale + 1e-9;
          REQUIRE(std::fabs(y[tk * n_out + o] - ref[tk * n_out + o]) <= tol);
        }
      }
      // Batched results equal the per-token results bit for bit (the four-token
      // kernels repeat the one-token arithmetic): the model's batch invariance.
      if (n_tokens > 1) {
        std::vector<float> one(n_out);
        for (std::int64_t tk = 0; tk < n_tokens; ++tk) {
          matmul(w.view, x.data() + tk * n_in, 1, one.data(), pool);
          for (std::int64_t o = 0; o < n_out; ++o) REQUIRE(one[o] == y[tk * n_out + o]);
        }
      }
    }
  }
}

// The sixteen-row packed products (AVX-512) for q8_0, q4_k, q6_k and f16: same
// tolerance against the reference as the one-row kernels, equal to the
// unpacked matmul within float summation order, and batch-invariant bit for
// bit (1 token, 5, 70: a partial token tile and more than one 64-token tile).
TEST_CASE("packed matmul equals the reference and does not depend on the batch") {
  if (!packed_product_available()) {
    MESSAGE("no AVX-512 VNNI on this CPU: the packed products are not used here");
    return;
  }
  thread_pool pool(3);
  constexpr std::int64_t n_in = 1024, n_out = 80;
  for (tensor_type type : {tensor_type::q8_0, tensor_type::q4_k, tensor_type::q6_k, tensor_type::f16}) {
    CAPTURE(traits_of(type).name);
    weight w = make_weight(type, n_in, n_out, 17);
    REQUIRE(packable_rows16(w.view));
    std::vector<std::byte> packed(packed_rows16_bytes(w.view));
    pack_rows16(w.view, packed.data());
    tensor_view packed_view = w.view;
    packed_view.packed = packed.data();
    std::vector<float> per_token(static_cast<std::size_t>(n_out));
    for (std::int64_t n_tokens : {std::int64_t{1}, std::int64_t{5}, std::int64_t{70}}) {
      CAPTURE(n_tokens);
      auto x = test::gaussian(static_cast<std::size_t>(n_in * n_tokens), 18);
      x[3] = -40.0f;  // a block whose extreme value quantizes to -127
      std::vector<float> y(static_cast<std::size_t>(n_out * n_tokens)), plain(y.size()), ref(y.size());
      matmul(packed_view, x.data(), n_tokens, y.data(), pool);
      matmul(w.view, x.data(), n_tokens, plain.data(), pool);
      matmul_reference(w.view, x.data(), n_tokens, ref.data());
      std::vector<float> row(n_in);
      for (std::int64_t o = 0; o < n_out; ++o) {
        dequantize_row(type, w.view.row(o), row.data(), n_in);
        for (std::int64_t tk = 0; tk < n_tokens; ++tk) {
          double scale = 0.0;
          for (std::int64_t i = 0; i < n_in; ++i) scale += std::fabs(row[i] * x[tk * n_in + i]);
          const auto at = static_cast<std::size_t>(tk * n_out + o);
          REQUIRE(std::fabs(y[at] - ref[at]) <= 2e-2 * scale + 1e-9);
          REQUIRE(std::fabs(y[at] - plain[at]) <= 1e-5 * scale + 1e-9);  // same integers, other float order
        }
      }
      for (std::int64_t tk = 0; tk < n_tokens; ++tk) {
        matmul(packed_view, x.data() + tk * n_in, 1, per_token.data(), pool);
        for (std::int64_t o = 0; o < n_out; ++o)
          REQUIRE(per_token[static_cast<std::size_t>(o)] == y[static_cast<std::size_t>(tk * n_out + o)]);
      }
    }
  }
  const weight odd = make_weight(tensor_type::q8_0, 64, 24, 3);
  CHECK_FALSE(packable_rows16(odd.view));
  std::vector<std::byte> nowhere(odd.view.n_bytes);
  CHECK_THROWS_WITH_AS(pack_rows16(odd.view, nowhere.data()), doctest::Contains("multiple of 16 rows"), input_error);
  const weight f32 = make_weight(tensor_type::f32, 64, 32, 3);
  CHECK_FALSE(packable_rows16(f32.view));
}

// q, k and v in one call: the same bits as three matmul calls, whether the
// weights share a packed activation format (q4_k with q6_k: one fused loop),
// have different ones (q8_0 next to q4_k) or are not packed at all.
TEST_CASE("matmul_shared_input gives each weight's own matmul result") {
  thread_pool pool(2);
  constexpr std::int64_t n_in = 512, n_tokens = 11;
  const auto x = test::gaussian(static_cast<std::size_t>(n_in * n_tokens), 31);
  const tensor_type groups[][3] = {{tensor_type::q4_k, tensor_type::q6_k, tensor_type::q4_k},
                                   {tensor_type::q8_0, tensor_type::q4_k, tensor_type::f16},
                                   {tensor_type::f32, tensor_type::q8_0, tensor_type::bf16}};
  const std::int64_t n_outs[3] = {48, 16, 32};
  for (const auto& types : groups) {
    std::vector<weight> ws;
    std::vector<std::vector<std::byte>> packed(3);
    std::vector<tensor_view> views;
    for (int i = 0; i < 3; ++i) {
      ws.push_back(make_weight(types[i], n_in, n_outs[i], 40 + static_cast<std::uint32_t>(i)));
      tensor_view v = ws.back().view;
      if (packed_product_available() && packable_rows16(v)) {
        packed[static_cast<std::size_t>(i)].resize(packed_rows16_bytes(v));
        pack_rows16(v, packed[static_cast<std::size_t>(i)].data());
        v.packed = packed[static_cast<std::size_t>(i)].data();
      }
      views.push_back(v);
    }
    std::vector<std::vector<float>> together(3), alone(3);
    std::vector<matmul_output> outs;
    for (int i = 0; i < 3; ++i) {
      together[static_cast<std::size_t>(i)].assign(static_cast<std::size_t>(n_outs[i] * n_tokens), -1.0f);
      alone[static_cast<std::size_t>(i)].resize(static_cast<std::size_t>(n_outs[i] * n_tokens));
      outs.push_back({&views[static_cast<std::size_t>(i)], together[static_cast<std::size_t>(i)].data()});
      matmul(views[static_cast<std::size_t>(i)], x.data(), n_tokens, alone[static_cast<std::size_t>(i)].data(), pool);
    }
    matmul_shared_input(outs, x.data(), n_tokens, pool);
    for (int i = 0; i < 3; ++i) {
      CAPTURE(traits_of(types[i]).name);
      CHECK(together[static_cast<std::size_t>(i)] == alone[static_cast<std::size_t>(i)]);
    }
  }
}

// f32 rows flagged as prompt rows take llama.cpp's prompt order
// (dot_f32_prompt_kernel), the others its single-token order (dot_kernel), each
// row by its own flag whatever else is in the call; shapes that llama.cpp's
// prompt path refuses, and other types, ignore the flags.
TEST_CASE("matmul: f32 prompt rows in the prompt order, other rows in the single-token order") {
  thread_pool pool(2);
  constexpr std::int64_t n_in = 72, n_out = 12, n_tokens = 6;
  const weight w = make_weight(tensor_type::f32, n_in, n_out, 21);
  REQUIRE(prompt_order_matters(w.view));
  const auto x = test::gaussian(static_cast<std::size_t>(n_in * n_tokens), 22);
  const std::uint8_t flags[n_tokens] = {1, 0, 1, 1, 0, 0};
  std::vector<float> y(static_cast<std::size_t>(n_out * n_tokens));
  matmul(w.view, x.data(), n_tokens, y.data(), pool, flags);
  bool orders_differ = false;
  for (std::int64_t t = 0; t < n_tokens; ++t)
    for (std::int64_t o = 0; o < n_out; ++o) {
      const float prompt = dot_f32_prompt_kernel()(w.view.row(o), x.data() + t * n_in, n_in);
      const float single = dot_kernel(tensor_type::f32)(w.view.row(o), x.data() + t * n_in, n_in);
      CHECK(y[static_cast<std::size_t>(t * n_out + o)] == (flags[t] != 0 ? prompt : single));
      orders_differ = orders_differ || prompt != single;
      // The AVX2 kernel is the scalar emulation's bits.
      CHECK(scalar::dot_f32_prompt(w.view.row(o), x.data() + t * n_in, n_in) == prompt);
    }
  CHECK(orders_differ);  // otherwise this test shows nothing
  // One row at a time: the same bits for each flag.
  std::vector<float> one(static_cast<std::size_t>(n_out));
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    matmul(w.view, x.data() + t * n_in, 1, one.data(), pool, &flags[t]);
    for (std::int64_t o = 0; o < n_out; ++o) CHECK(one[static_cast<std::size_t>(o)] == y[static_cast<std::size_t>(t * n_out + o)]);
  }
  CHECK_FALSE(prompt_order_matters(make_weight(tensor_type::f32, 68, 12, 3).view));  // 68 % 8 != 0
  CHECK_FALSE(prompt_order_matters(make_weight(tensor_type::f32, 72, 10, 3).view));  // 10 % 4 != 0
  CHECK_FALSE(prompt_order_matters(make_weight(tensor_type::f16, 72, 12, 3).view));
}

// The eight-row F32 kernel (AVX-512) against the one-row kernels it stands in
// for: every row the same bits in both orders, for rows with and without a
// tail past the last 32 elements (stories260K's are 64, 172 and 512 long).
TEST_CASE("dot8_f32: eight rows at once, each with the one-row kernel's bits") {
  const dot8_f32_fn dot8 = dot8_f32_kernel();
  if (dot8 == nullptr) {
    MESSAGE("no AVX-512 on this CPU: matmul uses the one-row kernels");
    return;
  }
  for (const std::int64_t n : {8, 40, 64, 96, 172, 200}) {
    CAPTURE(n);
    const std::int64_t stride = n + 3;  // rows need not be adjacent
    const auto w = test::gaussian(static_cast<std::size_t>(8 * stride), 31);
    const auto x = test::gaussian(static_cast<std::size_t>(n), 32);
    for (const bool prompt_order : {false, true}) {
      if (prompt_order && n % 8 != 0) continue;
      float out[8];
      dot8(w.data(), stride, x.data(), n, prompt_order, out);
      for (int r = 0; r < 8; ++r) {
        const float* row = w.data() + r * stride;
        const float one = prompt_order ? dot_f32_prompt_kernel()(row, x.data(), n) : dot_kernel(tensor_type::f32)(row, x.data(), n);
        CHECK(std::memcmp(&out[r], &one, sizeof one) == 0);
      }
    }
  }
}

TEST_CASE("get_rows dequantizes the asked rows and checks ids") {
  const weight w = make_weight(tensor_type::q8_0, 64, 10, 9);
  std::vector<float> out(3 * 64);
  const std::int32_t ids[] = {9, 0, 9};
  get_rows(w.view, ids, out.data());
  std::vector<float> expect(64);
  dequantize_row(tensor_type::q8_0, w.view.row(9), expect.data(), 64);
  for (int i = 0; i < 64; ++i) {
    CHECK(out[i] == expect[i]);
    CHECK(out[128 + i] == expect[i]);
  }
  const std::int32_t bad[] = {10};
  CHECK_THROWS_WITH_AS(get_rows(w.view, bad, out.data()), doctest::Contains("id 10"), input_error);
  weight u = make_weight(tensor_type::q8_0, 64, 2, 1);
  u.view.type = tensor_type::q5_0;
  std::vector<float> y(2);
  thread_pool pool(1);
  const std::vector<float> x(64, 1.0f);
  CHECK_THROWS_WITH_AS(matmul(u.view, x.data(), 1, y.data(), pool), doctest::Contains("no CPU kernels"), input_error);
}
