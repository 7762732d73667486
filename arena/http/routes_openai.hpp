// OpenAI-compatible endpoints for the local GGUF models the server hosts, so
// any OpenAI client (and lm-evaluation-harness's local-completions /
// local-chat-completions) can use them:
//   GET  /v1/models             the loaded models
//   GET  /v1/models/{id}        one of them (404 model_not_found otherwise)
//   POST /v1/chat/completions   chat template + generation, streaming (SSE), logprobs/top_logprobs
//   POST /v1/completions        raw prompts (text or token ids, one or many), streaming,
//                               integer logprobs, echo with the prompt's log-probabilities
//   POST /tokenize, /detokenize llama.cpp server's shapes, "model" picks among several
// Errors under /v1 use OpenAI's shape {"error": {"message", "type", "param", "code"}}
// with param naming the request field; /tokenize and /detokenize answer RFC 9457
// problem+json. Bad input is always a 4xx.
//
// Deviations from OpenAI, each for a reason: n must be 1 (one sample per
// prompt; batching several prompts is how clients get many); logprobs of
// generated tokens come from re-scoring the prompt + completion with the model
// (the engine reports ids, not distributions, while sampling), so with
// temperature > 0 they are the model's untempered log-probabilities; when
// streaming, logprobs arrive with each choice's final chunk. A client that
// disconnects stops the stream, but its generation runs to its end (the
// engine has no cancellation).
#pragma once

#include <cstdint>

#include "arena/http/server.hpp"
#include "harness/local_backend.hpp"

namespace huashan::arena::http {

struct openai_routes_options {
  std::int32_t max_prompts = 64;              // prompts in one /v1/completions request
  std::int32_t max_stop_strings = 16;         // OpenAI allows 4; lm-eval tasks may send more
  std::int32_t max_completion_logprobs = 5;   // /v1/completions "logprobs" (OpenAI's bound)
  std::int32_t max_top_logprobs = 20;         // /v1/chat/completions "top_logprobs" (OpenAI's bound)
  std::int32_t default_completion_tokens = 16;  // /v1/completions without max_tokens (OpenAI's default)
};

// Adds the routes above serving `models` (may be empty: every request then
// names an unknown model and gets a 404). The registry is shared, not copied.
void add_openai_routes(router& routes, harness::local_model_registry models, openai_routes_options options = {});

}  // namespace huashan::arena::http
