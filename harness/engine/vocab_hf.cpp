// Loads a Hugging Face tokenizer.json (byte-level BPE) and, when present, the
// tokenizer_config.json beside it. Only the parts that change token ids are
// read: model.vocab/merges/ignore_merges, added_tokens, the normalizer and the
// pre-tokenizer's split regex; special tokens and the chat template come from
// the config file.
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "harness/engine/vocab.hpp"

namespace huashan::engine {

namespace json = boost::json;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path.string() + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw io_error(path.string() + ": read failed");
  return std::move(buffer).str();
}

json::value parse_json(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) throw input_error(path.string() + ": not valid JSON: " + ec.message());
  return root;
}

// Builders of error messages that name the file and the field.
struct where {
  std::string file;
  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw input_error(file + ": " + std::string(field) + " " + std::string(what));
  }
};

const json::object& require_object(const where& at, const json::value* v, std::string_view field) {
  if (v == nullptr || !v->is_object()) at.fail(field, "must be an object");
  return v->get_object();
}

token_id require_id(const where& at, const json::value& v, std::string_view field) {
  if (!v.is_int64() && !v.is_uint64()) at.fail(field, "must be a non-negative integer");
  const std::int64_t id = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
  if (id < 0 || id >= INT32_MAX) at.fail(field, "= " + std::to_string(id) + " is not a valid token id");
  return static_cast<token_id>(id);
}

// The pre rule whose regex the pre_tokenizer uses; fails for anything that
// is not a byte-level pre-tokenizer with a regex we implement.
pre_rule find_pre_rule(const where& at, const json::value& pre) {
  std::vector<const json::object*> steps;
  if (pre.is_object()) {
    const json::object& obj = pre.get_object();
    const json::value* type = obj.if_contains("type");
    if (type != nullptr && type->is_string() && type->get_string() == "Sequence") {
      const json::value* list = obj.if_contains("pretokenizers");
      if (list == nullptr || !list->is_array()) at.fail("pre_tokenizer.pretokenizers", "must be an array");
      for (const json::value& step : list->get_array()) {
        if (step.is_object()) steps.push_back(&step.get_object());
      }
    } else {
      steps.push_back(&obj);
    }
  }
  bool byte_level = false;
  std::optional<pre_rule> rule;
  for (const json::object* step : steps) {
    const json::value* type = step->if_contains("type");
    if (type == nullptr || !type->is_string()) continue;
    if (type->get_string() == "ByteLevel") {
      byte_level = true;
      const json::value* prefix = step->if_contains("add_prefix_space");
      if (prefix != nullptr && prefix->is_bool() && prefix->get_bool()) {
        at.fail("pre_tokenizer ByteLevel.add_prefix_space", "= true is not supported (no supported model uses it)");
      }
      const json::value* use_regex = step->if_contains("use_regex");
      // ByteLevel with its own regex is GPT-2's split.
      if (use_regex != nullptr && use_regex->is_bool() && use_regex->get_bool() && !rule) rule = pre_rule::gpt2;
    } else if (type->get_string() == "Split") {
      const json::value* pattern = step->if_contains("pattern");
      const json::value* regex = pattern != nullptr && pattern->is_object() ? pattern->get_object().if_contains("Regex")
                                                                             : nullptr;
      if (regex == nullptr || !regex->is_string()) at.fail("pre_tokenizer Split.pattern", "must hold a Regex string");
      const std::string_view text(regex->get_string().data(), regex->get_string().size());
      bool known = false;
      for (const pre_rule p : {pre_rule::gpt2, pre_rule::llama3, pre_rule::qwen2}) {
        if (text == pre_rule_regex(p)) {
          rule = p;
          known = true;
        }
      }
      if (!known) {
        at.fail("pre_tokenizer Split regex",
                "/" + std::string(text) + "/ is none of the known pre rules (gpt2, llama3, qwen2)");
      }
    } else {
      at.fail("pre_tokenizer", "step of type \"" + std::string(type->get_string()) +
                                   "\" is not supported (byte-level BPE with Split/ByteLevel steps only)");
    }
  }
  if (!byte_level) at.fail("pre_tokenizer", "has no ByteLevel step: only byte-level BPE tokenizers are supported");
  if (!rule) at.fail("pre_tokenizer", "has no split regex (neither Split nor ByteLevel use_regex)");
  return *rule;
}

// True for an NFC normalizer (alone or in a Sequence); null means none; any
// other normalizer would change ids in ways we do not implement.
bool read_normalizer(const where& at, const json::value& norm) {
  if (norm.is_null()) return false;
  if (!norm.is_object()) at.fail("normalizer", "must be null or an object");
  const json::value* type = norm.get_object().if_contains("type");
  if (type == nullptr || !type->is_string()) at.fail("normalizer.type", "must be a string");
  if (type->get_string() == "NFC") return true;
  if (type->get_string() == "Sequence") {
    bool nfc = false;
    const json::value* list = norm.get_object().if_contains("normalizers");
    if (list == nullptr || !list->is_array()) at.fail("normalizer.normalizers", "must be an array");
    for (const json::value& step : list->get_array()) nfc = read_normalizer(at, step) || nfc;
    return nfc;
  }
  at.fail("normalizer", "of type \"" + std::string(type->get_string()) + "\" is not supported (NFC or none)");
}

// A special-token entry of tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> config_token_text(const json::object& config, std::string_view key) {
  const json::value* v = config.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_object()) {
    const json::value* content = v->get_object().if_contains("content");
    if (content != nullptr && content->is_string()) return std::string(content->get_string());
  }
  return std::nullopt;
}

void read_config(const std::filesystem::path& path, vocab& v) {
  const where at{path.string()};
  const json::value root = parse_json(path);
  if (!root.is_object()) at.fail("top level", "must be an object");
  const json::object& config = root.get_object();

  auto id_of = [&](std::string_view key) -> token_id {
    const std::optional<std::string> text = config_token_text(config, key);
    if (!text) return no_token;
    for (std::size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.tokens[i] == *text) return static_cast<token_id>(i);
    }
    at.fail(key, "\"" + *text + "\" is not a token of the vocabulary");
  };
  v.bos_id = id_of("bos_token");
  v.eos_id = id_of("eos_token");
  v.pad_id = id_of("pad_token");
  v.unk_id = id_of("unk_token");
  if (const json::value* b = config.if_contains("add_bos_token"); b != nullptr && b->is_bool()) v.add_bos = b->get_bool();
  if (const json::value* e = config.if_contains("add_eos_token"); e != nullptr && e->is_bool()) v.add_eos = e->get_bool();
  if (const json::value* t = config.if_contains("chat_template")) {
    if (t->is_string()) {
      v.chat_template = std::string(t->get_string());
    } else if (t->is_array()) {
      // Several named templates: the one called "default" is the chat template.
      for (const json::value& item : t->get_array()) {
        if (!item.is_object()) continue;
        const json::value* name = item.get_object().if_contains("name");
        const json::value* body = item.get_object().if_contains("template");
        if (name != nullptr && name->is_string() && name->get_string() == "default" && body != nullptr &&
            body->is_string()) {
          v.chat_template = std::string(body->get_string());
        }
      }
    }
  }
}

}  // namespace

vocab load_vocab_hf(const std::filesystem::path& tokenizer_json) {
  const where at{tokenizer_json.string()};
  const json::value root_value = parse_json(tokenizer_json);
  if (!root_value.is_object()) at.fail("top level", "must be an object");
  const json::object& root = root_value.get_object();

  vocab v;
  v.source = tokenizer_json.string();
  v.model = vocab_model::bpe;
  v.add_space_prefix = false;

  const json::object& model = require_object(at, root.if_contains("model"), "model");
  const json::value* model_type = model.if_contains("type");
  if (model_type == nullptr || !model_type->is_string() || model_type->get_string() != "BPE") {
    at.fail("model.type", "must be \"BPE\" (only byte-level BPE tokenizer.json files are supported)");
  }
  if (const json::value* ignore = model.if_contains("ignore_merges"); ignore != nullptr && ignore->is_bool()) {
    v.ignore_merges = ignore->get_bool();
  }
  const json::object& vocab_obj = require_object(at, model.if_contains("vocab"), "model.vocab");

  // Ids may leave gaps (added tokens past the model vocab); size the table by the largest id.
  std::int64_t max_id = -1;
  for (const auto& entry : vocab_obj) max_id = std::max<std::int64_t>(max_id, require_id(at, entry.value(), "model.vocab"));
  const json::value* added = root.if_contains("added_tokens");
  if (added != nullptr && !added->is_array()) at.fail("added_tokens", "must be an array");
  if (added != nullptr) {
    for (const json::value& t : added->get_array()) {
      if (!t.is_object() || t.get_object().if_contains("id") == nullptr) at.fail("added_tokens", "entries need an id");
      max_id = std::max<std::int64_t>(max_id, require_id(at, t.get_object().at("id"), "added_tokens[].id"));
    }
  }
  if (max_id < 0) at.fail("model.vocab", "is empty");
  const auto n = static_cast<std::size_t>(max_id) + 1;

  v.tokens.assign(n, std::string());
  v.types.assign(n, token_type::unused);
  v.scores.assign(n, 0.0f);
  std::vector<bool> filled(n, false);
  for (const auto& entry : vocab_obj) {
    const auto id = static_cast<std::size_t>(require_id(at, entry.value(), "model.vocab"));
    if (filled[id]) at.fail("model.vocab", "gives id " + std::to_string(id) + " to two tokens");
    v.tokens[id] = std::string(entry.key());
    v.types[id] = token_type::normal;
    filled[id] = true;
  }
  if (added != nullptr) {
    for (const json::value& t : added->get_array()) {
      const json::object& obj = t.get_object();
      const auto id = static_cast<std::size_t>(require_id(at, obj.at("id"), "added_tokens[].id"));
      const json::value* content = obj.if_contains("content");
      if (content == nullptr || !content->is_string()) at.fail("added_tokens[].content", "must be a string");
      const json::value* special = obj.if_contains("special");
      const bool is_special = special != nullptr && special->is_bool() && special->get_bool();
      v.tokens[id] = std::string(content->get_string());
      v.types[id] = is_special ? token_type::control : token_type::user_defined;
      filled[id] = true;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    // Ids no entry names, as llama.cpp's converter fills them.
    if (!filled[i]) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
  }

  const json::value* merges = model.if_contains("merges");
  if (merges == nullptr || !merges->is_array()) at.fail("model.merges", "must be an array");
  v.merges.reserve(merges->get_array().size());
  for (const json::value& m : merges->get_array()) {
    if (m.is_string()) {
      const std::string_view line(m.get_string().data(), m.get_string().size());
      const std::size_t space = line.find(' ', 1);
      if (space == std::string_view::npos) {
        at.fail("model.merges", "entry \"" + std::string(line) + "\" is not two tokens separated by a space");
      }
      v.merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
    } else if (m.is_array() && m.get_array().size() == 2 && m.get_array()[0].is_string() &&
               m.get_array()[1].is_string()) {
      v.merges.emplace_back(std::string(m.get_array()[0].get_string()), std::string(m.get_array()[1].get_string()));
    } else {
      at.fail("model.merges", "entries must be \"a b\" strings or [a, b] pairs of strings");
    }
  }

  const json::value* pre = root.if_contains("pre_tokenizer");
  if (pre == nullptr) at.fail("pre_tokenizer", "is missing");
  v.pre = find_pre_rule(at, *pre);
  const json::value* norm = root.if_contains("normalizer");
  v.normalize_nfc = norm != nullptr && read_normalizer(at, *norm);

  const std::filesystem::path config = tokenizer_json.parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::exists(config, ec)) read_config(config, v);

  v.validate();
  return v;
}

}  // namespace huashan::engine
