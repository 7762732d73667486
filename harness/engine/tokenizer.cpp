// The model-independent half of the tokenizer: indexes, special-token
// splitting, BOS/EOS, decoding and the streaming decoder. The SPM and BPE
// algorithms are in tokenizer_spm.cpp and tokenizer_bpe.cpp.
#include "harness/engine/tokenizer.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "common/error.hpp"
#include "harness/engine/tokenizer_impl.hpp"
#include "harness/engine/unicode.hpp"

namespace huashan::engine {

struct tokenizer::impl {
  detail::tokenizer_state s;
};

namespace {

// Texts of end-of-generation tokens that models mark as control but do not
// always name in tokenizer.ggml.eot_token_id (chat models end turns with them).
constexpr std::string_view eog_texts[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|endoftext|>", "<|end_of_text|>", "<end_of_turn>",
};

bool is_split_type(token_type t) {
  return t == token_type::control || t == token_type::user_defined || t == token_type::unknown;
}

std::string id_error(const vocab& v, token_id id) {
  return v.source + ": token id " + std::to_string(id) + " is out of range (vocabulary has " +
         std::to_string(v.size()) + " tokens)";
}

// Removes the one space the SPM leading-space rule put in front of the text.
bool strips_leading_space(const vocab& v, const detokenize_options& options) {
  return options.strip_leading_space && v.model == vocab_model::spm && v.add_space_prefix;
}

}  // namespace

tokenizer::tokenizer(engine::vocab v) : impl_(std::make_unique<impl>()) {
  v.validate();
  detail::tokenizer_state& s = impl_->s;
  s.v = std::move(v);
  const engine::vocab& voc = s.v;
  const auto n = static_cast<std::size_t>(voc.size());

  s.by_text.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s.by_text.emplace(voc.tokens[i], static_cast<token_id>(i));

  s.eog.assign(n, false);
  for (const token_id id : {voc.eos_id, voc.eot_id, voc.eom_id}) {
    if (id != no_token) s.eog[static_cast<std::size_t>(id)] = true;
  }
  for (const std::string_view text : eog_texts) {
    const auto it = s.by_text.find(text);
    if (it != s.by_text.end() && voc.types[static_cast<std::size_t>(it->second)] == token_type::control) {
      s.eog[static_cast<std::size_t>(it->second)] = true;
    }
  }

  for (std::size_t i = 0; i < n; ++i) {
    if (!is_split_type(voc.types[i]) || voc.tokens[i].empty()) continue;
    s.specials_by_byte[static_cast<unsigned char>(voc.tokens[i][0])].push_back(static_cast<token_id>(i));
  }
  for (auto& bucket : s.specials_by_byte) {
    // Longest first so the first hit at a position is the longest match;
    // equal lengths keep id order, so the result does not depend on hashing.
    std::stable_sort(bucket.begin(), bucket.end(), [&](token_id a, token_id b) {
      return voc.tokens[static_cast<std::size_t>(a)].size() > voc.tokens[static_cast<std::size_t>(b)].size();
    });
  }

  if (voc.model == vocab_model::spm) {
    detail::init_spm(s);
  } else {
    detail::init_bpe(s);
  }
}

tokenizer tokenizer::from_gguf(const gguf_file& file) { return tokenizer(load_vocab_gguf(file)); }

tokenizer tokenizer::from_hf(const std::filesystem::path& tokenizer_json) {
  return tokenizer(load_vocab_hf(tokenizer_json));
}

tokenizer::tokenizer(tokenizer&&) noexcept = default;
tokenizer& tokenizer::operator=(tokenizer&&) noexcept = default;
tokenizer::~tokenizer() = default;

const vocab& tokenizer::vocab() const { return impl_->s.v; }
token_id tokenizer::n_tokens() const { return impl_->s.v.size(); }
token_id tokenizer::bos() const { return impl_->s.v.bos_id; }
token_id tokenizer::eos() const { return impl_->s.v.eos_id; }

bool tokenizer::is_eog(token_id id) const {
  const auto& eog = impl_->s.eog;
  return id >= 0 && static_cast<std::size_t>(id) < eog.size() && eog[static_cast<std::size_t>(id)];
}

bool tokenizer::is_control(token_id id) const {
  const engine::vocab& v = impl_->s.v;
  return id >= 0 && id < v.size() && v.types[static_cast<std::size_t>(id)] == token_type::control;
}

token_id tokenizer::find(std::string_view text) const {
  const auto it = impl_->s.by_text.find(text);
  return it == impl_->s.by_text.end() ? no_token : it->second;
}

std::vector<token_id> tokenizer::tokenize(std::string_view text, const tokenize_options& options) const {
  const detail::tokenizer_state& s = impl_->s;
  const engine::vocab& v = s.v;
  std::vector<token_id> out;
  out.reserve(text.size() / 3 + 4);
  if (options.add_special && v.add_bos && v.bos_id != no_token) out.push_back(v.bos_id);

  // One stretch of raw text between special tokens.
  bool after_special = true;
  auto encode_raw = [&](std::string_view raw) {
    if (raw.empty()) return;
    if (v.model == vocab_model::spm) {
      detail::encode_spm(s, raw, after_special, out);
    } else {
      detail::encode_bpe(s, raw, out);
    }
    after_special = false;
  };

  // Leftmost-longest scan for special-token texts (as Hugging Face's
  // added-token matcher does). user_defined tokens are part of the model's
  // text alphabet and always match; control/unknown only when asked.
  std::size_t raw_start = 0;
  std::size_t i = 0;
  std::size_t next_plain = 0;  // first plain range that does not end at or before i
  while (i < text.size()) {
    const auto& bucket = s.specials_by_byte[static_cast<unsigned char>(text[i])];
    token_id hit = no_token;
    while (next_plain < options.plain_ranges.size() && options.plain_ranges[next_plain].end <= i) ++next_plain;
    for (const token_id id : bucket) {
      const auto idx = static_cast<std::size_t>(id);
      if (v.types[idx] != token_type::user_defined) {
        if (!options.parse_special) continue;
        // A control text overlapping plain text (e.g. typed by a chat user) stays text.
        if (next_plain < options.plain_ranges.size() &&
            options.plain_ranges[next_plain].begin < i + v.tokens[idx].size())
          continue;
      }
      if (text.substr(i).starts_with(v.tokens[idx])) {
        hit = id;
        break;
      }
    }
    if (hit == no_token) {
      ++i;
      continue;
    }
    encode_raw(text.substr(raw_start, i - raw_start));
    out.push_back(hit);
    after_special = true;
    i += v.tokens[static_cast<std::size_t>(hit)].size();
    raw_start = i;
  }
  encode_raw(text.substr(raw_start));

  if (options.add_special && v.add_eos && v.eos_id != no_token) out.push_back(v.eos_id);
  return out;
}

std::string tokenizer::token_to_piece(token_id id, bool render_special) const {
  const engine::vocab& v = impl_->s.v;
  if (id < 0 || id >= v.size()) throw input_error(id_error(v, id));
  const auto idx = static_cast<std::size_t>(id);
  const std::string& text = v.tokens[idx];
  switch (v.types[idx]) {
    case token_type::control:
      return render_special ? text : std::string();
    case token_type::user_defined:
    case token_type::unused:
      return text;
    case token_type::byte:
      // "<0xXX>"; validate() checked the form of every byte token.
      return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
    case token_type::undefined:
    case token_type::normal:
    case token_type::unknown:
      break;
  }
  std::string piece;
  piece.reserve(text.size());
  if (v.model == vocab_model::spm) {
    // "▁" (E2 96 81) stands for a space.
    for (std::size_t i = 0; i < text.size();) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        piece.push_back(' ');
        i += 3;
      } else {
        piece.push_back(text[i]);
        ++i;
      }
    }
    return piece;
  }
  // Byte-level BPE: each code point of the stored text is one byte.
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(std::string_view(text).substr(i), cp);
    const int byte = n == 0 ? -1 : unicode_to_byte(cp);
    if (byte < 0) {
      // Not in the byte alphabet (a hand-made vocab): keep the stored bytes.
      const std::size_t keep = n == 0 ? 1 : n;
      piece.append(text, i, keep);
      i += keep;
    } else {
      piece.push_back(static_cast<char>(byte));
      i += n;
    }
  }
  return piece;
}

std::string tokenizer::detokenize(std::span<const token_id> ids, const detokenize_options& options) const {
  std::string out;
  bool strip = strips_leading_space(impl_->s.v, options);
  for (const token_id id : ids) {
    std::string piece = token_to_piece(id, options.render_special);
    if (strip && !piece.empty()) {
      if (piece.front() == ' ') piece.erase(0, 1);
      strip = false;
    }
    out += piece;
  }
  return out;
}

stream_decoder::stream_decoder(const tokenizer& tok, detokenize_options options)
    : tok_(&tok), options_(options) {}

std::string stream_decoder::push(token_id id) {
  std::string piece = tok_->token_to_piece(id, options_.render_special);
  if (first_ && !piece.empty()) {
    if (strips_leading_space(tok_->vocab(), options_) && piece.front() == ' ') piece.erase(0, 1);
    first_ = false;
  }
  pending_ += piece;
  const std::size_t hold = utf8_incomplete_tail(pending_);
  std::string ready = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string stream_decoder::flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  first_ = true;
  return rest;
}

}  // namespace huashan::engine
