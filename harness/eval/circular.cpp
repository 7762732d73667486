#include "harness/eval/circular.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "common/error.hpp"

namespace huashan::harness::eval {

namespace {

namespace json = boost::json;

// A field by name; a name the document lacks but that has dots reaches into
// objects ("choices.text" is doc["choices"]["text"]), as a Jinja template
// would write it.
json::value* find_field(json::object& doc, const std::string& name) {
  if (auto* whole = doc.if_contains(name)) return whole;
  json::object* at = &doc;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto* value = at->if_contains(part);
    if (value == nullptr || dot == std::string::npos) return value;
    if (!value->is_object()) return nullptr;
    at = &value->get_object();
    start = dot + 1;
  }
}

json::value& required_field(json::object& doc, const std::string& name, const std::string& where,
                            std::string_view role) {
  auto* value = find_field(doc, name);
  if (value == nullptr) throw input_error(fmt::format("{}, circular.{}: the document has no field '{}'", where, role, name));
  return *value;
}

std::string letter(std::size_t index) { return std::string(1, static_cast<char>('A' + index)); }

// Where the gold is among the k options, and how to write another position
// back in the document's own format.
struct gold_position {
  std::size_t index = 0;
  std::function<json::value(std::size_t)> write;
};

gold_position read_gold(const circular_config& circular, json::object& doc, std::size_t k, const std::string& where) {
  const json::value& answer = required_field(doc, circular.answer_field, where, "answer_field");
  const auto bad = [&](const std::string& expected) -> input_error {
    return input_error(fmt::format("{}, circular.answer_field: '{}' is {}, not {}", where, circular.answer_field,
                                   json::serialize(answer), expected));
  };
  if (circular.answer_format == "letter") {
    const std::string expected = fmt::format("a letter A to {} ({} options)", letter(k - 1), k);
    if (!answer.is_string() || answer.get_string().size() != 1) throw bad(expected);
    const char c = answer.get_string()[0];
    if (c < 'A' || static_cast<std::size_t>(c - 'A') >= k) throw bad(expected);
    return {static_cast<std::size_t>(c - 'A'), [](std::size_t i) { return json::value(letter(i)); }};
  }
  if (circular.answer_format == "index") {
    const std::string expected = fmt::format("an index 0 to {} ({} options)", k - 1, k);
    std::int64_t index = -1;
    if (answer.is_int64()) {
      index = answer.get_int64();
    } else if (answer.is_uint64()) {
      index = static_cast<std::int64_t>(std::min<std::uint64_t>(answer.get_uint64(), INT64_MAX));
    } else if (answer.is_string()) {
      const std::string text(answer.get_string());
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) throw bad(expected);
    } else {
      throw bad(expected);
    }
    if (index < 0 || static_cast<std::size_t>(index) >= k) throw bad(expected);
    // A CSV's gold is text, a JSON file's a number; each is written back as it came.
    if (answer.is_string()) return {static_cast<std::size_t>(index), [](std::size_t i) { return json::value(std::to_string(i)); }};
    return {static_cast<std::size_t>(index), [](std::size_t i) { return json::value(static_cast<std::int64_t>(i)); }};
  }
  const json::value& labels = required_field(doc, circular.labels_field, where, "labels_field");
  if (!labels.is_array() || labels.get_array().size() != k) {
    throw input_error(fmt::format("{}, circular.labels_field: '{}' must be a list of {} labels, one per option", where,
                                  circular.labels_field, k));
  }
  const json::array label_list = labels.get_array();
  const auto it = std::find(label_list.begin(), label_list.end(), answer);
  if (it == label_list.end()) throw bad(fmt::format("one of the labels {}", json::serialize(label_list)));
  return {static_cast<std::size_t>(it - label_list.begin()), [label_list](std::size_t i) { return label_list[i]; }};
}

}  // namespace

std::vector<json::object> circular_rotations(const circular_config& circular, const json::object& doc,
                                             const std::string& where) {
  json::object original = doc;
  // The option texts, in label order, and where each is kept.
  std::vector<json::value> options;
  if (!circular.choice_fields.empty()) {
    for (const auto& field : circular.choice_fields) options.push_back(required_field(original, field, where, "choice_fields"));
  } else {
    const json::value& list = required_field(original, circular.choices_field, where, "choices_field");
    if (!list.is_array() || list.get_array().empty()) {
      throw input_error(fmt::format("{}, circular.choices_field: '{}' must be a non-empty list of options", where,
                                    circular.choices_field));
    }
    options.assign(list.get_array().begin(), list.get_array().end());
  }
  const std::size_t k = options.size();
  const gold_position gold = read_gold(circular, original, k, where);

  std::vector<json::object> out;
  out.reserve(k);
  out.push_back(doc);
  for (std::size_t r = 1; r < k; ++r) {
    json::object rotated = doc;
    if (!circular.choice_fields.empty()) {
      for (std::size_t i = 0; i < k; ++i) *find_field(rotated, circular.choice_fields[i]) = options[(i + r) % k];
    } else {
      json::array list;
      for (std::size_t i = 0; i < k; ++i) list.push_back(options[(i + r) % k]);
      *find_field(rotated, circular.choices_field) = std::move(list);
    }
    // The gold option moves to the label i with (i + r) mod k == gold.
    *find_field(rotated, circular.answer_field) = gold.write((gold.index + k - r) % k);
    out.push_back(std::move(rotated));
  }
  return out;
}

bool is_circular_metric(std::string_view metric) { return metric == "acc_circular" || metric == "acc_norm_circular"; }

std::vector<metric_spec> circular_metrics(const std::vector<metric_spec>& metrics) {
  const auto spec = [](std::string name) {
    metric_spec m;
    m.metric = std::move(name);
    m.aggregation = "mean";
    m.higher_is_better = true;
    return m;
  };
  std::vector<metric_spec> out = {spec("acc_circular")};
  const bool has_acc_norm =
      std::any_of(metrics.begin(), metrics.end(), [](const metric_spec& m) { return m.metric == "acc_norm"; });
  if (has_acc_norm) out.push_back(spec("acc_norm_circular"));
  return out;
}

suite_selection circular_selection(const suite_selection& suites) {
  std::set<std::string> group_members;
  for (const auto& g : suites.groups) group_members.insert(g.task.begin(), g.task.end());

  suite_selection out;
  std::set<std::string> kept;
  for (const auto& task : suites.tasks) {
    if (!task.circular) {
      if (!group_members.contains(task.task)) {
        throw input_error(fmt::format("{}: task '{}' has no circular block, so it has no circular form (docs/suites.md, "
                                      "\"circular\")",
                                      task.file.string(), task.task));
      }
      continue;
    }
    task_config copy = task;
    for (auto& m : circular_metrics(task.metrics)) {
      const bool listed = std::any_of(copy.metrics.begin(), copy.metrics.end(),
                                      [&](const metric_spec& s) { return s.metric == m.metric; });
      if (!listed) copy.metrics.push_back(std::move(m));
    }
    kept.insert(copy.task);
    out.tasks.push_back(std::move(copy));
  }
  if (out.tasks.empty()) {
    throw input_error("no selected task has a circular block, so there is nothing to run circularly (docs/suites.md, "
                      "\"circular\")");
  }

  // A group stays when some member, itself perhaps a group, stays.
  std::map<std::string, const group_config*> by_name;
  for (const auto& g : suites.groups) by_name[g.group] = &g;
  std::map<std::string, bool> group_kept;
  std::function<bool(const std::string&, int)> keeps = [&](const std::string& name, int depth) {
    if (kept.contains(name)) return true;
    const auto g = by_name.find(name);
    if (g == by_name.end() || depth > static_cast<int>(suites.groups.size())) return false;
    if (const auto known = group_kept.find(name); known != group_kept.end()) return known->second;
    bool any = false;
    for (const auto& member : g->second->task) any = keeps(member, depth + 1) || any;
    group_kept[name] = any;
    return any;
  };
  for (const auto& g : suites.groups) {
    if (!keeps(g.group, 0)) continue;
    group_config copy = g;
    copy.task.clear();
    json::array members_json;
    for (const auto& member : g.task) {
      if (!keeps(member, 0)) continue;
      copy.task.push_back(member);
      members_json.emplace_back(member);
    }
    copy.as_json["task"] = std::move(members_json);
    copy.aggregate_metric_list.clear();
    for (const auto& spec : g.aggregate_metric_list) {
      copy.aggregate_metric_list.push_back(spec);
      if (spec.metric == "acc" || spec.metric == "acc_norm") {
        group_metric circular_spec = spec;
        circular_spec.metric += "_circular";
        copy.aggregate_metric_list.push_back(std::move(circular_spec));
      }
    }
    out.groups.push_back(std::move(copy));
  }
  return out;
}

}  // namespace huashan::harness::eval
