// Forward pass of llama/qwen2/qwen3 on the CPU: weight products through matmul()
// (threaded over output rows), everything else per row, threaded over rows or
// (row, head) pairs.
#include "harness/engine/llama_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "harness/engine/attention.hpp"
#include "harness/engine/kv_half.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/norms.hpp"
#include "harness/engine/rope.hpp"

namespace huashan::engine {

namespace {
// Weights up to this size stay in the cores' caches, so that each thread of
// forward_split can read all of them for its own rows at little cost.
constexpr std::size_t split_rows_max_weight_bytes = std::size_t{8} << 20;
}  // namespace

llama_graph::llama_graph(const model& m, thread_pool& pool) : m_(m), pool_(pool) {
  std::size_t weight_bytes = m_.output.n_bytes;
  for (const auto& l : m_.layers)
    for (const tensor_view* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) {
      prompt_order_matters_ = prompt_order_matters_ || engine::prompt_order_matters(*w);
      weight_bytes += w->n_bytes;
    }
  small_model_ = weight_bytes <= split_rows_max_weight_bytes;
}

thread_pool& llama_graph::pool_for(std::int64_t work) { return work < (1 << 16) ? serial_pool_ : pool_; }

namespace {
// Multiply-adds of y = x Wᵀ for `n` rows.
std::int64_t product_work(const tensor_view& w, std::int64_t n) { return w.ne[0] * w.ne[1] * n; }
}  // namespace

void llama_graph::ensure_capacity(std::int64_t n) {
  if (n <= capacity_) return;
  const auto& hp = m_.hp;
  auto sz = [n](std::int64_t width) { return static_cast<std::size_t>(n * width); };
  x_.resize(sz(hp.n_embd));
  h_.resize(sz(hp.n_embd));
  q_.resize(sz(static_cast<std::int64_t>(hp.n_head) * hp.head_dim_k));
  k_.resize(sz(static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim_k));
  v_.resize(sz(static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim_v));
  att_.resize(sz(static_cast<std::int64_t>(hp.n_head) * hp.head_dim_v));
  o_.resize(sz(hp.n_embd));
  gate_.resize(sz(hp.n_ff));
  up_.resize(sz(hp.n_ff));
  ffn_out_.resize(sz(hp.n_embd));
  rope_cs_.resize(sz(hp.n_rot));
  capacity_ = n;
}

namespace {

void add_bias(float* y, const std::vector<float>& b, std::int64_t n_rows) {
  if (b.empty()) return;
  const std::size_t w = b.size();
  for (std::int64_t t = 0; t < n_rows; ++t)
    for (std::size_t i = 0; i < w; ++i) y[static_cast<std::size_t>(t) * w + i] += b[i];
}

void store_row(void* dst, const float* src, std::int32_t n, kv_type type) {
  if (type == kv_type::f32) {
    std::memcpy(dst, src, sizeof(float) * static_cast<std::size_t>(n));
  } else {
    kv::floats_to_halves(src, static_cast<std::uint16_t*>(dst), n);
  }
}

}  // namespace

// A small model's step is a few microseconds of work per layer and operation,
// so that the per-operation parallel loops below would spend much of it
// waking and waiting for threads (ten times a layer). Rows of different
// sequences do not depend on each other within a step, so here the rows are
// cut into shares of whole sequences, and the threads claim shares and run
// the entire pass for each alone, on graphs of their own. Two shares per
// thread, claimed as threads come free, so that a thread the machine
// descheduled holds up at most one share. Each row's operations are the ones
// it would get in any batch, so results keep their bits.
bool llama_graph::forward_split(std::span<const batch_row> rows, kv_cache& cache, std::vector<float>& logits) {
  const int n_threads = pool_.size();
  const std::size_t T = rows.size();
  if (!small_model_ || n_threads < 2 || T < 2 * static_cast<std::size_t>(n_threads)) return false;
  // Cut near k·T/shares, moved on to where a new sequence starts.
  const std::size_t shares = 2 * static_cast<std::size_t>(n_threads);
  std::vector<std::size_t> cuts{0};
  for (std::size_t k = 1; k < shares; ++k) {
    std::size_t c = std::max(cuts.back(), T * k / shares);
    while (c > 0 && c < T && rows[c].seq == rows[c - 1].seq) ++c;
    if (c > cuts.back() && c < T) cuts.push_back(c);
  }
  cuts.push_back(T);
  const std::size_t n_shares = cuts.size() - 1;
  // No share larger than a thread's even part of the rows (a long prompt
  // alone is better served by all threads), and no sequence in two shares
  // (its later rows need its earlier rows' K/V).
  std::int32_t max_seq = 0;
  for (const auto& r : rows) max_seq = std::max(max_seq, r.seq);
  std::vector<std::size_t> share_of(static_cast<std::size_t>(max_seq) + 1, n_shares);
  for (std::size_t k = 0; k < n_shares; ++k) {
    if ((cuts[k + 1] - cuts[k]) * static_cast<std::size_t>(n_threads) * 4 > T * 5) return false;
    for (std::size_t i = cuts[k]; i < cuts[k + 1]; ++i) {
      std::size_t& share = share_of[static_cast<std::size_t>(rows[i].seq)];
      if (share != n_shares && share != k) return false;
      share = k;
    }
  }
  while (parts_.size() < static_cast<std::size_t>(n_threads)) {
    part_pools_.push_back(std::make_unique<thread_pool>(1));
    parts_.push_back(std::make_unique<llama_graph>(m_, *part_pools_.back()));
    free_parts_.push_back(parts_.back().get());
  }
  if (part_logits_.size() < n_shares) part_logits_.resize(n_shares);
  pool_.parallel_for(static_cast<std::int64_t>(n_shares), [&](std::int64_t begin, std::int64_t end) {
    llama_graph* part = nullptr;
    {
      std::lock_guard<std::mutex> lock(parts_mutex_);
      part = free_parts_.back();
      free_parts_.pop_back();
    }
    struct give_back {
      llama_graph* part;
      llama_graph& owner;
      ~give_back() {
        std::lock_guard<std::mutex> lock(owner.parts_mutex_);
        owner.free_parts_.push_back(part);
      }
    } returned{part, *this};
    for (std::int64_t k = begin; k < end; ++k) {
      const auto share = static_cast<std::size_t>(k);
      part->forward(rows.subspan(cuts[share], cuts[share + 1] - cuts[share]), cache, part_logits_[share]);
    }
  });
  ++split_forward_calls_;
  logits.clear();
  for (std::size_t k = 0; k < n_shares; ++k) logits.insert(logits.end(), part_logits_[k].begin(), part_logits_[k].end());
  return true;
}

void llama_graph::forward(std::span<const batch_row> rows, kv_cache& cache, std::vector<float>& logits) {
  if (forward_split(rows, cache, logits)) return;
  const auto& hp = m_.hp;
  const auto T = static_cast<std::int64_t>(rows.size());
  ensure_capacity(T);
  const std::int64_t D = hp.n_embd;
  const std::int32_t hd_k = hp.head_dim_k;
  const std::int32_t hd_v = hp.head_dim_v;
  const std::int32_t n_head = hp.n_head;
  const std::int32_t n_kv = hp.n_head_kv;
  const std::int64_t q_w = static_cast<std::int64_t>(n_head) * hd_k;
  const std::int64_t k_w = static_cast<std::int64_t>(n_kv) * hd_k;
  const std::int64_t v_w = static_cast<std::int64_t>(n_kv) * hd_v;
  const std::int64_t a_w = static_cast<std::int64_t>(n_head) * hd_v;
  prompt_rows_.resize(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) prompt_rows_[static_cast<std::size_t>(t)] = rows[static_cast<std::size_t>(t)].prompt ? 1 : 0;
  const std::int32_t bt = cache.config().block_tokens;
  const kv_type kvt = cache.config().type;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd_k));
  const rope_params rp = rope_params_of(m_);

  // Embeddings: x [T, D].
  std::vector<std::int32_t> ids(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) {
    const std::int32_t id = rows[static_cast<std::size_t>(t)].token;
    if (id < 0 || id >= hp.n_vocab) {
      throw input_error(fmt::format("{}: token id {} is outside the vocabulary [0, {})", m_.name, id, hp.n_vocab));
    }
    ids[static_cast<std::size_t>(t)] = id;
  }
  get_rows(m_.tok_embd, ids, x_.data());

  // RoPE tables per row: rope_cs_ [T, n_rot] (cos, sin interleaved).
  for (std::int64_t t = 0; t < T; ++t) rope_cos_sin(rp, rows[static_cast<std::size_t>(t)].pos, &rope_cs_[static_cast<std::size_t>(t * hp.n_rot)]);

  // Grains keep small work on the calling thread: waking the pool costs more
  // than a few thousand multiply-adds (tiny models, single-token decode).
  constexpr std::int64_t min_work = 1 << 15;  // multiply-adds per task, roughly
  // A norm's sum of squares is a chain of dependent double adds (ggml's
  // order), some eight times the cost of as many multiply-adds.
  const std::int64_t row_grain = std::max<std::int64_t>(1, min_work / std::max<std::int64_t>(1, 8 * D));
  const std::int64_t head_row_grain = std::max<std::int64_t>(1, min_work / std::max<std::int64_t>(1, 8 * (q_w + k_w)));
  std::int32_t max_pos = 0;
  for (const auto& r : rows) max_pos = std::max(max_pos, r.pos);
  bool one_row_per_sequence = T > 1;
  for (std::size_t t = 1; t < rows.size() && one_row_per_sequence; ++t)
    one_row_per_sequence = rows[t].seq != rows[t - 1].seq;
  const std::int64_t head_grain =
      std::max<std::int64_t>(1, min_work / std::max<std::int64_t>(1, static_cast<std::int64_t>(max_pos + 1) * (hd_k + hd_v)));
  for (std::int32_t il = 0; il < hp.n_layer; ++il) {
    const layer_weights& L = m_.layers[static_cast<std::size_t>(il)];
    const auto& S = m_.small[static_cast<std::size_t>(il)];

    // h = rmsnorm(x) · attn_norm   [T, D]
    pool_.parallel_for(T, [&](std::int64_t b, std::int64_t e) {
      rms_norm_rows(&x_[static_cast<std::size_t>(b * D)], D, S.attn_norm.data(), D, e - b, hp.rms_eps, &h_[static_cast<std::size_t>(b * D)], D);
    }, row_grain);

    // q [T, n_head·hd_k], k [T, n_kv·hd_k], v [T, n_kv·hd_v]
    const matmul_output qkv[] = {{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}};
    matmul_shared_input(qkv, h_.data(), T,
                        pool_for(product_work(L.wq, T) + product_work(L.wk, T) + product_work(L.wv, T)),
                        prompt_rows_.data());
    add_bias(q_.data(), S.bq, T);
    add_bias(k_.data(), S.bk, T);
    add_bias(v_.data(), S.bv, T);

    // Per row: qwen3 head norms, RoPE, then K/V into the cache at (seq, pos).
    pool_.parallel_for(T, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t t = b; t < e; ++t) {
        const batch_row& r = rows[static_cast<std::size_t>(t)];
        float* qt = &q_[static_cast<std::size_t>(t * q_w)];
        float* kt = &k_[static_cast<std::size_t>(t * k_w)];
        const float* cs = &rope_cs_[static_cast<std::size_t>(t * hp.n_rot)];
        if (!S.q_norm.empty()) rms_norm_rows(qt, hd_k, S.q_norm.data(), hd_k, n_head, hp.rms_eps, qt, hd_k);
        if (!S.k_norm.empty()) rms_norm_rows(kt, hd_k, S.k_norm.data(), hd_k, n_kv, hp.rms_eps, kt, hd_k);
        for (std::int32_t h = 0; h < n_head; ++h) rope_apply(rp, cs, qt + static_cast<std::ptrdiff_t>(h) * hd_k);
        for (std::int32_t h = 0; h < n_kv; ++h) rope_apply(rp, cs, kt + static_cast<std::ptrdiff_t>(h) * hd_k);
        const std::int32_t block = cache.block_table(r.seq)[static_cast<std::size_t>(r.pos / bt)];
        store_row(cache.k_row(il, block, r.pos % bt), kt, static_cast<std::int32_t>(k_w), kvt);
        store_row(cache.v_row(il, block, r.pos % bt), &v_[static_cast<std::size_t>(t * v_w)], static_cast<std::int32_t>(v_w), kvt);
      }
    }, head_row_grain);

    // att [T, n_head·hd_v]: one task per (row, KV heads) with the query heads
    // that share them (grouped-query attention): one KV head per task, or all
    // of a row's where short heads run side by side. Rows of one batch may
    // attend to K/V written above by earlier rows of the same sequence.
    // Decoding (each row its own sequence's), each thread takes one run of
    // consecutive rows rather than the pool's four chunks, and its kernels
    // fetch the next row's cache while they compute this one's: a run's first
    // row is the one that waits for memory (batch-16 Q4_K decoding +2 to +13 %
    // in six interleaved pairs against two runs per thread, docs/perf.md).
    const std::int32_t group = n_head / n_kv;
    const std::int32_t span = attend_heads_span(cache, hd_k, hd_v, n_kv);
    const std::int64_t tasks_per_row = n_kv / span;
    const std::int64_t run_rows = one_row_per_sequence ? (T + pool_.size() - 1) / pool_.size() : 1;
    pool_.parallel_for(T * tasks_per_row, [&](std::int64_t b, std::int64_t e) {
      thread_local std::vector<float> scratch;
      for (std::int64_t i = b; i < e; ++i) {
        const std::int64_t t = i / tasks_per_row;
        const auto g = static_cast<std::int32_t>(i % tasks_per_row) * span;
        const batch_row& r = rows[static_cast<std::size_t>(t)];
        attention_args a;
        a.cache = &cache;
        a.layer = il;
        a.blocks = &cache.block_table(r.seq);
        a.n_kv = r.pos + 1;
        a.kv_head = g;
        a.head_dim_k = hd_k;
        a.head_dim_v = hd_v;
        a.scale = scale;
        if (one_row_per_sequence && i + tasks_per_row < e) {
          const batch_row& next = rows[static_cast<std::size_t>(t + 1)];
          a.next_blocks = &cache.block_table(next.seq);
          a.next_n_kv = next.pos + 1;
          a.next_kv_head = g;
        }
        const std::int64_t h0 = static_cast<std::int64_t>(g) * group;
        attend_heads(a, span, group, &q_[static_cast<std::size_t>(t * q_w + h0 * hd_k)], scratch,
                     &att_[static_cast<std::size_t>(t * a_w + h0 * hd_v)]);
      }
    }, std::max<std::int64_t>({1, head_grain / (group * span), run_rows * tasks_per_row}));

    // x += att Woᵀ
    matmul(L.wo, att_.data(), T, o_.data(), pool_for(product_work(L.wo, T)), prompt_rows_.data());
    for (std::int64_t i = 0; i < T * D; ++i) x_[static_cast<std::size_t>(i)] += o_[static_cast<std::size_t>(i)];

    // After the last attention only the rows that give logits matter: keep
    // those (in order, at the front of x) and run the last feed-forward on
    // them alone, each in the single-token order, as llama.cpp does when it
    // drops the other rows there. This also skips that work for prompt rows.
    std::int64_t T_ffn = T;
    const std::uint8_t* ffn_prompt_rows = prompt_rows_.data();
    if (il == hp.n_layer - 1) {
      T_ffn = 0;
      for (std::int64_t t = 0; t < T; ++t) {
        if (!rows[static_cast<std::size_t>(t)].want_logits) continue;
        if (T_ffn != t) std::copy_n(&x_[static_cast<std::size_t>(t * D)], D, &x_[static_cast<std::size_t>(T_ffn * D)]);
        ++T_ffn;
      }
      ffn_prompt_rows = nullptr;
      if (T_ffn == 0) break;
    }

    // Feed-forward: x += (silu(h Wgᵀ) ⊙ h Wuᵀ) Wdᵀ with h = rmsnorm(x) · ffn_norm.
    pool_.parallel_for(T_ffn, [&](std::int64_t b, std::int64_t e) {
      rms_norm_rows(&x_[static_cast<std::size_t>(b * D)], D, S.ffn_norm.data(), D, e - b, hp.rms_eps, &h_[static_cast<std::size_t>(b * D)], D);
    }, row_grain);
    const matmul_output gate_up[] = {{&L.ffn_gate, gate_.data()}, {&L.ffn_up, up_.data()}};
    matmul_shared_input(gate_up, h_.data(), T_ffn, pool_for(2 * product_work(L.ffn_up, T_ffn)), ffn_prompt_rows);
    pool_.parallel_for(T_ffn, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t t = b; t < e; ++t) swiglu(&gate_[static_cast<std::size_t>(t * hp.n_ff)], &up_[static_cast<std::size_t>(t * hp.n_ff)], hp.n_ff);
    }, std::max<std::int64_t>(1, min_work / hp.n_ff));
    matmul(L.ffn_down, gate_.data(), T_ffn, ffn_out_.data(), pool_for(product_work(L.ffn_down, T_ffn)), ffn_prompt_rows);
    for (std::int64_t i = 0; i < T_ffn * D; ++i) x_[static_cast<std::size_t>(i)] += ffn_out_[static_cast<std::size_t>(i)];
  }

  // Logits for the selected rows only: h_sel [n_sel, D] -> logits [n_sel, n_vocab].
  // The last layer left them at the front of x.
  std::int64_t n_sel = 0;
  for (const auto& r : rows) n_sel += r.want_logits ? 1 : 0;
  rms_norm_rows(x_.data(), D, m_.output_norm_f32.data(), D, n_sel, hp.rms_eps, h_.data(), D);
  logits.resize(static_cast<std::size_t>(n_sel) * static_cast<std::size_t>(hp.n_vocab));
  if (n_sel > 0) matmul(m_.output, h_.data(), n_sel, logits.data(), pool_for(product_work(m_.output, n_sel)));
}

}  // namespace huashan::engine
