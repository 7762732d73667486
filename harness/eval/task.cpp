#include "harness/eval/task.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "common/error.hpp"
#include "harness/eval/circular.hpp"
#include "harness/eval/fewshot.hpp"
#include "harness/eval/filters.hpp"
#include "harness/eval/hashing.hpp"
#include "harness/eval/metrics.hpp"
#include "harness/eval/python_text.hpp"
#include "harness/jinja/jinja.hpp"

namespace huashan::harness::eval {

namespace {

namespace json = boost::json;

// Which document a message is about: one of the test split's, or one shown
// as a few-shot example.
struct doc_place {
  bool few_shot = false;
  std::size_t index = 0;
};

std::string task_label(const task_config& task) {
  if (task.file.empty()) return fmt::format("task '{}'", task.task);
  return fmt::format("task '{}' ({})", task.task, task.file.string());
}

std::string place_label(const task_config& task, doc_place place) {
  return fmt::format("{}, {} {}", task_label(task), place.few_shot ? "few-shot document" : "document", place.index);
}

[[noreturn]] void fail(const task_config& task, doc_place place, std::string_view field, const std::string& what) {
  throw input_error(fmt::format("{}, {}: {}", place_label(task, place), field, what));
}

bool is_ascii_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool has_jinja_markup(std::string_view s) {
  return s.find("{{") != std::string_view::npos || s.find("{%") != std::string_view::npos ||
         s.find("{#") != std::string_view::npos;
}

// A YAML list kept as its JSON text, told apart from a template that renders
// one by being JSON and holding no Jinja markup (lm-evaluation-harness never
// renders a list's items).
std::optional<json::array> yaml_list(const std::string& source) {
  const auto start = source.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || source[start] != '[' || has_jinja_markup(source)) return std::nullopt;
  boost::system::error_code ec;
  json::value parsed = json::parse(source, ec);
  if (ec || !parsed.is_array()) return std::nullopt;
  return parsed.get_array();
}

// The templates of one task, each parsed the first time a document needs it.
class task_templates {
 public:
  explicit task_templates(const task_config& task) : task_(task) {}

  std::string render(std::string_view field, const std::string& source, const document& doc, doc_place place) {
    auto it = parsed_.find(std::string(field));
    try {
      if (it == parsed_.end()) {
        it = parsed_
                 .emplace(std::string(field),
                          jinja::template_::parse(source, jinja::suite_environment(),
                                                  fmt::format("{} of task {}", field, task_.task)))
                 .first;
      }
      return it->second.render(doc);
    } catch (const jinja::template_error& e) {
      fail(task_, place, field, fmt::format("template error: {}", e.what()));
    } catch (const input_error& e) {
      fail(task_, place, field, fmt::format("template error: {}", e.what()));
    }
  }

 private:
  const task_config& task_;
  std::map<std::string, jinja::template_> parsed_;
};

// What a doc_to_* setting gives for one document: a field's value, or the
// text its template renders.
struct resolved {
  bool from_field = false;
  json::value value;
};

class doc_resolver {
 public:
  doc_resolver(const task_config& task, const std::vector<document>& test_docs,
               const std::vector<document>& fewshot_docs)
      : task_(task), templates_(task) {
    // A setting names a field when any document has that field (the
    // dataset's columns); a document without it is then missing it.
    for (const auto* split : {&test_docs, &fewshot_docs}) {
      for (const auto& d : *split) {
        for (const auto& kv : d) features_.insert(std::string(kv.key()));
      }
    }
  }

  resolved resolve(std::string_view field, const std::string& source, const document& doc, doc_place place) {
    if (features_.contains(source)) {
      const auto* value = doc.if_contains(source);
      if (value == nullptr) fail(task_, place, field, fmt::format("the document has no field '{}'", source));
      return {true, *value};
    }
    return {false, json::value(templates_.render(field, source, doc, place))};
  }

  std::string description(const document& doc, doc_place place) {
    if (task_.description.empty()) return {};
    return templates_.render("description", task_.description, doc, place);
  }

  std::string text(const document& doc, doc_place place) {
    const auto r = resolve("doc_to_text", task_.doc_to_text, doc, place);
    if (r.value.is_string()) {
      const std::string s(r.value.get_string());
      if (!r.from_field && task_.doc_to_choice && is_ascii_digits(s)) {
        fail(task_, place, "doc_to_text",
             fmt::format("the text '{}' is a choice index (tasks whose choices go in the context are not supported)",
                         s));
      }
      return s;
    }
    if (r.value.is_number() && task_.doc_to_choice) {
      fail(task_, place, "doc_to_text",
           "the field is a choice index (tasks whose choices go in the context are not supported)");
    }
    return python_str(r.value);
  }

  std::vector<std::string> choices(const document& doc, doc_place place) {
    if (!task_.doc_to_choice) return {};
    const std::string& source = *task_.doc_to_choice;
    json::array items;
    if (auto list = yaml_list(source)) {
      items = std::move(*list);
    } else {
      const auto r = resolve("doc_to_choice", source, doc, place);
      if (r.from_field) {
        if (!r.value.is_array()) {
          fail(task_, place, "doc_to_choice", fmt::format("field '{}' is not a list", source));
        }
        items = r.value.get_array();
      } else {
        std::string why;
        const std::string text(r.value.get_string());
        auto parsed = parse_python_list(text, why);
        if (!parsed) {
          fail(task_, place, "doc_to_choice",
               fmt::format("the template rendered {} which is not a list literal: {}", python_str_repr(text), why));
        }
        items = std::move(*parsed);
      }
    }
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const auto& item : items) out.push_back(python_str(item));
    if (out.empty()) fail(task_, place, "doc_to_choice", "the document has no choices");
    return out;
  }

  // lm-evaluation-harness's doc_to_target: a field's value as it is; a
  // rendered digit string is an index when there are choices, and a
  // rendered list literal a list.
  json::value target(const document& doc, doc_place place) {
    const auto r = resolve("doc_to_target", task_.doc_to_target, doc, place);
    if (r.from_field) return r.value;
    const std::string text(r.value.get_string());
    if (is_ascii_digits(text) && task_.doc_to_choice) {
      std::int64_t index = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
      if (ec != std::errc() || end != text.data() + text.size()) {
        fail(task_, place, "doc_to_target", fmt::format("index '{}' is out of range", text));
      }
      return json::value(index);
    }
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
      std::string why;
      if (auto list = parse_python_list(text, why)) return json::value(std::move(*list));
    }
    return r.value;
  }

 private:
  const task_config& task_;
  task_templates templates_;
  std::set<std::string> features_;
};

// The choice a target names: an index in range, a choice's text, or (as a
// convenience beyond lm-evaluation-harness, which scores such a document 0)
// a digit string that is a valid index.
std::size_t choice_index(const task_config& task, doc_place place, const json::value& target,
                         const std::vector<std::string>& choices) {
  if (target.is_int64() || target.is_uint64()) {
    const auto index = target.is_int64() ? target.get_int64() : static_cast<std::int64_t>(target.get_uint64());
    if (index < 0 || static_cast<std::size_t>(index) >= choices.size()) {
      fail(task, place, "doc_to_target",
           fmt::format("target index {} is out of range ({} choices)", index, choices.size()));
    }
    return static_cast<std::size_t>(index);
  }
  if (target.is_string()) {
    const std::string text(target.get_string());
    const auto it = std::find(choices.begin(), choices.end(), text);
    if (it != choices.end()) return static_cast<std::size_t>(it - choices.begin());
    if (is_ascii_digits(text) && text.size() < 10) {
      const auto index = static_cast<std::size_t>(std::stoll(text));
      if (index < choices.size()) return index;
    }
    std::string listed;
    for (const auto& c : choices) listed += (listed.empty() ? "" : ", ") + python_str_repr(c);
    fail(task, place, "doc_to_target", fmt::format("target {} is not among the choices [{}]", python_str_repr(text),
                                                   listed));
  }
  fail(task, place, "doc_to_target",
       fmt::format("target {} is neither a choice index nor a choice's text", python_str(target)));
}

// The gold choices of a multiple-choice document (several when the target is a list).
std::vector<std::size_t> gold_indices(const task_config& task, doc_place place, const json::value& target,
                                      const std::vector<std::string>& choices) {
  if (!target.is_array()) return {choice_index(task, place, target, choices)};
  std::vector<std::size_t> gold;
  for (const auto& item : target.get_array()) gold.push_back(choice_index(task, place, item, choices));
  if (gold.empty()) fail(task, place, "doc_to_target", "the target list is empty");
  return gold;
}

// The references a generated answer is compared with.
std::vector<std::string> reference_texts(const task_config& task, doc_place place, const json::value& target,
                                         const std::vector<std::string>& choices) {
  if (!choices.empty()) {
    std::vector<std::string> out;
    for (auto index : gold_indices(task, place, target, choices)) out.push_back(choices[index]);
    return out;
  }
  if (target.is_array()) {
    std::vector<std::string> out;
    for (const auto& item : target.get_array()) out.push_back(python_str(item));
    if (out.empty()) fail(task, place, "doc_to_target", "the target list is empty");
    return out;
  }
  return {python_str(target)};
}

std::string output_type_name(output_type type) {
  switch (type) {
    case output_type::multiple_choice: return "multiple_choice";
    case output_type::generate_until: return "generate_until";
    case output_type::loglikelihood: return "loglikelihood";
    case output_type::loglikelihood_rolling: return "loglikelihood_rolling";
  }
  return "?";
}

// generate_until's kwargs as the samples record them: the YAML's own object
// when the config kept it, else lm-evaluation-harness's default.
json::object generation_arguments(const task_config& task, const std::vector<std::string>& until) {
  json::array until_json;
  for (const auto& u : until) until_json.emplace_back(u);
  if (const auto* kwargs = task.as_json.if_contains("generation_kwargs"); kwargs && kwargs->is_object()) {
    json::object copy = kwargs->get_object();
    if (!copy.contains("until")) copy["until"] = until_json;
    return copy;
  }
  json::object out;
  out["until"] = until_json;
  out["do_sample"] = task.generation.do_sample;
  out["temperature"] = task.generation.temperature;
  if (task.generation.max_gen_toks != 256) out["max_gen_toks"] = task.generation.max_gen_toks;
  return out;
}

// One few-shot example as the sampler writes it: text, then (unless the
// target is empty) target_delimiter, target and fewshot_delimiter.
std::string shot_text(const task_config& task, doc_resolver& resolver, const document& shot, doc_place place) {
  std::string out = resolver.text(shot, place);
  const json::value target = resolver.target(shot, place);
  if (target.is_string() && target.get_string().empty()) return out;
  std::string target_text;
  if (target.is_array()) {
    if (target.get_array().empty()) fail(task, place, "doc_to_target", "the target list is empty");
    target_text = python_str(target.get_array().front());
  } else if (target.is_string() || !task.doc_to_choice) {
    target_text = python_str(target);
  } else {
    const auto choices = resolver.choices(shot, place);
    target_text = choices[choice_index(task, place, target, choices)];
  }
  out += task.target_delimiter;
  out += target_text;
  out += task.fewshot_delimiter;
  return out;
}

// A multiple-choice question's scores, one per choice, from its requests'
// answers starting at `first`.
struct choice_scores {
  std::vector<double> lls;
  std::vector<double> per_char;
  std::vector<double> per_byte;
  std::vector<bool> greedy;
};

choice_scores score_choices(const std::vector<response>& responses, std::size_t first,
                            const std::vector<std::string>& choices) {
  choice_scores out;
  for (std::size_t k = 0; k < choices.size(); ++k) {
    const auto& r = std::get<loglikelihood_result>(responses.at(first + k));
    out.lls.push_back(r.logprob);
    out.greedy.push_back(r.is_greedy);
    // lm-evaluation-harness divides by len(choice) without the delimiter.
    out.per_char.push_back(r.logprob / static_cast<double>(python_len(choices[k])));
    out.per_byte.push_back(r.logprob / count_bytes(choices[k]));
  }
  return out;
}

}  // namespace

prepared_task prepare_task(const task_config& task, const std::vector<document>& test_docs,
                           const std::vector<document>& fewshot_docs, const prepare_options& options) {
  prepared_task prepared;
  prepared.n_original = static_cast<std::int64_t>(test_docs.size());
  prepared.num_fewshot = options.num_fewshot.value_or(task.num_fewshot);
  if (prepared.num_fewshot < 0) {
    throw input_error(fmt::format("{}, num_fewshot: {} is negative", task_label(task), prepared.num_fewshot));
  }
  if (options.circular && (!task.circular || task.output != output_type::multiple_choice)) {
    throw input_error(fmt::format("{} has no circular block, so it cannot be run circularly (docs/suites.md, \"circular\")",
                                  task_label(task)));
  }
  std::size_t count = test_docs.size();
  if (options.limit) count = std::min<std::size_t>(count, static_cast<std::size_t>(std::max<std::int64_t>(0, *options.limit)));

  doc_resolver resolver(task, test_docs, fewshot_docs);
  shot_sampler sampler(task.fewshot_sampler, options.seed.value_or(task.fewshot_seed), task_label(task));
  // Shots come from the test split itself when there is no few-shot split;
  // then one more is drawn so that the document can be left out.
  const bool shots_from_test = fewshot_docs.empty();
  const auto& pool = shots_from_test ? test_docs : fewshot_docs;
  const bool same_split = shots_from_test || (!task.fewshot_split.empty() && task.fewshot_split == task.test_split);
  std::map<std::size_t, std::string> shot_cache;

  const std::vector<std::string> until =
      task.generation.until.empty() ? std::vector<std::string>{task.fewshot_delimiter} : task.generation.until;
  sha256_stream prompts_digest;
  // A circular run's hash never equals a plain run's, even where every
  // rotation happens to read as the plain order.
  if (options.circular) prompts_digest.add_part("circular");

  prepared.docs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const document& doc = test_docs[i];
    const doc_place place{false, i};
    prepared_doc out;
    out.doc_id = static_cast<std::int64_t>(i);
    out.doc = doc;

    std::string prompt = resolver.description(doc, place);
    if (prepared.num_fewshot > 0) {
      const auto n = static_cast<std::size_t>(prepared.num_fewshot);
      const auto drawn = sampler.draw(pool.size(), same_split ? n + 1 : n,
                                      fmt::format("{}, num_fewshot {}", place_label(task, place), n));
      std::size_t shown = 0;
      for (const auto index : drawn) {
        if (shown == n) break;
        if (python_equal(json::value(pool[index]), json::value(doc))) continue;
        auto cached = shot_cache.find(index);
        if (cached == shot_cache.end()) {
          const doc_place shot_place{!shots_from_test, index};
          cached = shot_cache.emplace(index, shot_text(task, resolver, pool[index], shot_place)).first;
        }
        prompt += cached->second;
        ++shown;
      }
    }
    // The description and the shots are the plain order's in every rotation.
    const std::string description_and_shots = prompt;
    prompt += resolver.text(doc, place);

    out.choices = resolver.choices(doc, place);
    out.target = resolver.target(doc, place);

    const auto add_arguments = [&out](std::size_t k, json::value arg0, std::optional<json::value> arg1) {
      json::object args;
      args["arg_0"] = std::move(arg0);
      if (arg1) args["arg_1"] = std::move(*arg1);
      out.arguments[fmt::format("gen_args_{}", k)] = std::move(args);
    };
    const auto add_choice_requests = [&](const std::string& context, const std::vector<std::string>& choices,
                                         const json::value& target) {
      if (choices.empty()) fail(task, place, "doc_to_choice", "multiple_choice needs doc_to_choice");
      gold_indices(task, place, target, choices);
      for (const auto& choice : choices) {
        loglikelihood_request ll{context, task.target_delimiter + choice};
        add_arguments(out.requests.size(), json::value(ll.context), json::value(ll.continuation));
        out.requests.push_back(request{std::move(ll)});
      }
    };
    std::string first_argument = prompt;
    switch (task.output) {
      case output_type::multiple_choice: {
        add_choice_requests(prompt, out.choices, out.target);
        if (!options.circular) break;
        const auto views = circular_rotations(*task.circular, doc, place_label(task, place));
        out.rotations.push_back(circular_rotation{out.choices, out.target, 0});
        for (std::size_t r = 1; r < views.size(); ++r) {
          circular_rotation rotation{resolver.choices(views[r], place), resolver.target(views[r], place),
                                     out.requests.size()};
          add_choice_requests(description_and_shots + resolver.text(views[r], place), rotation.choices,
                              rotation.target);
          out.rotations.push_back(std::move(rotation));
        }
        break;
      }
      case output_type::loglikelihood: {
        if (out.target.is_array()) fail(task, place, "doc_to_target", "loglikelihood needs one target, not a list");
        // As lm-evaluation-harness: the continuation is the target as it is
        // (the task's doc_to_target carries any leading space).
        loglikelihood_request ll{prompt, python_str(out.target)};
        add_arguments(0, json::value(ll.context), json::value(ll.continuation));
        out.requests.push_back(request{std::move(ll)});
        break;
      }
      case output_type::loglikelihood_rolling: {
        if (out.target.is_array()) {
          fail(task, place, "doc_to_target", "loglikelihood_rolling needs one text, not a list");
        }
        rolling_request rolling{python_str(out.target)};
        first_argument = rolling.text;
        add_arguments(0, json::value(rolling.text), std::nullopt);
        out.requests.push_back(request{std::move(rolling)});
        break;
      }
      case output_type::generate_until: {
        reference_texts(task, place, out.target, out.choices);
        generate_until_request generate;
        generate.context = prompt;
        generate.until = until;
        generate.max_tokens = task.generation.max_gen_toks;
        generate.temperature = task.generation.do_sample ? task.generation.temperature : 0.0;
        add_arguments(0, json::value(generate.context), json::value(generation_arguments(task, until)));
        out.requests.push_back(request{std::move(generate)});
        break;
      }
    }
    out.prompt = std::move(prompt);
    out.doc_hash = sha256_hex(python_json_dumps(json::value(out.doc)));
    out.prompt_hash = sha256_hex(first_argument);
    out.target_hash = sha256_hex(python_str(out.target));
    prompts_digest.add_part(json::serialize(out.arguments));
    prepared.docs.push_back(std::move(out));
  }
  prepared.prompts_hash = prompts_digest.hex();
  return prepared;
}

doc_scores score_doc(const task_config& task, const prepared_doc& doc, std::vector<response> responses) {
  const doc_place place{false, static_cast<std::size_t>(doc.doc_id)};
  if (responses.size() != doc.requests.size()) {
    throw input_error(fmt::format("{}: {} responses for {} requests", place_label(task, place), responses.size(),
                                  doc.requests.size()));
  }
  const std::size_t expected_kind = task.output == output_type::loglikelihood_rolling ? 1
                                    : task.output == output_type::generate_until       ? 2
                                                                                        : 0;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    if (responses[i].index() != expected_kind) {
      throw input_error(fmt::format("{}: response {} is not a {} answer", place_label(task, place), i,
                                    output_type_name(task.output)));
    }
  }
  const auto unknown_metric = [&](const std::string& metric, const char* expected) {
    fail(task, place, "metric_list",
         fmt::format("metric '{}' is not computed for {} (expected {})", metric, output_type_name(task.output),
                     expected));
  };

  doc_scores scores;
  const std::vector<filter_pipeline> identity = {filter_pipeline{"none", {}}};
  const auto& pipelines = task.filters.empty() ? identity : task.filters;

  switch (task.output) {
    case output_type::multiple_choice: {
      std::size_t requests_per_view = 0;
      for (const auto& rotation : doc.rotations) requests_per_view += rotation.choices.size();
      if (doc.rotations.empty() ? doc.choices.size() != responses.size() : requests_per_view != responses.size()) {
        throw input_error(fmt::format("{}: {} responses do not match the document's choices", place_label(task, place),
                                      responses.size()));
      }
      const auto plain = score_choices(responses, 0, doc.choices);
      const auto& lls = plain.lls;
      const auto& per_char = plain.per_char;
      const auto& per_byte = plain.per_byte;
      const auto& greedy = plain.greedy;
      const auto gold = gold_indices(task, place, doc.target, doc.choices);
      const auto is_gold = [&gold](std::size_t i) { return std::find(gold.begin(), gold.end(), i) != gold.end(); };
      std::map<std::string, double> values;
      for (const auto& spec : task.metrics) {
        if (spec.metric == "acc") values["acc"] = is_gold(first_argmax(lls)) ? 1.0 : 0.0;
        else if (spec.metric == "acc_norm") values["acc_norm"] = is_gold(first_argmax(per_char)) ? 1.0 : 0.0;
        else if (spec.metric == "acc_bytes") values["acc_bytes"] = is_gold(first_argmax(per_byte)) ? 1.0 : 0.0;
        else if (spec.metric == "exact_match") {
          values["exact_match"] = std::any_of(gold.begin(), gold.end(), [&](std::size_t g) { return greedy[g]; });
        } else if (is_circular_metric(spec.metric)) {
          if (doc.rotations.empty()) fail(task, place, "metric_list", fmt::format("{} needs a circular run", spec.metric));
        } else {
          unknown_metric(spec.metric, "acc, acc_norm, acc_bytes or exact_match");
        }
      }
      if (!doc.rotations.empty()) {
        bool every_acc = true;
        bool every_acc_norm = true;
        for (const auto& rotation : doc.rotations) {
          const auto scores_here = score_choices(responses, rotation.first_request, rotation.choices);
          const auto gold_here = gold_indices(task, place, rotation.target, rotation.choices);
          const auto right = [&gold_here](std::size_t i) {
            return std::find(gold_here.begin(), gold_here.end(), i) != gold_here.end();
          };
          every_acc = every_acc && right(first_argmax(scores_here.lls));
          every_acc_norm = every_acc_norm && right(first_argmax(scores_here.per_char));
        }
        values["acc_circular"] = every_acc ? 1.0 : 0.0;
        const bool lists_acc_norm = std::any_of(task.metrics.begin(), task.metrics.end(),
                                                [](const metric_spec& m) { return m.metric == "acc_norm"; });
        if (lists_acc_norm) values["acc_norm_circular"] = every_acc_norm ? 1.0 : 0.0;
      }
      for (const auto& p : pipelines) scores.values[p.name] = values;
      break;
    }
    case output_type::loglikelihood: {
      const auto& r = std::get<loglikelihood_result>(responses[0]);
      std::map<std::string, double> values;
      for (const auto& spec : task.metrics) {
        if (spec.metric == "perplexity") values["perplexity"] = r.logprob;
        else if (spec.metric == "acc") values["acc"] = r.is_greedy ? 1.0 : 0.0;
        else unknown_metric(spec.metric, "perplexity or acc");
      }
      for (const auto& p : pipelines) scores.values[p.name] = values;
      break;
    }
    case output_type::loglikelihood_rolling: {
      const auto& r = std::get<rolling_result>(responses[0]);
      const std::string text = python_str(doc.target);
      std::map<std::string, std::pair<double, double>> weighted;
      for (const auto& spec : task.metrics) {
        if (spec.metric == "word_perplexity") weighted["word_perplexity"] = {r.logprob, count_words(text)};
        else if (spec.metric == "byte_perplexity") weighted["byte_perplexity"] = {r.logprob, count_bytes(text)};
        else if (spec.metric == "bits_per_byte") weighted["bits_per_byte"] = {r.logprob, count_bytes(text)};
        else unknown_metric(spec.metric, "word_perplexity, byte_perplexity or bits_per_byte");
      }
      for (const auto& p : pipelines) scores.weighted[p.name] = weighted;
      break;
    }
    case output_type::generate_until: {
      const auto references = reference_texts(task, place, doc.target, doc.choices);
      std::vector<std::string> answers;
      for (const auto& r : responses) answers.push_back(std::get<std::string>(r));
      for (const auto& p : pipelines) {
        auto filtered = apply_filter_pipeline(p, answers, place_label(task, place));
        const std::string answer = filtered.empty() ? std::string() : filtered.front();
        std::map<std::string, double> values;
        for (const auto& spec : task.metrics) {
          if (spec.metric != "exact_match") unknown_metric(spec.metric, "exact_match");
          double best = 0.0;
          for (const auto& reference : references) {
            best = std::max(best, exact_match(spec, answer, reference, task_label(task)));
          }
          values["exact_match"] = best;
        }
        scores.filtered_resps[p.name] = std::move(filtered);
        scores.values[p.name] = std::move(values);
      }
      break;
    }
  }
  scores.resps = std::move(responses);
  return scores;
}

}  // namespace huashan::harness::eval
