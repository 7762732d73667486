// Scheduler properties on tests/data/models/stories260K.gguf (real weights,
// tiny): results do not depend on batching, shared prefixes are reused from
// the KV cache without changing results, streaming and stop strings, rolling
// log-likelihood windows. Prompts are built from the golden prompt ids in
// tests/data/golden/engine/stories260K-greedy.jsonl plus varied suffixes.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/engine.hpp"

using namespace huashan::engine;

namespace {

std::string model_path() { return std::string(HUASHAN_TEST_DATA) + "/models/stories260K.gguf"; }

// 32 distinct prompts: each golden prompt (and golden continuation) cut at 4 lengths.
std::vector<std::vector<std::int32_t>> prompts32() {
  std::ifstream in(std::string(HUASHAN_TEST_DATA) + "/golden/engine/stories260K-greedy.jsonl");
  REQUIRE(in.good());
  std::vector<std::vector<std::int32_t>> out;
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    const auto obj = boost::json::parse(text).as_object();
    std::vector<std::int32_t> ids;
    for (const auto& x : obj.at("prompt_ids").as_array()) ids.push_back(static_cast<std::int32_t>(x.as_int64()));
    for (const auto& x : obj.at("generated_ids").as_array()) ids.push_back(static_cast<std::int32_t>(x.as_int64()));
    for (std::size_t len : {3u, 9u, 20u, 41u}) out.emplace_back(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min(len, ids.size())));
  }
  REQUIRE(out.size() == 32);
  return out;
}

engine_config config(std::int32_t max_batch_tokens, bool prefix_reuse, std::int32_t block_tokens = 16) {
  engine_config c;
  c.n_threads = 2;
  c.n_ctx = 256;
  c.max_batch_tokens = max_batch_tokens;
  c.max_logit_rows = 16;
  c.kv.block_tokens = block_tokens;
  c.kv.prefix_reuse = prefix_reuse;
  c.kv.memory_budget_bytes = 16u << 20;
  return c;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("batch invariance: 32 prompts scored alone and in one batch give identical logprobs") {
  const auto prompts = prompts32();
  auto make = [&](std::size_t i) {
    score_request r;
    const auto& p = prompts[i];
    const std::size_t split = std::max<std::size_t>(1, p.size() / 2);
    r.context.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(split));
    r.continuation.assign(p.begin() + static_cast<std::ptrdiff_t>(split), p.end());
    if (r.continuation.empty()) r.continuation.push_back(261);
    r.top_n = 3;
    return r;
  };
  // One at a time, no prefix cache, a large batch size (each request runs as one chunk).
  inference_engine single(model_path(), config(256, false));
  std::vector<score_result> alone;
  for (std::size_t i = 0; i < prompts.size(); ++i) alone.push_back(single.score({make(i)}).front());
  // All at once, small batches (chunked prefill mixed across sequences), prefix cache on.
  inference_engine batched(model_path(), config(48, true, 4));
  std::vector<score_request> all;
  for (std::size_t i = 0; i < prompts.size(); ++i) all.push_back(make(i));
  const auto together = batched.score(std::move(all));
  CHECK(batched.stats().max_batch_sequences > 1);
  // stories260K is small: batches of several sequences ran split between the two threads.
  CHECK(batched.stats().split_forward_calls > 0);
  std::size_t bit_identical = 0, total = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(i);
    REQUIRE(alone[i].tokens.size() == together[i].tokens.size());
    CHECK(alone[i].is_greedy == together[i].is_greedy);
    CHECK(std::abs(alone[i].logprob - together[i].logprob) <= 1e-4);
    for (std::size_t k = 0; k < alone[i].tokens.size(); ++k) {
      CHECK(std::abs(alone[i].tokens[k].logprob - together[i].tokens[k].logprob) <= 1e-4);
      CHECK(alone[i].tokens[k].rank == together[i].tokens[k].rank);
      bit_identical += same_bits(alone[i].tokens[k].logprob, together[i].tokens[k].logprob) ? 1 : 0;
      ++total;
    }
  }
  // The design makes per-row math independent of the batch: expect exact equality.
  CHECK(bit_identical == total);
}

TEST_CASE("batch invariance: greedy and seeded sampled generations equal alone and batched") {
  const auto prompts = prompts32();
  auto make = [&](std::size_t i) {
    generate_request r;
    r.prompt = prompts[i];
    r.max_tokens = 12;
    if (i % 2 == 1) {  // odd requests sample, each with its own seed
      r.sampling.temperature = 0.9f;
      r.sampling.top_k = 40;
      r.sampling.top_p = 0.95f;
      r.sampling.seed = 1000 + i;
    }
    return r;
  };
  inference_engine single(model_path(), config(256, false));
  std::vector<generate_result> alone;
  for (std::size_t i = 0; i < prompts.size(); ++i) alone.push_back(single.generate({make(i)}).front());
  inference_engine batched(model_path(), config(40, true, 4));
  std::vector<generate_request> all;
  for (std::size_t i = 0; i < prompts.size(); ++i) all.push_back(make(i));
  const auto together = batched.generate(std::move(all));
  CHECK(batched.stats().split_forward_calls > 0);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(i);
    CHECK(alone[i].tokens == together[i].tokens);
    CHECK(alone[i].text == together[i].text);
  }
}

TEST_CASE("prefix reuse: a request sharing a prompt prefix hits cached blocks and scores the same") {
  const auto prompts = prompts32();
  const auto& base = prompts[3];  // 41 tokens
  REQUIRE(base.size() == 41);
  score_request first;
  first.context.assign(base.begin(), base.begin() + 36);
  first.continuation.assign(base.begin() + 36, base.end());
  score_request second = first;
  second.continuation = {261, 266, 267};

  inference_engine cached(model_path(), config(64, true, 8));
  const auto r1 = cached.score({first}).front();
  CHECK(r1.n_prompt_cached == 0);
  const auto hits_before = cached.stats().kv.prefix_hit_blocks;
  const auto r2 = cached.score({second}).front();
  // 36 context tokens: reusable up to 35, in whole blocks of 8 -> 32 tokens (4 blocks).
  CHECK(r2.n_prompt_cached == 32);
  CHECK(cached.stats().kv.prefix_hit_blocks - hits_before == 4);

  inference_engine fresh(model_path(), config(64, false, 8));
  const auto ref = fresh.score({second}).front();
  REQUIRE(ref.tokens.size() == r2.tokens.size());
  for (std::size_t k = 0; k < ref.tokens.size(); ++k) CHECK(same_bits(ref.tokens[k].logprob, r2.tokens[k].logprob));

  // Generation reuses the prefix too, with the same tokens.
  generate_request g;
  g.prompt.assign(base.begin(), base.begin() + 36);
  g.max_tokens = 8;
  const auto g_cached = cached.generate({g}).front();
  CHECK(g_cached.n_prompt_cached == 32);
  CHECK(g_cached.tokens == fresh.generate({g}).front().tokens);
}

// stories260K is an f32 model: its prompt rows are summed in llama.cpp's
// prompt order and its generated rows in the single-token order (matmul), so
// the K/V of generated tokens are not what the same tokens give as a prompt.
// Only blocks made of prompt rows may be reused: a second request whose prompt
// is the first one's prompt plus its output attaches the prompt's blocks only
// and gets the same bits as on a fresh engine.
TEST_CASE("prefix reuse of an f32 model offers prompt blocks only, and results stay the same") {
  const auto prompts = prompts32();
  const auto& base = prompts[3];  // 41 tokens
  generate_request first;
  first.prompt.assign(base.begin(), base.begin() + 20);
  first.max_tokens = 30;
  inference_engine cached(model_path(), config(64, true, 8));
  const auto out = cached.generate({first}).front();
  REQUIRE(out.tokens.size() == 30);

  score_request again;
  again.context = first.prompt;
  again.context.insert(again.context.end(), out.tokens.begin(), out.tokens.begin() + 24);  // 44 tokens
  again.continuation.assign(out.tokens.begin() + 24, out.tokens.end());
  const auto reused = cached.score({again}).front();
  CHECK(reused.n_prompt_cached == 16);  // the two whole blocks of 8 inside the 20-token prompt, not the generated ones

  inference_engine fresh(model_path(), config(64, false, 8));
  const auto ref = fresh.score({again}).front();
  REQUIRE(ref.tokens.size() == reused.tokens.size());
  for (std::size_t k = 0; k < ref.tokens.size(); ++k) CHECK(same_bits(ref.tokens[k].logprob, reused.tokens[k].logprob));
}

TEST_CASE("streaming pieces add up to the text; stop strings cut it") {
  inference_engine eng(model_path(), config(64, true));
  const auto prompt = eng.tokenizer().tokenize("Once upon a time", {true, false});
  generate_request r;
  r.prompt = prompt;
  r.max_tokens = 48;
  std::string streamed;
  r.on_text = [&](std::string_view piece) { streamed += piece; };
  const auto full = eng.generate({r}).front();
  CHECK(streamed == full.text);
  REQUIRE(full.text.find("Lily") != std::string::npos);  // the golden continuation names Lily

  generate_request s = r;
  streamed.clear();
  s.stop = {"Lily"};
  const auto cut = eng.generate({s}).front();
  CHECK(cut.finish == finish_reason::stop);
  CHECK(cut.text == full.text.substr(0, full.text.find("Lily")));
  CHECK(streamed == cut.text);
}

TEST_CASE("rolling log-likelihood: windows cover every token once and sum like one long score") {
  const auto prompts = prompts32();
  const auto& text = prompts[7];  // 41 tokens, starting with BOS
  std::vector<std::int32_t> body(text.begin() + 1, text.end());
  const auto windows = rolling_windows(body, 1, 16);
  std::size_t predicted = 0;
  for (const auto& w : windows) {
    CHECK(w.context.size() + w.continuation.size() - 1 <= 16);
    predicted += w.continuation.size();
  }
  CHECK(predicted == body.size());

  inference_engine eng(model_path(), config(64, true));
  // With a window as long as the text, rolling equals scoring the body after BOS.
  score_request whole;
  whole.context = {1};
  whole.continuation = body;
  whole.continuation_as_prompt = true;
  const double expect = eng.score({whole}).front().logprob;
  CHECK(eng.loglikelihood_rolling(body, 64) == doctest::Approx(expect).epsilon(1e-6));
  // Shorter windows see less context: a different (finite, negative) total.
  const double rolled = eng.loglikelihood_rolling(body, 16);
  CHECK(rolled < 0.0);
}

TEST_CASE("continuation_as_prompt: a text's scores do not depend on where the context ends (f32 stories260K)") {
  inference_engine eng(model_path(), config(64, true));
  const auto text = eng.tokenizer().tokenize("Once upon a time there was a little girl named Lily", {.add_special = true});
  REQUIRE(text.size() > 8);
  auto scores = [&](std::size_t n_context, bool as_prompt) {
    score_request r;
    r.context.assign(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n_context));
    r.continuation.assign(text.begin() + static_cast<std::ptrdiff_t>(n_context), text.end());
    r.continuation_as_prompt = as_prompt;
    std::vector<float> tail;  // the logprobs of the last four tokens
    const auto result = eng.score({r}).front();
    for (std::size_t i = result.tokens.size() - 4; i < result.tokens.size(); ++i) tail.push_back(result.tokens[i].logprob);
    return tail;
  };
  // The same bits whether the first token or all but the last four are context.
  CHECK(scores(1, true) == scores(text.size() - 4, true));
  // Computed as generation would (the default), the context's rows take the
  // prompt path's order and the rest the single-token one: the split shows.
  CHECK(scores(1, false) != scores(text.size() - 4, false));
}

TEST_CASE("bad requests fail their own future with a clear error") {
  inference_engine eng(model_path(), config(64, true));
  score_request empty;
  CHECK_THROWS_AS(eng.submit(empty).get(), huashan::input_error);
  generate_request bad;
  bad.prompt = {1, 100000};
  CHECK_THROWS_WITH_AS(eng.submit(bad).get(), doctest::Contains("outside the vocabulary"), huashan::input_error);
  generate_request too_long;
  too_long.prompt.assign(300, 1);
  CHECK_THROWS_WITH_AS(eng.submit(too_long).get(), doctest::Contains("context"), huashan::input_error);
}

TEST_CASE("continuous batching: a request submitted mid-run joins the running batch and gives the same tokens") {
  const auto prompts = prompts32();
  generate_request a;
  a.prompt = prompts[3];
  a.max_tokens = 24;
  generate_request b;
  b.prompt = prompts[6];
  b.max_tokens = 10;
  inference_engine alone(model_path(), config(64, false));
  const auto a_ref = alone.generate({a}).front();
  const auto b_ref = alone.generate({b}).front();

  inference_engine eng(model_path(), config(64, true));
  auto fa = eng.submit(a);
  for (int i = 0; i < 5; ++i) REQUIRE(eng.step());  // a is decoding now
  const auto forwards_before = eng.stats().forward_calls;
  auto fb = eng.submit(b);
  eng.run_until_idle();
  CHECK(eng.stats().max_batch_sequences == 2);  // b ran beside a, not after it
  CHECK(eng.stats().forward_calls - forwards_before < 24 - 5 + 10);
  CHECK(fa.get().tokens == a_ref.tokens);
  CHECK(fb.get().tokens == b_ref.tokens);
}
