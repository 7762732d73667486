#include "harness/eval/run_spec.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "common/build_info.hpp"
#include "common/error.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

constexpr std::size_t max_suites = 64;
constexpr std::size_t max_suite_name_bytes = 200;

template <typename T>
std::optional<T> optional_integer(const json::object& o, std::string_view name, std::int64_t low, std::int64_t high) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_int64() && !v->is_uint64()) throw input_error(fmt::format("field '{}' must be a whole number", name));
  if (v->is_uint64() && v->as_uint64() > static_cast<std::uint64_t>(high))
    throw input_error(fmt::format("field '{}' must be at most {}", name, high));
  if (v->is_int64() && (v->as_int64() < low || v->as_int64() > high))
    throw input_error(fmt::format("field '{}' is {}; expected {} to {}", name, v->as_int64(), low, high));
  return v->is_uint64() ? static_cast<T>(v->as_uint64()) : static_cast<T>(v->as_int64());
}

std::optional<bool> optional_flag(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) throw input_error(fmt::format("field '{}' must be true or false", name));
  return v->as_bool();
}

}  // namespace

json::object run_spec_json(const run_spec& spec) {
  json::array suites;
  for (const auto& s : spec.suites) suites.emplace_back(s);
  json::object o;
  o["suites"] = std::move(suites);
  o["num_fewshot"] = spec.num_fewshot ? json::value(*spec.num_fewshot) : json::value(nullptr);
  o["limit"] = spec.limit ? json::value(*spec.limit) : json::value(nullptr);
  o["seed"] = spec.seed ? json::value(*spec.seed) : json::value(nullptr);
  o["bootstrap_iters"] = spec.bootstrap_iters;
  o["batch_size"] = spec.batch_size > 0 ? json::value(spec.batch_size) : json::value("auto");
  o["circular"] = spec.circular;
  o["determinism_check"] = spec.determinism_check;
  o["contamination"] = spec.contamination;
  return o;
}

run_spec run_spec_from_json(const json::object& o) {
  run_spec spec;
  const auto* suites = o.if_contains("suites");
  if (suites == nullptr || !suites->is_array() || suites->as_array().empty())
    throw input_error("field 'suites' must be a non-empty list of suite names");
  if (suites->as_array().size() > max_suites)
    throw input_error(fmt::format("field 'suites' names {} suites; at most {}", suites->as_array().size(), max_suites));
  for (const auto& s : suites->as_array()) {
    if (!s.is_string() || s.as_string().empty() || s.as_string().size() > max_suite_name_bytes)
      throw input_error(fmt::format("field 'suites' must hold names of 1 to {} bytes", max_suite_name_bytes));
    spec.suites.emplace_back(s.as_string());
  }
  spec.num_fewshot = optional_integer<std::int32_t>(o, "num_fewshot", 0, 1000);
  spec.limit = optional_integer<std::int64_t>(o, "limit", 1, 100'000'000);
  spec.seed = optional_integer<std::uint64_t>(o, "seed", 0, std::numeric_limits<std::int64_t>::max());
  spec.bootstrap_iters = optional_integer<std::int32_t>(o, "bootstrap_iters", 0, 100'000).value_or(1000);
  if (const auto* b = o.if_contains("batch_size"); b != nullptr && !b->is_null()) {
    if (b->is_string() && b->as_string() == "auto") spec.batch_size = 0;
    else spec.batch_size = optional_integer<std::int32_t>(o, "batch_size", 1, 1'000'000).value_or(0);
  }
  spec.circular = optional_flag(o, "circular").value_or(false);
  spec.determinism_check = optional_flag(o, "determinism_check").value_or(true);
  spec.contamination = optional_flag(o, "contamination").value_or(false);
  return spec;
}

eval_options eval_options_for(const run_spec& spec, const std::filesystem::path& data_dir,
                              const std::filesystem::path& control_dir) {
  eval_options options;
  options.num_fewshot = spec.num_fewshot;
  options.limit = spec.limit;
  options.seed = spec.seed;
  options.bootstrap_iters = spec.bootstrap_iters;
  options.batch_size = spec.batch_size;
  options.data_dir = data_dir;
  options.circular = spec.circular;
  options.determinism_check = spec.determinism_check;
  options.contamination = spec.contamination;
  options.control_dir = control_dir;
  return options;
}

run_settings run_settings_for(const run_spec& spec, const std::string& model) {
  run_settings settings;
  settings.model = model;
  settings.batch_size = spec.batch_size > 0 ? std::to_string(spec.batch_size) : "auto";
  settings.limit = spec.limit;
  settings.num_fewshot = spec.num_fewshot;
  settings.seed = spec.seed;
  settings.bootstrap_iters = spec.bootstrap_iters;
  settings.engine_version = std::string(build_info::version);
  settings.circular = spec.circular;
  return settings;
}

json::object shard_records_json(const eval_outcome& shard) {
  json::object records;
  if (shard.determinism) records["determinism"] = to_json(*shard.determinism);
  if (!shard.contamination.empty()) {
    json::object per_task;
    for (const auto& [task, record] : shard.contamination) per_task[task] = to_json(record);
    records["contamination"] = std::move(per_task);
  }
  return records;
}

void merge_shard_records(eval_outcome& run, const json::object& records) {
  try {
    if (const auto* d = records.if_contains("determinism"); d && !d->is_null()) {
      const auto record = determinism_from_json(*d);
      run.determinism = run.determinism ? merge(*run.determinism, record) : record;
    }
    if (const auto* c = records.if_contains("contamination"); c && c->is_object())
      for (const auto& [task, value] : c->as_object()) {
        const auto record = contamination_from_json(value);
        const std::string name(task);
        const auto it = run.contamination.find(name);
        if (it == run.contamination.end()) run.contamination.emplace(name, record);
        else it->second = merge(it->second, record);
      }
  } catch (const input_error&) {
    throw;
  } catch (const std::exception& e) {
    throw input_error(fmt::format("a shard's records are malformed: {}", e.what()));
  }
}

}  // namespace huashan::harness::eval
