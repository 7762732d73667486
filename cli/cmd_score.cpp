// `huashan score`: the teacher-forced log-probability of each continuation
// token after a prompt, its rank and the top alternatives (the scoring path
// made visible, for debugging and for checks against other engines).
#include <boost/json.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "harness/engine/engine.hpp"
#include "harness/token_text.hpp"
#include "harness/local_backend.hpp"

namespace huashan::cli {

namespace {

std::vector<std::int32_t> parse_ids(const std::string& text) {
  std::vector<std::int32_t> ids;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    try {
      std::size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<std::int32_t>(v));
    } catch (const std::exception&) {
      throw input_error(fmt::format("--continuation-ids: '{}' is not a token id (expected e.g. 1,2,3)", item));
    }
    pos = comma + 1;
  }
  return ids;
}

// A piece for display: control characters escaped.
std::string show(const std::string& piece) {
  std::string out;
  for (unsigned char c : piece) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

int run_score(const global_options& /*global*/, const score_options& o) {
  engine::engine_config cfg;
  cfg.n_threads = o.threads;
  cfg.n_ctx = o.ctx_size;
  harness::local_model model(o.model, o.model, cfg);
  const auto& tok = model.tokenizer();

  engine::score_request req;
  if (o.continuation_ids) {
    req.context = tok.tokenize(o.prompt, {.add_special = true, .parse_special = true});
    req.continuation = parse_ids(*o.continuation_ids);
  } else {
    // The split every loglikelihood request of the harness uses.
    req = model.loglikelihood_tokens(o.prompt, o.continuation);
  }
  req.top_n = o.top_n;
  const auto context = req.context;
  const auto continuation = req.continuation;
  const auto result = model.submit(std::move(req)).get();

  if (o.json) {
    boost::json::object root;
    root["model"] = o.model;
    boost::json::array ctx;
    for (auto id : context) ctx.push_back(id);
    root["context_ids"] = std::move(ctx);
    boost::json::array toks;
    for (const auto& t : result.tokens) {
      boost::json::object e;
      e["id"] = t.id;
      // JSON must be UTF-8: a byte-fallback piece is spelled "bytes:\xNN", its bytes beside it.
      e["piece"] = harness::token_display_text(tok, t.id);
      boost::json::array bytes;
      for (const auto b : harness::token_bytes(tok, t.id)) bytes.push_back(b);
      e["bytes"] = std::move(bytes);
      e["logprob"] = t.logprob;
      e["rank"] = t.rank;
      boost::json::array top;
      for (const auto& [id, lp] : t.top) top.push_back(boost::json::object{{"id", id}, {"piece", harness::token_display_text(tok, id)}, {"logprob", lp}});
      e["top"] = std::move(top);
      toks.push_back(std::move(e));
    }
    root["continuation"] = std::move(toks);
    root["logprob_sum"] = result.logprob;
    root["is_greedy"] = result.is_greedy;
    std::printf("%s\n", boost::json::serialize(root).c_str());
    return 0;
  }
  std::printf("context: %zu tokens, continuation: %zu tokens\n", context.size(), continuation.size());
  std::printf("%4s %8s %-16s %10s %6s  top-%d\n", "step", "id", "piece", "logprob", "rank", o.top_n);
  for (std::size_t k = 0; k < result.tokens.size(); ++k) {
    const auto& t = result.tokens[k];
    std::string alts;
    for (const auto& [id, lp] : t.top) alts += fmt::format("{}{} \"{}\" {:.4f}", alts.empty() ? "" : " | ", id, show(tok.token_to_piece(id, true)), lp);
    std::printf("%4zu %8d %-16s %10.4f %6d  %s\n", k, t.id, ("\"" + show(tok.token_to_piece(t.id, true)) + "\"").c_str(), t.logprob, t.rank, alts.c_str());
  }
  std::printf("sum logprob: %.6f  greedy: %s\n", result.logprob, result.is_greedy ? "yes" : "no");
  return 0;
}

}  // namespace huashan::cli
