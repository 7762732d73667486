// Engine facade: owns the mapped file, model, tokenizer and scheduler.
#include "harness/engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "harness/engine/scheduler.hpp"

namespace huashan::engine {

std::string_view finish_reason_name(finish_reason r) {
  switch (r) {
    case finish_reason::length: return "length";
    case finish_reason::eos: return "eos";
    case finish_reason::stop: return "stop";
    case finish_reason::context: return "context";
  }
  return "unknown";
}

inference_engine::inference_engine(const std::filesystem::path& model_path, const engine_config& config)
    : config_(config), file_(std::make_unique<gguf_file>(gguf_file::open(model_path))) {
  init();
}

inference_engine::inference_engine(gguf_file file, const engine_config& config)
    : config_(config), file_(std::make_unique<gguf_file>(std::move(file))) {
  init();
}

inference_engine::~inference_engine() = default;

void inference_engine::init() {
  model_ = std::make_unique<huashan::engine::model>(huashan::engine::model::load(*file_));
  if (file_->find("tokenizer.ggml.model") != nullptr) {
    tokenizer_ = std::make_unique<huashan::engine::tokenizer>(huashan::engine::tokenizer::from_gguf(*file_));
  }
  const std::int32_t n_ctx = config_.n_ctx > 0 ? std::min(config_.n_ctx, model_->hp.n_ctx_train) : model_->hp.n_ctx_train;
  config_.n_ctx = n_ctx;
  scheduler_ = std::make_unique<scheduler>(*model_, tokenizer_.get(), config_, n_ctx);
}

const huashan::engine::tokenizer& inference_engine::tokenizer() const {
  if (!tokenizer_) throw input_error(fmt::format("{}: the model file has no tokenizer", file_->name()));
  return *tokenizer_;
}

std::int32_t inference_engine::n_ctx() const { return config_.n_ctx; }
std::int32_t inference_engine::n_threads() const { return scheduler_->n_threads(); }

std::future<generate_result> inference_engine::submit(generate_request request) { return scheduler_->submit(std::move(request)); }
std::future<score_result> inference_engine::submit(score_request request) { return scheduler_->submit(std::move(request)); }
bool inference_engine::step() { return scheduler_->step(); }

void inference_engine::run_until_idle() {
  while (!scheduler_->idle()) scheduler_->step();
}

std::vector<generate_result> inference_engine::generate(std::vector<generate_request> requests) {
  std::vector<std::future<generate_result>> futures;
  futures.reserve(requests.size());
  for (auto& r : requests) futures.push_back(submit(std::move(r)));
  run_until_idle();
  std::vector<generate_result> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

std::vector<score_result> inference_engine::score(std::vector<score_request> requests) {
  std::vector<std::future<score_result>> futures;
  futures.reserve(requests.size());
  for (auto& r : requests) futures.push_back(submit(std::move(r)));
  run_until_idle();
  std::vector<score_result> out;
  out.reserve(futures.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

double inference_engine::loglikelihood_rolling(std::span<const std::int32_t> tokens, std::int32_t max_len, std::int32_t prefix_token) {
  if (prefix_token < 0) {
    const huashan::engine::tokenizer& tok = tokenizer();
    prefix_token = tok.bos() != no_token ? tok.bos() : tok.eos();
    if (prefix_token == no_token) {
      throw input_error(fmt::format("{}: loglikelihood_rolling needs a prefix token and the vocab has no BOS or EOS", file_->name()));
    }
  }
  if (max_len <= 0) max_len = n_ctx();
  std::vector<score_request> requests;
  for (auto& w : rolling_windows(tokens, prefix_token, max_len)) {
    score_request r;
    r.context = std::move(w.context);
    r.continuation = std::move(w.continuation);
    r.continuation_as_prompt = true;
    requests.push_back(std::move(r));
  }
  double sum = 0.0;
  for (const auto& r : score(std::move(requests))) sum += r.logprob;
  return sum;
}

engine_stats inference_engine::stats() const { return scheduler_->stats(); }

}  // namespace huashan::engine
