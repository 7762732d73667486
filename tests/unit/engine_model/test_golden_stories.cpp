// Golden test against llama.cpp (tests/data/golden/engine/README.md):
// model tests/data/models/stories260K.gguf (F32 weights), goldens
// tests/data/golden/engine/stories260K-greedy.jsonl (8 prompts). Compared:
//  - greedy decoding from prompt_ids: the 48 generated_ids, token for token;
//  - teacher-forced scoring of prompt_ids + generated_ids (F16 KV cache, as
//    llama.cpp ran): every chosen and every top-5 logprob within 1e-5 (the
//    issue asks for 1e-3), the top-5 ids in the golden order.
//    Our numerics are llama.cpp's (its AVX2 build) operation for operation, so
//    the logits carry its bits: F32 products in the order of its prompt path
//    (tinyBLAS) for prompt rows and of its single-token vector dot for the
//    others (the golden's steps after the first were single-token), its CPU
//    flash attention's F16 numerics, RMSNorm's float squares summed in double,
//    its SiLU exponential (exp_poly), and its compiler's fused multiply-adds in
//    RoPE and the softmax sum. What remains (~2e-6) is the server's float
//    softmax over the vocabulary against our double one. Each of those steps
//    mattered: without the SiLU exponential, the RoPE fusion or the unfused
//    dot tail, 83 to 294 of the 384 steps agree within 3e-6 instead of all,
//    and single steps differ by up to 1.9e-3 (docs/engine.md).
//  - our tokenization of each prompt equals prompt_ids (BOS included).
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "harness/engine/engine.hpp"

using namespace huashan::engine;

namespace {

struct golden_step {
  std::int32_t token_id;
  double logprob;
  std::vector<std::pair<std::int32_t, double>> top;
};
struct golden_line {
  std::string prompt;
  std::vector<std::int32_t> prompt_ids, generated_ids;
  std::vector<golden_step> steps;
};

std::vector<std::int32_t> ids_of(const boost::json::value& v) {
  std::vector<std::int32_t> out;
  for (const auto& x : v.as_array()) out.push_back(static_cast<std::int32_t>(x.as_int64()));
  return out;
}

std::vector<golden_line> read_goldens() {
  std::ifstream in(std::string(HUASHAN_TEST_DATA) + "/golden/engine/stories260K-greedy.jsonl");
  REQUIRE(in.good());
  std::vector<golden_line> lines;
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    const auto obj = boost::json::parse(text).as_object();
    golden_line g;
    g.prompt = std::string(obj.at("prompt").as_string());
    g.prompt_ids = ids_of(obj.at("prompt_ids"));
    g.generated_ids = ids_of(obj.at("generated_ids"));
    for (const auto& s : obj.at("steps").as_array()) {
      golden_step st;
      st.token_id = static_cast<std::int32_t>(s.at("token_id").as_int64());
      st.logprob = s.at("logprob").to_number<double>();
      for (const auto& t : s.at("top").as_array()) {
        st.top.emplace_back(static_cast<std::int32_t>(t.as_array()[0].as_int64()), t.as_array()[1].to_number<double>());
      }
      g.steps.push_back(std::move(st));
    }
    lines.push_back(std::move(g));
  }
  return lines;
}

std::string model_path() { return std::string(HUASHAN_TEST_DATA) + "/models/stories260K.gguf"; }

engine_config test_config(kv_type type) {
  engine_config c;
  c.n_threads = 2;
  c.n_ctx = 256;
  c.kv.type = type;
  c.kv.memory_budget_bytes = 8u << 20;
  return c;
}

}  // namespace

TEST_CASE("stories260K: greedy continuations equal llama.cpp's, token for token") {
  const auto goldens = read_goldens();
  REQUIRE(goldens.size() == 8);
  for (kv_type type : {kv_type::f16, kv_type::f32}) {
    CAPTURE(type == kv_type::f16 ? "kv f16" : "kv f32");
    inference_engine eng(model_path(), test_config(type));
    std::vector<generate_request> requests;
    for (const auto& g : goldens) {
      generate_request r;
      r.prompt = g.prompt_ids;
      r.max_tokens = 48;
      requests.push_back(std::move(r));
    }
    const auto results = eng.generate(std::move(requests));
    for (std::size_t i = 0; i < goldens.size(); ++i) {
      CAPTURE(goldens[i].prompt);
      CHECK(results[i].tokens == goldens[i].generated_ids);
      CHECK(results[i].finish == finish_reason::length);
    }
  }
}

TEST_CASE("stories260K: teacher-forced logprobs agree with llama.cpp (tolerances above)") {
  const auto goldens = read_goldens();
  inference_engine eng(model_path(), test_config(kv_type::f16));
  std::vector<score_request> requests;
  for (const auto& g : goldens) {
    score_request r;
    r.context = g.prompt_ids;
    r.continuation = g.generated_ids;
    r.top_n = 5;
    requests.push_back(std::move(r));
  }
  const auto results = eng.score(std::move(requests));
  // Where two golden entries lie within tol of each other their order is a
  // coin toss; otherwise ours must follow it.
  constexpr double tol = 1e-5;
  double worst = 0.0, worst_chosen = 0.0;
  int n_steps = 0;
  for (std::size_t i = 0; i < goldens.size(); ++i) {
    const auto& g = goldens[i];
    REQUIRE(results[i].tokens.size() == g.steps.size());
    CHECK(results[i].is_greedy);
    for (std::size_t k = 0; k < g.steps.size(); ++k) {
      CAPTURE(i);
      CAPTURE(k);
      const auto& ours = results[i].tokens[k];
      const auto& gs = g.steps[k];
      const double chosen = std::abs(ours.logprob - gs.logprob);
      CHECK(chosen <= tol);
      worst_chosen = std::max(worst_chosen, chosen);
      ++n_steps;
      REQUIRE(ours.top.size() == 5);
      for (std::size_t r = 0; r < 5; ++r) {
        const auto [id, lp] = ours.top[r];
        std::ptrdiff_t at = -1;
        for (std::size_t j = 0; j < 5; ++j)
          if (gs.top[j].first == id) at = static_cast<std::ptrdiff_t>(j);
        if (at >= 0) {
          CHECK(std::abs(lp - gs.top[static_cast<std::size_t>(at)].second) <= tol);
          CHECK((static_cast<std::size_t>(at) == r || std::abs(gs.top[static_cast<std::size_t>(at)].second - gs.top[r].second) <= tol));
          worst = std::max(worst, std::abs(lp - gs.top[static_cast<std::size_t>(at)].second));
        } else {
          CHECK(r == 4);  // a near-tie for fifth place
          CHECK(std::abs(lp - gs.top[4].second) <= tol);
        }
      }
    }
  }
  CHECK(n_steps == 384);
  MESSAGE("largest gap to llama.cpp: chosen token " << worst_chosen << ", top-5 " << worst << " over " << n_steps << " steps");
}

TEST_CASE("stories260K: prompts tokenize to llama.cpp's prompt_ids") {
  const auto goldens = read_goldens();
  inference_engine eng(model_path(), test_config(kv_type::f16));
  REQUIRE(eng.has_tokenizer());
  for (const auto& g : goldens) {
    CAPTURE(g.prompt);
    tokenize_options o;
    o.add_special = true;
    o.parse_special = true;
    CHECK(eng.tokenizer().tokenize(g.prompt, o) == g.prompt_ids);
  }
}
