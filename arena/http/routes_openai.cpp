// The /v1 handlers: parse and validate the OpenAI request (every failure an
// api_error naming the field), turn it into engine requests on the shared
// local_model, and write the OpenAI response or its SSE chunks. Generation
// runs on the model's driver thread; this file only waits on futures and
// takes streamed text from a text_channel on the handler thread.
#include "arena/http/routes_openai.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <random>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"
#include "harness/token_text.hpp"

namespace huashan::arena::http {

namespace json = boost::json;
using harness::local_model;

namespace {

// How long a streaming handler waits for text before it checks the futures.
constexpr std::chrono::milliseconds stream_poll{5};

// A request the client got wrong (4xx), in OpenAI's terms.
struct api_error {
  int status = 400;
  std::string message;
  std::string param;  // the request field, "" when none applies
  std::string code;   // "" -> null
  std::string type = "invalid_request_error";
};

json::value null_or(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

response openai_error(const api_error& e) {
  response r;
  r.status = e.status;
  r.body = json::serialize(json::object{
      {"error", json::object{{"message", e.message}, {"type", e.type}, {"param", null_or(e.param)}, {"code", null_or(e.code)}}}});
  return r;
}

response json_response(const json::value& v) {
  response r;
  r.body = json::serialize(v);
  return r;
}

api_error bad(std::string param, std::string message, std::string code = "") {
  return api_error{400, std::move(message), std::move(param), std::move(code)};
}

json::object parse_body(const request& req) {
  boost::system::error_code ec;
  // Boost.JSON rejects invalid UTF-8 in strings by default: non-UTF-8 input is bad JSON here.
  json::value v = json::parse(req.body, ec);
  if (ec) throw bad("", fmt::format("the request body is not valid JSON: {} (it must be a UTF-8 JSON object)", ec.message()), "invalid_json");
  if (!v.is_object()) throw bad("", "the request body must be a JSON object");
  return std::move(v.as_object());
}

// The field's value, or nullptr when it is absent or null (OpenAI treats both as "not set").
const json::value* field(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return v.as_uint64() > static_cast<std::uint64_t>(INT64_MAX) ? std::nullopt : std::optional<std::int64_t>(static_cast<std::int64_t>(v.as_uint64()));
  return std::nullopt;
}

std::optional<std::int64_t> get_int(const json::object& o, std::string_view name, std::int64_t lo, std::int64_t hi) {
  const auto* v = field(o, name);
  if (!v) return std::nullopt;
  const auto i = as_integer(*v);
  if (!i) throw bad(std::string(name), fmt::format("'{}' must be an integer", name), "invalid_type");
  if (*i < lo || *i > hi) throw bad(std::string(name), fmt::format("'{}' must be between {} and {}; got {}", name, lo, hi, *i), "invalid_value");
  return i;
}

std::optional<double> get_number(const json::object& o, std::string_view name, double lo, double hi) {
  const auto* v = field(o, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw bad(std::string(name), fmt::format("'{}' must be a number", name), "invalid_type");
  const double d = v->to_number<double>();
  if (!(d >= lo && d <= hi)) throw bad(std::string(name), fmt::format("'{}' must be between {} and {}; got {}", name, lo, hi, d), "invalid_value");
  return d;
}

std::optional<bool> get_bool(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) throw bad(std::string(name), fmt::format("'{}' must be true or false", name), "invalid_type");
  return v->as_bool();
}

std::string model_list(const harness::local_model_registry& models) {
  std::string names;
  for (const auto& [name, m] : models) names += (names.empty() ? "" : ", ") + name;
  return names.empty() ? "none" : names;
}

// The model the request names. With `required` false and exactly one model
// loaded, a missing "model" picks that one (llama.cpp's /tokenize does so).
std::shared_ptr<local_model> find_model(const harness::local_model_registry& models, const json::object& o, bool required) {
  const auto* v = field(o, "model");
  if (!v) {
    if (!required && models.size() == 1) return models.begin()->second;
    throw bad("model", fmt::format("'model' is required (a string; loaded models: {})", model_list(models)), "missing_required_parameter");
  }
  if (!v->is_string()) throw bad("model", "'model' must be a string", "invalid_type");
  const std::string_view name(v->as_string().data(), v->as_string().size());
  const auto it = models.find(name);
  if (it == models.end())
    throw api_error{404, fmt::format("the model '{}' does not exist (loaded models: {})", name, model_list(models)), "model", "model_not_found"};
  return it->second;
}

const engine::tokenizer& tokenizer_of(const local_model& m) {
  if (!m.engine().has_tokenizer()) throw bad("model", fmt::format("the model '{}' has no tokenizer in its GGUF file", m.name()));
  return m.engine().tokenizer();
}

// Sampling and length options shared by both endpoints.
struct generation_params {
  std::optional<std::int32_t> max_tokens;
  double temperature = 1.0;  // OpenAI's default
  double top_p = 1.0;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
};

generation_params parse_generation(const json::object& o, const openai_routes_options& opt, bool chat) {
  generation_params p;
  if (const auto* n = field(o, "n")) {
    const auto i = as_integer(*n);
    if (!i) throw bad("n", "'n' must be an integer", "invalid_type");
    if (*i != 1) throw bad("n", fmt::format("only n = 1 is supported (got {}); send several requests or several prompts instead", *i), "invalid_value");
  }
  if (const auto* b = field(o, "best_of")) {
    const auto i = as_integer(*b);
    if (!i || *i != 1) throw bad("best_of", "only best_of = 1 is supported", "invalid_value");
  }
  std::optional<std::int64_t> max_tokens;
  if (chat) max_tokens = get_int(o, "max_completion_tokens", 0, INT32_MAX);
  if (!max_tokens) max_tokens = get_int(o, "max_tokens", 0, INT32_MAX);
  if (max_tokens) p.max_tokens = static_cast<std::int32_t>(*max_tokens);
  p.temperature = get_number(o, "temperature", 0.0, 2.0).value_or(1.0);
  p.top_p = get_number(o, "top_p", 0.0, 1.0).value_or(1.0);
  if (const auto* s = field(o, "seed")) {
    const auto i = as_integer(*s);
    if (!i && !s->is_uint64()) throw bad("seed", "'seed' must be an integer", "invalid_type");
    p.seed = s->is_uint64() ? s->as_uint64() : static_cast<std::uint64_t>(*i);
  }
  if (const auto* s = field(o, "stop")) {
    if (s->is_string()) {
      p.stop.emplace_back(s->as_string());
    } else if (s->is_array()) {
      const auto& a = s->as_array();
      if (static_cast<std::int64_t>(a.size()) > opt.max_stop_strings)
        throw bad("stop", fmt::format("'stop' may hold at most {} strings; got {}", opt.max_stop_strings, a.size()), "invalid_value");
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_string()) throw bad("stop", fmt::format("'stop[{}]' must be a string", i), "invalid_type");
        p.stop.emplace_back(a[i].as_string());
      }
    } else {
      throw bad("stop", "'stop' must be a string or an array of strings", "invalid_type");
    }
    std::erase_if(p.stop, [](const std::string& s) { return s.empty(); });
  }
  p.stream = get_bool(o, "stream").value_or(false);
  if (const auto* so = field(o, "stream_options")) {
    if (!so->is_object()) throw bad("stream_options", "'stream_options' must be an object", "invalid_type");
    if (const auto* iu = field(so->as_object(), "include_usage")) {
      if (!iu->is_bool()) throw bad("stream_options.include_usage", "'stream_options.include_usage' must be true or false", "invalid_type");
      p.include_usage = iu->as_bool();
    }
  }
  return p;
}

// Checks that the prompt plus the completion fit the model's context.
void check_context(const local_model& m, std::size_t n_prompt, std::int32_t max_tokens, const std::string& prompt_param,
                   const std::string& max_tokens_param) {
  const auto n_ctx = static_cast<std::int64_t>(m.n_ctx());
  const auto n = static_cast<std::int64_t>(n_prompt);
  if (n >= n_ctx && max_tokens > 0)
    throw bad(prompt_param, fmt::format("the prompt has {} tokens; the model '{}' holds {} tokens in its context", n, m.name(), n_ctx),
              "context_length_exceeded");
  if (n + max_tokens > n_ctx)
    throw bad(max_tokens_param,
              fmt::format("this model's maximum context length is {} tokens; the request asks for {} ({} in the prompt, {} in the completion)",
                          n_ctx, n + max_tokens, n, max_tokens),
              "context_length_exceeded");
}

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += digits[gen() % (sizeof(digits) - 1)];
  return id;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// OpenAI reports -9999 where a log-probability is -inf; JSON has no infinities.
double finite_logprob(float lp) { return std::isfinite(lp) ? static_cast<double>(lp) : -9999.0; }

// A token's bytes for logprobs; its text is harness::token_display_text
// ("bytes:\xNN" where the piece is not valid UTF-8).
json::array token_bytes(const engine::tokenizer& tok, std::int32_t id) {
  json::array bytes;
  for (const auto b : harness::token_bytes(tok, id)) bytes.push_back(static_cast<std::int64_t>(b));
  return bytes;
}

json::object usage_of(std::int64_t prompt, std::int64_t completion) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

// One server-sent event carrying `chunk`; false once the client has gone.
bool send_event(chunk_writer& w, const json::object& chunk) {
  return w.write("data: " + json::serialize(chunk) + "\n\n");
}

// A failure after the headers went out can only travel as an error event.
void send_stream_error(chunk_writer& w, const api_error& e) { send_event(w, json::parse(openai_error(e).body).as_object()); }
void send_stream_error(chunk_writer& w, const std::exception& e) {
  log::error("streamed completion failed: {}", e.what());
  send_stream_error(w, api_error{500, fmt::format("internal error: {}", e.what()), "", "", "server_error"});
}

// The end of a stream: a usage chunk (empty choices) when the request asked
// for one, then [DONE].
void end_stream(chunk_writer& w, json::object usage_chunk, bool include_usage, std::int64_t n_prompt,
                std::int64_t n_completion) {
  if (include_usage) {
    usage_chunk["choices"] = json::array{};
    usage_chunk["usage"] = usage_of(n_prompt, n_completion);
    if (!send_event(w, usage_chunk)) return;
  }
  w.write("data: [DONE]\n\n");
}

// Waits for a future, turning the engine's input_error into a 400 naming `param`.
template <class T>
T get_or_400(std::future<T>& f, const std::string& param) {
  try {
    return f.get();
  } catch (const input_error& e) {
    throw bad(param, e.what());
  }
}

// Pieces and final results of one request's generations, shared between the
// handler and (when streaming) the body writer.
struct generation_set {
  std::shared_ptr<local_model> model;
  std::vector<std::vector<std::int32_t>> prompts;
  std::vector<std::future<engine::generate_result>> futures;  // empty entry where max_tokens == 0
  std::vector<std::optional<engine::generate_result>> early;  // results that were ready at submit
  std::shared_ptr<harness::text_channel> channel = std::make_shared<harness::text_channel>();
};

// Submits one generate request per prompt; returns at once. A request the
// engine rejects on submit (it resolves immediately) becomes a 400 here, before
// any streamed byte leaves.
void submit_generations(generation_set& set, const generation_params& p, std::int32_t max_tokens, const std::string& param) {
  for (std::size_t i = 0; i < set.prompts.size(); ++i) {
    if (max_tokens == 0) {
      set.futures.emplace_back();
      continue;
    }
    engine::generate_request r;
    r.prompt = set.prompts[i];
    r.sampling = harness::sampling_for(p.temperature, p.top_p, p.seed);
    r.max_tokens = max_tokens;
    r.stop = p.stop;
    r.on_text = harness::text_channel::writer(set.channel, i);
    set.futures.push_back(set.model->submit(std::move(r)));
  }
  set.early.resize(set.futures.size());
  for (std::size_t i = 0; i < set.futures.size(); ++i)
    if (set.futures[i].valid() && set.futures[i].wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      set.early[i] = get_or_400(set.futures[i], param);
}

// The result of prompt i (an empty one for max_tokens == 0).
engine::generate_result take_result(generation_set& set, std::size_t i, const std::string& param) {
  if (set.early[i]) return *set.early[i];
  if (!set.futures[i].valid()) {
    engine::generate_result r;
    r.n_prompt = static_cast<std::int32_t>(set.prompts[i].size());
    return r;
  }
  return get_or_400(set.futures[i], param);
}

// Teacher-forced scores of `continuation` after `context` with top_n alternatives
// (empty when there is nothing to score).
// as_prompt: score_request::continuation_as_prompt (an echoed prompt; off for
// generated tokens, which keep the numbers generation computed them with).
std::vector<engine::token_score> score_tokens(local_model& m, std::vector<std::int32_t> context, std::vector<std::int32_t> continuation,
                                              std::int32_t top_n, const std::string& param, bool as_prompt = false) {
  if (continuation.empty() || context.empty()) return {};
  engine::score_request r;
  r.context = std::move(context);
  r.continuation = std::move(continuation);
  r.top_n = top_n;
  r.continuation_as_prompt = as_prompt;
  auto f = m.submit(std::move(r));
  return get_or_400(f, param).tokens;
}

// ---------- /v1/completions ----------

// Where each token's text starts in a choice's text (the prompt as given,
// then the completion), in code points: OpenAI's text_offset. The token's
// piece is matched at the read position; text the tokenizer added and the
// text does not hold takes no room: a control token the text does not spell
// (BOS), SentencePiece's leading space before the first word (and after each
// special token). A piece that does not match (never for a faithful
// tokenizer) still advances by its length. A token that starts inside a
// character (a byte-fallback piece) gets that character's offset.
class text_offsets {
 public:
  explicit text_offsets(std::string text) : text_(std::move(text)) {}

  std::int64_t next(const engine::tokenizer& tok, std::int32_t id) {
    const std::string_view rest = std::string_view(text_).substr(at_);
    std::string piece = tok.token_to_piece(id);
    if (tok.is_control(id)) {
      const std::string spelled = tok.token_to_piece(id, true);
      piece = rest.starts_with(spelled) ? spelled : std::string();
    } else if (!rest.starts_with(piece) && piece.starts_with(' ') && rest.starts_with(std::string_view(piece).substr(1))) {
      piece.erase(0, 1);
    }
    const bool inside_character = at_ < text_.size() && is_continuation_byte(text_[at_]);
    const std::int64_t offset = code_points_before_ - (inside_character ? 1 : 0);
    const std::size_t end = at_ + std::min(piece.size(), rest.size());
    for (; at_ < end; ++at_) code_points_before_ += is_continuation_byte(text_[at_]) ? 0 : 1;
    return offset;
  }

 private:
  static bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

  std::string text_;
  std::size_t at_ = 0;                   // bytes of text_ taken by earlier tokens
  std::int64_t code_points_before_ = 0;  // characters starting before at_
};

// Legacy completions logprobs: parallel arrays, one entry per token.
struct completion_logprobs {
  json::array tokens, token_logprobs, top_logprobs, text_offset;
  text_offsets offsets;

  explicit completion_logprobs(std::string text) : offsets(std::move(text)) {}

  void add(const engine::tokenizer& tok, std::int32_t id, const engine::token_score* score) {
    tokens.push_back(json::value(harness::token_display_text(tok, id)));
    if (score) {
      token_logprobs.push_back(finite_logprob(score->logprob));
      json::object top;
      for (const auto& [alt, lp] : score->top) top[harness::token_display_text(tok, alt)] = finite_logprob(lp);
      top_logprobs.push_back(std::move(top));
    } else {
      token_logprobs.push_back(nullptr);
      top_logprobs.push_back(nullptr);
    }
    text_offset.push_back(offsets.next(tok, id));
  }
  json::object to_json() && {
    return {{"tokens", std::move(tokens)}, {"token_logprobs", std::move(token_logprobs)},
            {"top_logprobs", std::move(top_logprobs)}, {"text_offset", std::move(text_offset)}};
  }
};

// The token-id prompts of a completions request and, for echo, their text.
std::vector<std::vector<std::int32_t>> parse_prompts(const json::object& o, const engine::tokenizer& tok, const openai_routes_options& opt,
                                                     std::vector<std::string>& texts) {
  const auto* v = field(o, "prompt");
  if (!v) throw bad("prompt", "'prompt' is required (a string, an array of strings, an array of token ids or an array of arrays of token ids)",
                    "missing_required_parameter");
  const auto n_vocab = tok.n_tokens();
  std::vector<std::vector<std::int32_t>> prompts;
  auto from_text = [&](const json::string& s) {
    texts.emplace_back(s);
    prompts.push_back(tok.tokenize(texts.back(), {.add_special = true, .parse_special = true}));
  };
  auto from_ids = [&](const json::array& a, const std::string& where) {
    std::vector<std::int32_t> ids;
    for (std::size_t j = 0; j < a.size(); ++j) {
      const auto id = as_integer(a[j]);
      if (!id) throw bad("prompt", fmt::format("'{}[{}]' must be a token id (an integer)", where, j), "invalid_type");
      if (*id < 0 || *id >= n_vocab)
        throw bad("prompt", fmt::format("'{}[{}]' = {} is outside the vocabulary [0, {})", where, j, *id, n_vocab), "invalid_value");
      ids.push_back(static_cast<std::int32_t>(*id));
    }
    texts.push_back(tok.detokenize(ids));
    prompts.push_back(std::move(ids));
  };
  if (v->is_string()) {
    from_text(v->as_string());
  } else if (v->is_array()) {
    const auto& a = v->as_array();
    if (a.empty()) throw bad("prompt", "'prompt' must not be an empty array", "invalid_value");
    if (a[0].is_number()) {
      from_ids(a, "prompt");
    } else {
      if (static_cast<std::int64_t>(a.size()) > opt.max_prompts)
        throw bad("prompt", fmt::format("at most {} prompts per request; got {}", opt.max_prompts, a.size()), "invalid_value");
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].is_string()) from_text(a[i].as_string());
        else if (a[i].is_array()) from_ids(a[i].as_array(), fmt::format("prompt[{}]", i));
        else throw bad("prompt", fmt::format("'prompt[{}]' must be a string or an array of token ids", i), "invalid_type");
      }
    }
  } else {
    throw bad("prompt", "'prompt' must be a string, an array of strings, an array of token ids or an array of arrays of token ids", "invalid_type");
  }
  for (std::size_t i = 0; i < prompts.size(); ++i)
    if (prompts[i].empty()) throw bad("prompt", fmt::format("prompt {} has no tokens", i), "invalid_value");
  return prompts;
}

struct completion_request {
  generation_params gen;
  std::int32_t max_tokens = 16;
  bool echo = false;
  std::optional<std::int32_t> logprobs;
  std::vector<std::string> texts;  // prompt texts (echo)
};

// Logprobs of prompt i's choice: the echoed prompt (first token null, every
// other token scored as one forward pass, as a prompt) then the completion.
json::value completion_choice_logprobs(local_model& m, const completion_request& req, const std::vector<std::int32_t>& prompt,
                                       std::size_t i_prompt, const engine::generate_result& result) {
  if (!req.logprobs) return nullptr;
  const auto& tok = tokenizer_of(m);
  const std::int32_t top_n = *req.logprobs;
  completion_logprobs lp(req.echo ? req.texts[i_prompt] + result.text : result.text);
  if (req.echo) {
    const auto scores = score_tokens(m, {prompt.front()}, {prompt.begin() + 1, prompt.end()}, top_n, "prompt", true);
    lp.add(tok, prompt.front(), nullptr);
    for (std::size_t i = 1; i < prompt.size(); ++i) lp.add(tok, prompt[i], &scores[i - 1]);
  }
  const auto scores = score_tokens(m, prompt, result.tokens, top_n, "prompt");
  for (std::size_t i = 0; i < result.tokens.size(); ++i) lp.add(tok, result.tokens[i], &scores[i]);
  return std::move(lp).to_json();
}

response completions(const harness::local_model_registry& models, const openai_routes_options& opt, const request& http_req) {
  const json::object o = parse_body(http_req);
  auto model = find_model(models, o, true);
  const auto& tok = tokenizer_of(*model);
  completion_request req;
  req.gen = parse_generation(o, opt, false);
  req.max_tokens = req.gen.max_tokens.value_or(opt.default_completion_tokens);
  req.echo = get_bool(o, "echo").value_or(false);
  if (const auto* lp = field(o, "logprobs")) {
    if (lp->is_bool()) throw bad("logprobs", "'logprobs' on /v1/completions is an integer (the number of alternatives per token), not a boolean", "invalid_type");
    req.logprobs = static_cast<std::int32_t>(*get_int(o, "logprobs", 0, opt.max_completion_logprobs));
  }
  if (field(o, "suffix")) throw bad("suffix", "'suffix' (fill-in-the-middle) is not supported", "unsupported_parameter");

  generation_set set;
  set.model = model;
  set.prompts = parse_prompts(o, tok, opt, req.texts);
  for (const auto& p : set.prompts) {
    if (req.max_tokens == 0 && static_cast<std::int64_t>(p.size()) > model->n_ctx())
      throw bad("prompt", fmt::format("the prompt has {} tokens; the model '{}' holds {}", p.size(), model->name(), model->n_ctx()),
                "context_length_exceeded");
    check_context(*model, p.size(), req.max_tokens, "prompt", "max_tokens");
  }
  submit_generations(set, req.gen, req.max_tokens, "prompt");

  const std::string id = random_id("cmpl-");
  const std::int64_t created = unix_now();
  auto head = [id, created, name = model->name()](const char* object) {
    return json::object{{"id", id}, {"object", object}, {"created", created}, {"model", name}};
  };

  if (!req.gen.stream) {
    json::array choices;
    std::int64_t n_prompt = 0, n_completion = 0;
    for (std::size_t i = 0; i < set.prompts.size(); ++i) {
      const auto result = take_result(set, i, "prompt");
      n_prompt += static_cast<std::int64_t>(set.prompts[i].size());
      n_completion += static_cast<std::int64_t>(result.tokens.size());
      std::string text = req.echo ? req.texts[i] + result.text : result.text;
      choices.push_back(json::object{{"index", static_cast<std::int64_t>(i)},
                                     {"text", utf8_sanitize(text)},
                                     {"logprobs", completion_choice_logprobs(*model, req, set.prompts[i], i, result)},
                                     {"finish_reason", harness::openai_finish_reason(result.finish)}});
    }
    json::object body = head("text_completion");
    body["choices"] = std::move(choices);
    body["usage"] = usage_of(n_prompt, n_completion);
    return json_response(body);
  }

  response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  auto shared = std::make_shared<generation_set>(std::move(set));
  r.stream = [shared, req, head](chunk_writer& w) {
    auto send = [&w](const json::object& chunk) { return send_event(w, chunk); };
    auto text_chunk = [&](std::size_t index, const std::string& text, json::value logprobs, json::value finish) {
      json::object c = head("text_completion");
      c["choices"] = json::array{json::object{{"index", static_cast<std::int64_t>(index)},
                                              {"text", utf8_sanitize(text)},
                                              {"logprobs", std::move(logprobs)},
                                              {"finish_reason", std::move(finish)}}};
      if (req.gen.include_usage) c["usage"] = nullptr;
      return send(c);
    };
    auto& set = *shared;
    const std::size_t n = set.prompts.size();
    if (req.echo)
      for (std::size_t i = 0; i < n; ++i)
        if (!text_chunk(i, req.texts[i], nullptr, nullptr)) return;
    std::vector<bool> finished(n, false);
    std::size_t n_finished = 0;
    std::int64_t n_prompt = 0, n_completion = 0;
    try {
      while (n_finished < n) {
        std::vector<std::size_t> ready;
        for (std::size_t i = 0; i < n; ++i)
          if (!finished[i] && (!set.futures[i].valid() || set.futures[i].wait_for(std::chrono::seconds(0)) == std::future_status::ready))
            ready.push_back(i);
        for (auto& p : set.channel->take(ready.empty() ? stream_poll : std::chrono::milliseconds(0)))
          if (!p.text.empty() && !text_chunk(p.index, p.text, nullptr, nullptr)) return;
        for (std::size_t i : ready) {
          const auto result = take_result(set, i, "prompt");
          n_prompt += static_cast<std::int64_t>(set.prompts[i].size());
          n_completion += static_cast<std::int64_t>(result.tokens.size());
          if (!text_chunk(i, "", completion_choice_logprobs(*set.model, req, set.prompts[i], i, result), json::value(harness::openai_finish_reason(result.finish))))
            return;
          finished[i] = true;
          ++n_finished;
        }
      }
    } catch (const api_error& e) {
      send_stream_error(w, e);
      return;
    } catch (const std::exception& e) {
      send_stream_error(w, e);
      return;
    }
    end_stream(w, head("text_completion"), req.gen.include_usage, n_prompt, n_completion);
  };
  return r;
}

// ---------- /v1/chat/completions ----------

std::vector<harness::chat_message> parse_messages(const json::object& o) {
  const auto* v = field(o, "messages");
  if (!v) throw bad("messages", "'messages' is required (a non-empty array of {role, content})", "missing_required_parameter");
  if (!v->is_array()) throw bad("messages", "'messages' must be an array", "invalid_type");
  const auto& a = v->as_array();
  if (a.empty()) throw bad("messages", "'messages' must not be empty", "invalid_value");
  std::vector<harness::chat_message> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string where = fmt::format("messages[{}]", i);
    if (!a[i].is_object()) throw bad(where, fmt::format("'{}' must be an object with role and content", where), "invalid_type");
    const auto& m = a[i].as_object();
    const auto* role = field(m, "role");
    if (!role || !role->is_string()) throw bad(where + ".role", fmt::format("'{}.role' must be a string", where), "invalid_type");
    std::string r(role->as_string());
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      throw bad(where + ".role", fmt::format("'{}.role' must be system, developer, user, assistant or tool; got '{}'", where, r), "invalid_value");
    const auto* content = field(m, "content");
    std::string text;
    if (!content) throw bad(where + ".content", fmt::format("'{}.content' is required", where), "missing_required_parameter");
    if (content->is_string()) {
      text = content->as_string();
    } else if (content->is_array()) {
      // Content parts: only text parts, concatenated.
      const auto& parts = content->as_array();
      for (std::size_t j = 0; j < parts.size(); ++j) {
        const std::string pw = fmt::format("{}.content[{}]", where, j);
        const auto* type = parts[j].is_object() ? field(parts[j].as_object(), "type") : nullptr;
        const auto* t = parts[j].is_object() ? field(parts[j].as_object(), "text") : nullptr;
        if (!type || !type->is_string() || type->as_string() != "text" || !t || !t->is_string())
          throw bad(pw, fmt::format("'{}' must be a text part {{\"type\": \"text\", \"text\": ...}} (this server takes text only)", pw), "invalid_value");
        text += t->as_string();
      }
    } else {
      throw bad(where + ".content", fmt::format("'{}.content' must be a string or an array of text parts", where), "invalid_type");
    }
    out.push_back({std::move(r), std::move(text)});
  }
  return out;
}

struct chat_request {
  generation_params gen;
  std::int32_t max_tokens = 0;
  bool logprobs = false;
  std::int32_t top_logprobs = 0;
};

json::value chat_choice_logprobs(local_model& m, const chat_request& req, const std::vector<std::int32_t>& prompt,
                                 const engine::generate_result& result) {
  if (!req.logprobs) return nullptr;
  const auto& tok = tokenizer_of(m);
  const auto scores = score_tokens(m, prompt, result.tokens, req.top_logprobs, "messages");
  json::array content;
  for (std::size_t i = 0; i < result.tokens.size(); ++i) {
    json::array top;
    for (const auto& [alt, lp] : scores[i].top)
      top.push_back(json::object{{"token", harness::token_display_text(tok, alt)}, {"logprob", finite_logprob(lp)}, {"bytes", token_bytes(tok, alt)}});
    content.push_back(json::object{{"token", harness::token_display_text(tok, result.tokens[i])},
                                   {"logprob", finite_logprob(scores[i].logprob)},
                                   {"bytes", token_bytes(tok, result.tokens[i])},
                                   {"top_logprobs", std::move(top)}});
  }
  return json::object{{"content", std::move(content)}, {"refusal", nullptr}};
}

response chat_completions(const harness::local_model_registry& models, const openai_routes_options& opt, const request& http_req) {
  const json::object o = parse_body(http_req);
  auto model = find_model(models, o, true);
  tokenizer_of(*model);
  chat_request req;
  req.gen = parse_generation(o, opt, true);
  req.logprobs = get_bool(o, "logprobs").value_or(false);
  if (const auto top = get_int(o, "top_logprobs", 0, opt.max_top_logprobs)) {
    if (!req.logprobs) throw bad("top_logprobs", "'top_logprobs' needs 'logprobs': true", "invalid_value");
    req.top_logprobs = static_cast<std::int32_t>(*top);
  }
  // An empty tool list asks for nothing; a non-empty one we cannot honour.
  for (const char* name : {"tools", "functions"})
    if (const auto* t = field(o, name); t && !(t->is_array() && t->as_array().empty()))
      throw bad(name, "tool calling is not supported by local models", "unsupported_parameter");
  const auto messages = parse_messages(o);
  if (!model->has_chat_template())
    throw bad("model", fmt::format("the model '{}' has no chat template this server can render; use /v1/completions", model->name()),
              "unsupported_model");
  generation_set set;
  set.model = model;
  try {
    set.prompts.push_back(model->chat_prompt(messages));
  } catch (const input_error& e) {
    throw bad("messages", e.what(), "invalid_value");
  }
  const auto n_prompt = static_cast<std::int64_t>(set.prompts[0].size());
  if (n_prompt >= model->n_ctx())
    throw bad("messages", fmt::format("the messages take {} tokens; the model '{}' holds {}", n_prompt, model->name(), model->n_ctx()),
              "context_length_exceeded");
  // Without a limit, the answer may fill the rest of the context.
  req.max_tokens = req.gen.max_tokens.value_or(static_cast<std::int32_t>(model->n_ctx() - n_prompt));
  check_context(*model, set.prompts[0].size(), req.max_tokens, "messages",
                field(o, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
  submit_generations(set, req.gen, req.max_tokens, "messages");

  const std::string id = random_id("chatcmpl-");
  const std::int64_t created = unix_now();
  auto head = [id, created, name = model->name()](const char* object) {
    return json::object{{"id", id}, {"object", object}, {"created", created}, {"model", name}, {"system_fingerprint", nullptr}};
  };

  if (!req.gen.stream) {
    const auto result = take_result(set, 0, "messages");
    json::object body = head("chat.completion");
    body["choices"] = json::array{json::object{
        {"index", 0},
        {"message", json::object{{"role", "assistant"}, {"content", utf8_sanitize(result.text)}, {"refusal", nullptr}}},
        {"logprobs", chat_choice_logprobs(*model, req, set.prompts[0], result)},
        {"finish_reason", harness::openai_finish_reason(result.finish)}}};
    body["usage"] = usage_of(n_prompt, static_cast<std::int64_t>(result.tokens.size()));
    return json_response(body);
  }

  response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  auto shared = std::make_shared<generation_set>(std::move(set));
  r.stream = [shared, req, head, n_prompt](chunk_writer& w) {
    auto send = [&w](const json::object& chunk) { return send_event(w, chunk); };
    auto delta_chunk = [&](json::object delta, json::value logprobs, json::value finish) {
      json::object c = head("chat.completion.chunk");
      c["choices"] = json::array{json::object{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)}, {"finish_reason", std::move(finish)}}};
      if (req.gen.include_usage) c["usage"] = nullptr;
      return send(c);
    };
    auto& set = *shared;
    if (!delta_chunk(json::object{{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)) return;
    std::int64_t n_completion = 0;
    try {
      while (true) {
        const bool ready = !set.futures[0].valid() || set.futures[0].wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        for (auto& p : set.channel->take(ready ? std::chrono::milliseconds(0) : stream_poll))
          if (!p.text.empty() && !delta_chunk(json::object{{"content", utf8_sanitize(p.text)}}, nullptr, nullptr)) return;
        if (!ready) continue;
        const auto result = take_result(set, 0, "messages");
        n_completion = static_cast<std::int64_t>(result.tokens.size());
        if (!delta_chunk(json::object{}, chat_choice_logprobs(*set.model, req, set.prompts[0], result),
                         json::value(harness::openai_finish_reason(result.finish))))
          return;
        break;
      }
    } catch (const api_error& e) {
      send_stream_error(w, e);
      return;
    } catch (const std::exception& e) {
      send_stream_error(w, e);
      return;
    }
    end_stream(w, head("chat.completion.chunk"), req.gen.include_usage, n_prompt, n_completion);
  };
  return r;
}

// ---------- /v1/models, /tokenize, /detokenize ----------

// One model in OpenAI's "model" object shape (plus llama.cpp's "meta").
json::object model_object(const std::string& name, const local_model& m) {
  return json::object{{"id", name}, {"object", "model"}, {"created", m.created()}, {"owned_by", "huashan"},
                      {"meta", json::object{{"n_ctx", m.n_ctx()}, {"n_vocab", m.engine().model().hp.n_vocab}}}};
}

response list_models(const harness::local_model_registry& models) {
  json::array data;
  for (const auto& [name, m] : models) data.push_back(model_object(name, *m));
  return json_response(json::object{{"object", "list"}, {"data", std::move(data)}});
}

// GET /v1/models/{id} (OpenAI's "retrieve model"): the model object, or 404
// model_not_found in OpenAI's error shape. The id is one path segment
// (percent-decoded), so a name containing '/' cannot be retrieved here.
response retrieve_model(const harness::local_model_registry& models, const request& req) {
  const auto& id = req.path_params.at("id");
  const auto it = models.find(id);
  if (it == models.end())
    throw api_error{404, fmt::format("the model '{}' does not exist (loaded models: {})", id.substr(0, 256), model_list(models)),
                    "model", "model_not_found"};
  return json_response(model_object(it->first, *it->second));
}

response tokenize(const harness::local_model_registry& models, const request& http_req) {
  const json::object o = parse_body(http_req);
  const auto model = find_model(models, o, false);
  const auto& tok = tokenizer_of(*model);
  const auto* content = field(o, "content");
  if (!content) throw bad("content", "'content' is required (a string)", "missing_required_parameter");
  if (!content->is_string()) throw bad("content", "'content' must be a string", "invalid_type");
  // llama.cpp's defaults: no BOS unless asked, control-token texts parsed.
  const bool add_special = get_bool(o, "add_special").value_or(false);
  const bool parse_special = get_bool(o, "parse_special").value_or(true);
  const bool with_pieces = get_bool(o, "with_pieces").value_or(false);
  const auto ids = tok.tokenize(std::string_view(content->as_string().data(), content->as_string().size()),
                                {.add_special = add_special, .parse_special = parse_special});
  json::array tokens;
  for (const auto id : ids) {
    if (!with_pieces) {
      tokens.push_back(id);
      continue;
    }
    const std::string piece = tok.token_to_piece(id, true);
    json::value p = utf8_is_valid(piece) ? json::value(piece) : json::value(token_bytes(tok, id));
    tokens.push_back(json::object{{"id", id}, {"piece", std::move(p)}});
  }
  return json_response(json::object{{"tokens", std::move(tokens)}});
}

response detokenize(const harness::local_model_registry& models, const request& http_req) {
  const json::object o = parse_body(http_req);
  const auto model = find_model(models, o, false);
  const auto& tok = tokenizer_of(*model);
  const auto* tokens = field(o, "tokens");
  if (!tokens) throw bad("tokens", "'tokens' is required (an array of token ids)", "missing_required_parameter");
  if (!tokens->is_array()) throw bad("tokens", "'tokens' must be an array of token ids", "invalid_type");
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < tokens->as_array().size(); ++i) {
    const auto id = as_integer(tokens->as_array()[i]);
    if (!id) throw bad("tokens", fmt::format("'tokens[{}]' must be an integer", i), "invalid_type");
    if (*id < 0 || *id >= tok.n_tokens())
      throw bad("tokens", fmt::format("'tokens[{}]' = {} is outside the vocabulary [0, {})", i, *id, tok.n_tokens()), "invalid_value");
    ids.push_back(static_cast<std::int32_t>(*id));
  }
  return json_response(json::object{{"content", utf8_sanitize(tok.detokenize(ids))}});
}

// Every /v1 failure in OpenAI's shape: the client's as 4xx, ours as 500.
handler v1(std::function<response(const request&)> f) {
  return [f = std::move(f)](const request& req) {
    try {
      return f(req);
    } catch (const api_error& e) {
      return openai_error(e);
    } catch (const input_error& e) {
      return openai_error(bad("", e.what()));
    } catch (const std::exception& e) {
      log::error("{} {}: {}", req.method, req.path, e.what());
      return openai_error(api_error{500, fmt::format("internal error: {}", e.what()), "", "", "server_error"});
    }
  };
}

// Outside /v1 (the llama.cpp-style routes): RFC 9457 problem+json naming the field.
handler plain(std::function<response(const request&)> f) {
  return [f = std::move(f)](const request& req) {
    try {
      return f(req);
    } catch (const api_error& e) {
      return problem(e.status, e.status == 404 ? "Not Found" : "Bad Request",
                     e.param.empty() ? e.message : fmt::format("{}: {}", e.param, e.message));
    } catch (const input_error& e) {
      return problem(400, "Bad Request", e.what());
    } catch (const std::exception& e) {
      log::error("{} {}: {}", req.method, req.path, e.what());
      return problem(500, "Internal Server Error", e.what());
    }
  };
}

}  // namespace

void add_openai_routes(router& routes, harness::local_model_registry models, openai_routes_options options) {
  auto shared = std::make_shared<const harness::local_model_registry>(std::move(models));
  routes.add("GET", "/v1/models", v1([shared](const request&) { return list_models(*shared); }), handler_mode::never_blocks);
  routes.add("GET", "/v1/models/{id}", v1([shared](const request& r) { return retrieve_model(*shared, r); }),
             handler_mode::never_blocks);
  routes.add("POST", "/v1/completions", v1([shared, options](const request& r) { return completions(*shared, options, r); }));
  routes.add("POST", "/v1/chat/completions",
             v1([shared, options](const request& r) { return chat_completions(*shared, options, r); }));
  routes.add("POST", "/tokenize", plain([shared](const request& r) { return tokenize(*shared, r); }));
  routes.add("POST", "/detokenize", plain([shared](const request& r) { return detokenize(*shared, r); }));
}

}  // namespace huashan::arena::http
