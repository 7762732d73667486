// Continuous batching: admission, batch building, forward, sampling and scoring.
#include "harness/engine/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "common/utf8.hpp"

namespace huashan::engine {

namespace {

kv_cache_shape cache_shape(const model& m) {
  kv_cache_shape s;
  s.n_layers = m.hp.n_layer;
  s.n_kv_heads = m.hp.n_head_kv;
  s.head_dim_k = m.hp.head_dim_k;
  s.head_dim_v = m.hp.head_dim_v;
  return s;
}

void check_ids(const model& m, const std::vector<std::int32_t>& ids, std::string_view what) {
  for (std::int32_t id : ids) {
    if (id < 0 || id >= m.hp.n_vocab) {
      throw input_error(fmt::format("{}: token id {} is outside the vocabulary [0, {})", what, id, m.hp.n_vocab));
    }
  }
}

}  // namespace

scheduler::scheduler(const model& m, const tokenizer* tok, const engine_config& config, std::int32_t n_ctx)
    : m_(m),
      tok_(tok),
      config_(config),
      n_ctx_(n_ctx),
      pool_(config.n_threads),
      cache_(cache_shape(m), config.kv),
      graph_(m, pool_) {
  if (config_.max_batch_tokens < 1 || config_.max_sequences < 1 || config_.max_logit_rows < 1) {
    throw input_error("engine: max_batch_tokens, max_sequences and max_logit_rows must be at least 1");
  }
}

std::future<generate_result> scheduler::submit(generate_request request) {
  auto s = std::make_unique<sequence>();
  auto future = s->gen_promise.get_future();
  try {
    if (request.prompt.empty()) throw input_error("generate: the prompt is empty");
    check_ids(m_, request.prompt, "generate: prompt");
    if (static_cast<std::int64_t>(request.prompt.size()) >= n_ctx_) {
      throw input_error(fmt::format("generate: the prompt has {} tokens; the context holds {}", request.prompt.size(), n_ctx_));
    }
    if (!tok_ && (!request.stop.empty() || request.on_text)) {
      throw input_error("generate: stop strings and streamed text need a tokenizer, and the model file has none");
    }
    const std::int64_t slots = std::min<std::int64_t>(static_cast<std::int64_t>(request.prompt.size()) + std::max(0, request.max_tokens), n_ctx_);
    if (cache_.blocks_for(slots) > cache_.n_blocks()) {
      throw input_error(fmt::format("generate: {} tokens need {} KV blocks; the cache has {} (raise the KV memory budget)",
                                    slots, cache_.blocks_for(slots), cache_.n_blocks()));
    }
  } catch (...) {
    s->gen_promise.set_exception(std::current_exception());
    return future;
  }
  s->n_prompt = static_cast<std::int32_t>(request.prompt.size());
  s->tokens = request.prompt;
  s->gen_out.n_prompt = s->n_prompt;
  s->smp.emplace(request.sampling);
  s->gen = std::move(request);
  if (s->gen.max_tokens <= 0) {
    s->gen_promise.set_value(std::move(s->gen_out));
    return future;
  }
  std::lock_guard lock(queue_mutex_);
  queue_.push_back(std::move(s));
  return future;
}

std::future<score_result> scheduler::submit(score_request request) {
  auto s = std::make_unique<sequence>();
  s->is_score = true;
  auto future = s->score_promise.get_future();
  try {
    if (request.context.empty()) throw input_error("score: the context is empty (start it with BOS)");
    if (request.continuation.empty()) throw input_error("score: the continuation is empty");
    check_ids(m_, request.context, "score: context");
    check_ids(m_, request.continuation, "score: continuation");
    const std::int64_t fed = static_cast<std::int64_t>(request.context.size() + request.continuation.size()) - 1;
    if (fed > n_ctx_) {
      throw input_error(fmt::format("score: context + continuation = {} tokens; the context holds {}", fed + 1, n_ctx_));
    }
    if (cache_.blocks_for(fed) > cache_.n_blocks()) {
      throw input_error(fmt::format("score: {} tokens need {} KV blocks; the cache has {}", fed, cache_.blocks_for(fed), cache_.n_blocks()));
    }
  } catch (...) {
    s->score_promise.set_exception(std::current_exception());
    return future;
  }
  s->n_prompt = static_cast<std::int32_t>(request.context.size());
  s->tokens = request.context;
  s->tokens.insert(s->tokens.end(), request.continuation.begin(), request.continuation.end());
  s->score = std::move(request);
  std::lock_guard lock(queue_mutex_);
  queue_.push_back(std::move(s));
  return future;
}

bool scheduler::idle() {
  std::lock_guard lock(queue_mutex_);
  return queue_.empty() && running_.empty();
}

engine_stats scheduler::stats() const {
  std::lock_guard lock(stats_mutex_);
  return published_stats_;
}

std::int32_t scheduler::n_to_feed(const sequence& s) const {
  const auto total = static_cast<std::int32_t>(s.tokens.size()) - (s.is_score ? 1 : 0);
  return total - s.n_fed;
}

std::int32_t scheduler::n_prompt_rows(const sequence& s) {
  if (s.is_score && s.score.continuation_as_prompt) return static_cast<std::int32_t>(s.tokens.size());
  return s.n_prompt >= 2 ? s.n_prompt : 0;
}

bool scheduler::waits_for_prefix(const sequence& s) const {
  if (!config_.kv.prefix_reuse) return false;
  const std::int32_t block = cache_.config().block_tokens;
  const std::int32_t reusable = s.n_prompt - 1;  // as admit() reuses
  if (reusable < block) return false;
  for (const auto& r : running_) {
    if (r->done || r->n_fed >= r->n_prompt) continue;  // not computing its prompt
    // Only r's prompt blocks are published (see publish_limit in step()).
    const auto limit = static_cast<std::size_t>(std::min(reusable, r->n_prompt));
    if (r->n_fed >= static_cast<std::int32_t>(limit) / block * block) continue;
    const auto end = s.tokens.begin() + static_cast<std::ptrdiff_t>(limit);
    const auto shared = static_cast<std::int32_t>(std::mismatch(s.tokens.begin(), end, r->tokens.begin()).first - s.tokens.begin());
    if (shared / block * block > r->n_fed) return true;
  }
  return false;
}

bool scheduler::admit(sequence& s) {
  s.kv_seq = cache_.add_sequence();
  // Keep at least the last prompt token to compute: its logits are needed.
  const std::int32_t reusable = s.n_prompt - 1;
  s.n_cached = cache_.reuse_prefix(s.kv_seq, s.tokens, reusable);
  const std::int64_t slots = s.is_score ? static_cast<std::int64_t>(s.tokens.size()) - 1
                                        : std::min<std::int64_t>(s.n_prompt + static_cast<std::int64_t>(s.gen.max_tokens), n_ctx_);
  if (!cache_.reserve(s.kv_seq, slots)) {
    cache_.release_sequence(s.kv_seq);
    s.kv_seq = -1;
    s.n_cached = 0;
    return false;
  }
  s.n_fed = s.n_cached;
  s.gen_out.n_prompt_cached = s.n_cached;
  s.score_out.n_prompt_cached = s.n_cached;
  return true;
}

void scheduler::fail(sequence& s, std::exception_ptr error) {
  if (s.done) return;
  s.done = true;
  if (s.is_score) s.score_promise.set_exception(error);
  else s.gen_promise.set_exception(error);
}

void scheduler::stream(sequence& s, bool final) {
  if (!s.gen.on_text) return;
  const std::string& text = s.gen_out.text;
  std::size_t safe = text.size();
  if (!final) {
    safe -= utf8_incomplete_tail(text);
    // Hold back a tail that may be the start of a stop string.
    std::size_t hold = 0;
    for (const std::string& stop : s.gen.stop) {
      for (std::size_t len = std::min(stop.size() - 1, safe); len > hold; --len) {
        if (text.compare(safe - len, len, stop, 0, len) == 0) {
          hold = len;
          break;
        }
      }
    }
    safe -= hold;
  }
  if (safe > s.emitted) {
    s.gen.on_text(std::string_view(text).substr(s.emitted, safe - s.emitted));
    s.emitted = safe;
  }
}

void scheduler::finish(sequence& s, finish_reason reason) {
  s.gen_out.finish = reason;
  stream(s, true);
  s.done = true;
  s.gen_promise.set_value(std::move(s.gen_out));
}

void scheduler::on_generated(sequence& s, std::int32_t id) {
  ++stats_.generated_tokens;
  if (!s.gen.ignore_eos && tok_ && tok_->is_eog(id)) {
    finish(s, finish_reason::eos);
    return;
  }
  s.tokens.push_back(id);
  s.gen_out.tokens.push_back(id);
  if (tok_) {
    std::string& text = s.gen_out.text;
    const std::size_t old_size = text.size();
    text += tok_->token_to_piece(id);
    // Earliest stop string match that overlaps the new bytes.
    std::size_t cut = std::string::npos;
    for (const std::string& stop : s.gen.stop) {
      if (stop.empty()) continue;
      const std::size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
      const std::size_t at = text.find(stop, from);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      text.resize(cut);
      finish(s, finish_reason::stop);
      return;
    }
    stream(s, false);
  }
  if (static_cast<std::int32_t>(s.gen_out.tokens.size()) >= s.gen.max_tokens) {
    finish(s, finish_reason::length);
  } else if (static_cast<std::int64_t>(s.tokens.size()) >= n_ctx_) {
    finish(s, finish_reason::context);
  }
}

bool scheduler::step() {
  // 1. Admission, first come first served.
  {
    std::lock_guard lock(queue_mutex_);
    // A request whose prompt prefix a running sequence is still computing
    // waits until those blocks are published and then reuses them; the
    // requests behind it may go first meanwhile. Few-shot requests sharing
    // long contexts compute each context once instead of once per request.
    std::size_t waited = 0;
    const std::size_t lookahead = 4 * static_cast<std::size_t>(config_.max_sequences);
    for (auto it = queue_.begin(); it != queue_.end() && static_cast<std::int32_t>(running_.size()) < config_.max_sequences;) {
      if (waits_for_prefix(**it)) {
        if (++waited > lookahead) break;
        ++it;
        continue;
      }
      if (!admit(**it)) break;
      running_.push_back(std::move(*it));
      it = queue_.erase(it);
    }
  }
  if (running_.empty()) return false;

  // 2. One batch: decode rows first (one per sequence with one token to feed),
  //    then prefill chunks in admission order.
  struct span_of_rows {
    sequence* s;
    std::int32_t first_row;
    std::int32_t count;
  };
  std::vector<span_of_rows> spans;
  rows_.clear();
  std::int32_t budget = config_.max_batch_tokens;
  std::int32_t logit_budget = config_.max_logit_rows;
  auto add_rows = [&](sequence& s, std::int32_t count) {
    spans.push_back({&s, static_cast<std::int32_t>(rows_.size()), count});
    for (std::int32_t i = 0; i < count; ++i) {
      const std::int32_t pos = s.n_fed + i;
      batch_row r;
      r.token = s.tokens[static_cast<std::size_t>(pos)];
      r.pos = pos;
      r.seq = s.kv_seq;
      // score: every position from the last context token on predicts a continuation token;
      // generate: the last fed token predicts the next one.
      r.want_logits = s.is_score ? pos >= s.n_prompt - 1 : pos == static_cast<std::int32_t>(s.tokens.size()) - 1;
      if (r.want_logits && s.is_score) --logit_budget;
      r.prompt = pos < n_prompt_rows(s);
      rows_.push_back(r);
    }
    budget -= count;
  };
  for (auto& sp : running_) {
    if (budget == 0) break;
    if (!sp->done && n_to_feed(*sp) == 1 && (!sp->is_score || logit_budget > 0)) add_rows(*sp, 1);
  }
  for (auto& sp : running_) {
    if (budget == 0) break;
    sequence& s = *sp;
    if (s.done || n_to_feed(s) <= 1) continue;
    std::int32_t count = std::min(n_to_feed(s), budget);
    if (s.is_score) {
      // Rows before position n_prompt-1 need no logits; later ones spend the logit budget.
      const std::int32_t free_rows = std::max(0, s.n_prompt - 1 - s.n_fed);
      count = std::min(count, free_rows + logit_budget);
    }
    if (count > 0) add_rows(s, count);
  }
  if (rows_.empty()) return !running_.empty();

  // 3. Forward and commit the new K/V.
  try {
    graph_.forward(rows_, cache_, logits_);
  } catch (...) {
    for (auto& sp : spans) fail(*sp.s, std::current_exception());
    spans.clear();
  }
  ++stats_.forward_calls;
  stats_.rows += static_cast<std::int64_t>(rows_.size());
  stats_.max_batch_rows = std::max<std::int64_t>(stats_.max_batch_rows, static_cast<std::int64_t>(rows_.size()));
  stats_.max_batch_sequences = std::max<std::int64_t>(stats_.max_batch_sequences, static_cast<std::int64_t>(spans.size()));
  stats_.split_forward_calls = graph_.split_forward_calls();

  // 4. Sample / score. Each row's sampler or score reads only its own logits
  // and sequence, so the rows are computed in parallel (at batch 16 over a
  // large vocabulary this is not small); their effects (streaming, stop
  // strings, results) are then applied in row order on this thread.
  struct logit_job {
    sequence* s = nullptr;
    std::int32_t pos = 0;
    std::size_t logit_row = 0;
    std::int32_t token = 0;
    token_score score;
    std::exception_ptr error;
  };
  std::vector<logit_job> jobs;
  {
    std::size_t logit_row = 0;
    for (auto& sp : spans) {
      for (std::int32_t i = 0; i < sp.count; ++i) {
        const batch_row& r = rows_[static_cast<std::size_t>(sp.first_row + i)];
        if (!r.want_logits) continue;
        if (sp.s->is_score || !sp.s->done) jobs.push_back({sp.s, r.pos, logit_row, 0, {}, nullptr});
        ++logit_row;
      }
    }
  }
  const auto n_vocab = static_cast<std::size_t>(m_.hp.n_vocab);
  pool_.parallel_for(static_cast<std::int64_t>(jobs.size()), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = begin; j < end; ++j) {
      logit_job& job = jobs[static_cast<std::size_t>(j)];
      sequence& s = *job.s;
      std::span<const float> row(logits_.data() + job.logit_row * n_vocab, n_vocab);
      try {
        if (s.is_score) {
          job.score = score_token(row, s.tokens[static_cast<std::size_t>(job.pos + 1)], s.score.top_n);
        } else {
          job.token = s.smp->sample(row, s.tokens);
        }
      } catch (...) {
        job.error = std::current_exception();
      }
    }
  });
  std::size_t next_job = 0;
  for (auto& sp : spans) {
    sequence& s = *sp.s;
    // An f32 model computes prompt rows and generated (or scored) rows in
    // different orders (batch_row::prompt): only prompt blocks are reusable.
    const std::int64_t publish_limit = graph_.prompt_order_matters() ? n_prompt_rows(s) : std::numeric_limits<std::int64_t>::max();
    cache_.commit(s.kv_seq,
                  std::span<const std::int32_t>(s.tokens).subspan(static_cast<std::size_t>(s.n_fed),
                                                                  static_cast<std::size_t>(sp.count)),
                  publish_limit);
    for (std::int32_t i = 0; i < sp.count; ++i) {
      const batch_row& r = rows_[static_cast<std::size_t>(sp.first_row + i)];
      if (r.pos < s.n_prompt) ++stats_.prompt_tokens;
    }
    for (; next_job < jobs.size() && jobs[next_job].s == &s; ++next_job) {
      logit_job& job = jobs[next_job];
      try {
        if (job.error) std::rethrow_exception(job.error);
        if (s.is_score) {
          s.score_out.logprob += job.score.logprob;
          s.score_out.is_greedy = s.score_out.is_greedy && job.score.is_argmax;
          s.score_out.tokens.push_back(std::move(job.score));
        } else if (!s.done) {
          on_generated(s, job.token);
        }
      } catch (...) {
        fail(s, std::current_exception());
      }
    }
    s.n_fed += sp.count;
    if (s.is_score && !s.done && n_to_feed(s) == 0) {
      s.done = true;
      s.score_promise.set_value(std::move(s.score_out));
    }
  }

  // 5. Retire finished sequences, freeing their blocks (published ones stay cached).
  {
    std::lock_guard lock(queue_mutex_);  // idle() may read running_ from another thread
    std::erase_if(running_, [this](const std::unique_ptr<sequence>& sp) {
      if (!sp->done) return false;
      if (sp->kv_seq >= 0) cache_.release_sequence(sp->kv_seq);
      return true;
    });
  }
  {
    std::lock_guard lock(stats_mutex_);
    published_stats_ = stats_;
    published_stats_.kv = cache_.stats();
  }
  return true;
}

}  // namespace huashan::engine
