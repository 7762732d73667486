#include "harness/eval/contamination.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "harness/eval/doc_sample.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

constexpr double units_per_nat = 16777216.0;  // 2^24
// Beyond any real text's log-likelihood, and small enough that a sum of a few
// thousand stays below 2^53 units (so JSON's doubles carry it exactly).
constexpr double logprob_floor = -1e6;

const json::value& field(const json::object& o, std::string_view name, std::string_view where) {
  const auto* v = o.if_contains(name);
  if (!v) throw input_error(fmt::format("contamination record: field '{}{}' is missing", where, name));
  return *v;
}
std::int64_t int_field(const json::object& o, std::string_view name, std::string_view where) {
  const auto& v = field(o, name, where);
  if (!v.is_int64() && !v.is_uint64())
    throw input_error(fmt::format("contamination record: field '{}{}' must be a whole number", where, name));
  return v.to_number<std::int64_t>();
}

json::object total_json(const likelihood_total& t) {
  json::object o;
  o["logprob_sum"] = t.logprob_sum();
  o["tokens"] = t.tokens;
  o["documents"] = t.documents;
  const auto mean = t.mean_per_token();
  o["mean_logprob_per_token"] = mean ? json::value(*mean) : json::value(nullptr);
  return o;
}

likelihood_total total_from_json(const json::object& parent, std::string_view name) {
  const auto& v = field(parent, name, "");
  if (!v.is_object()) throw input_error(fmt::format("contamination record: field '{}' must be an object", name));
  const auto& o = v.get_object();
  const std::string where = std::string(name) + ".";
  const auto& sum = field(o, "logprob_sum", where);
  if (!sum.is_number()) throw input_error(fmt::format("contamination record: field '{}logprob_sum' must be a number", where));
  likelihood_total t;
  t.logprob_units = std::llround(sum.to_number<double>() * units_per_nat);
  t.tokens = int_field(o, "tokens", where);
  t.documents = int_field(o, "documents", where);
  return t;
}

likelihood_total merge_totals(const likelihood_total& a, const likelihood_total& b) {
  return {a.logprob_units + b.logprob_units, a.tokens + b.tokens, a.documents + b.documents};
}

// Next code point of UTF-8 `s` at `i` (advanced); a stray byte is itself.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i++]);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
  for (; extra > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80; --extra)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x2FFFF);
}

// What the model is asked to score for a document without any few-shot
// context or description: the question (doc_to_text), or a perplexity
// task's text. Rendered by prepare_task itself, so it is the very text the
// run's prompts end with.
std::vector<std::string> question_texts(const task_config& task, const std::vector<document>& docs,
                                        const std::vector<std::int64_t>& positions) {
  if (positions.empty()) return {};
  task_config bare = task;
  bare.description.clear();
  bare.num_fewshot = 0;
  std::vector<document> picked;
  picked.reserve(positions.size());
  for (const auto p : positions) picked.push_back(docs[static_cast<std::size_t>(p)]);
  prepare_options options;
  options.num_fewshot = 0;
  const auto prepared = prepare_task(bare, picked, {}, options);
  std::vector<std::string> out;
  out.reserve(prepared.docs.size());
  for (const auto& d : prepared.docs) {
    if (task.output == output_type::loglikelihood_rolling) out.push_back(std::get<rolling_request>(d.requests.front().args).text);
    else out.push_back(d.prompt);
  }
  return out;
}

likelihood_total score_texts(model_backend& model, const std::vector<std::string>& texts, std::int64_t batch_size) {
  likelihood_total total;
  std::vector<rolling_request> reqs;
  for (const auto& t : texts)
    if (!t.empty()) reqs.push_back({t});
  const auto batch = static_cast<std::size_t>(std::max<std::int64_t>(batch_size, 1));
  for (std::size_t begin = 0; begin < reqs.size(); begin += batch) {
    const auto n = std::min(batch, reqs.size() - begin);
    const auto got = model.loglikelihood_rolling(std::span<const rolling_request>(reqs.data() + begin, n));
    if (got.size() != n) throw error(fmt::format("{} answered {} of {} requests", model.describe(), got.size(), n));
    for (const auto& r : got) total.add(r.logprob, r.n_tokens);
  }
  return total;
}

std::vector<std::string> read_passages(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot read the contamination hint's control passages", file.string()));
  std::vector<std::string> passages;
  std::string line, passage;
  auto finish = [&] {
    while (!passage.empty() && passage.back() == '\n') passage.pop_back();
    if (!passage.empty()) passages.push_back(std::move(passage));
    passage.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) finish();
    else passage += line + "\n";
  }
  finish();
  if (passages.empty()) throw input_error(fmt::format("{}: expected control passages separated by blank lines, found none", file.string()));
  return passages;
}

}  // namespace

void likelihood_total::add(double logprob, std::int64_t n_tokens) {
  const double lp = std::isnan(logprob) ? logprob_floor : std::clamp(logprob, logprob_floor, 0.0 - logprob_floor);
  logprob_units += std::llround(lp * units_per_nat);
  tokens += n_tokens;
  ++documents;
}

double likelihood_total::logprob_sum() const { return static_cast<double>(logprob_units) / units_per_nat; }

std::optional<double> likelihood_total::mean_per_token() const {
  if (tokens <= 0) return std::nullopt;
  return logprob_sum() / static_cast<double>(tokens);
}

bool contamination_record::flagged() const {
  const auto t = test.mean_per_token();
  const auto f = fewshot.mean_per_token();
  const auto c = control.mean_per_token();
  if (!t || !f || !c) return false;
  return *t - *f > contamination_margin && *t - *c > contamination_margin;
}

contamination_record merge(const contamination_record& a, const contamination_record& b) {
  contamination_record m;
  m.test = merge_totals(a.test, b.test);
  m.fewshot = merge_totals(a.fewshot, b.fewshot);
  m.control = merge_totals(a.control, b.control);
  m.control_language = a.control_language.empty() ? b.control_language : a.control_language;
  return m;
}

json::object to_json(const contamination_record& r) {
  json::object o;
  o["test"] = total_json(r.test);
  o["fewshot"] = total_json(r.fewshot);
  o["control"] = total_json(r.control);
  o["control_language"] = r.control_language;
  o["flagged"] = r.flagged();
  return o;
}

contamination_record contamination_from_json(const json::value& v) {
  if (!v.is_object()) throw input_error("contamination record: expected a JSON object");
  const auto& o = v.get_object();
  contamination_record r;
  r.test = total_from_json(o, "test");
  r.fewshot = total_from_json(o, "fewshot");
  r.control = total_from_json(o, "control");
  const auto& lang = field(o, "control_language", "");
  if (!lang.is_string()) throw input_error("contamination record: field 'control_language' must be a string");
  r.control_language = std::string(lang.get_string());
  return r;
}

control_passages load_control_passages(const std::filesystem::path& dir) {
  return {read_passages(dir / "zh.txt"), read_passages(dir / "en.txt")};
}

std::string text_language(std::string_view text) {
  std::int64_t ideographs = 0, letters = 0;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t cp = next_code_point(text, i);
    if (is_cjk_ideograph(cp)) ++ideographs;
    else if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) ++letters;
  }
  return ideographs > 0 && ideographs * 10 >= (ideographs + letters) * 3 ? "zh" : "en";
}

contamination_record measure_contamination(model_backend& model, const contamination_inputs& in,
                                           const control_passages& control, std::int64_t batch_size) {
  const auto& task = *in.task;
  contamination_record rec;
  const auto test_positions =
      spread_sample(in.test_count, contamination_sample_size, sample_seed(in.seed, task.task, "contamination test"));
  std::vector<std::int64_t> mine;
  for (const auto p : test_positions)
    if (p >= in.range_first && p < in.range_last) mine.push_back(p);
  rec.test = score_texts(model, question_texts(task, *in.test_docs, mine), batch_size);
  if (in.range_first != 0) return rec;

  if (in.fewshot_docs) {
    const auto positions = spread_sample(static_cast<std::int64_t>(in.fewshot_docs->size()), contamination_sample_size,
                                         sample_seed(in.seed, task.task, "contamination fewshot"));
    rec.fewshot = score_texts(model, question_texts(task, *in.fewshot_docs, positions), batch_size);
  }
  // The language of the whole sample, not of this shard's part, so every
  // split of the run into shards picks the same control.
  std::string joined;
  for (const auto& t : question_texts(task, *in.test_docs, test_positions)) joined += t;
  rec.control_language = text_language(joined);
  rec.control = score_texts(model, rec.control_language == "zh" ? control.zh : control.en, batch_size);
  return rec;
}

}  // namespace huashan::harness::eval
