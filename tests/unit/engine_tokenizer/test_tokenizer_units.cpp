// The tokenizer's rules on small hand-made vocabularies, where each expected
// id follows from the rule under test: UTF-8 helpers, SPM score order, byte
// fallback and the leading-space rule, BPE rank order and ignore_merges,
// special tokens, BOS/EOS, streaming decode, loader errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/tokenizer.hpp"
#include "harness/engine/unicode.hpp"

using namespace huashan::engine;

namespace {

using ids = std::vector<token_id>;

// SPM vocab: <unk> <s> </s>, then the given pieces with scores, then byte tokens for `bytes`.
vocab make_spm(const std::vector<std::pair<std::string, float>>& pieces, const std::vector<int>& bytes) {
  vocab v;
  v.source = "spm-test";
  v.model = vocab_model::spm;
  auto add = [&](std::string text, float score, token_type type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, token_type::unknown);
  add("<s>", 0, token_type::control);
  add("</s>", 0, token_type::control);
  for (const auto& [text, score] : pieces) add(text, score, token_type::normal);
  for (const int b : bytes) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, token_type::byte);
  }
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  return v;
}

std::string byte_text(std::string_view raw) {
  std::string s;
  for (const char c : raw) s += byte_to_unicode(static_cast<std::uint8_t>(c));
  return s;
}

// Byte-level BPE vocab: ids 0..255 are the bytes; each merge (of raw texts)
// adds the merged token at the next id; then `added` tokens.
vocab make_bpe(const std::vector<std::pair<std::string, std::string>>& merges,
               const std::vector<std::pair<std::string, token_type>>& added = {}) {
  vocab v;
  v.source = "bpe-test";
  v.model = vocab_model::bpe;
  v.pre = pre_rule::gpt2;
  v.add_space_prefix = false;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(std::string(byte_to_unicode(static_cast<std::uint8_t>(b))));
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(byte_text(a), byte_text(b));
    v.tokens.push_back(byte_text(a + b));
  }
  v.types.assign(v.tokens.size(), token_type::normal);
  for (const auto& [text, type] : added) {
    v.tokens.push_back(text);
    v.types.push_back(type);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  return v;
}

token_id byte_id(char c) { return static_cast<unsigned char>(c); }

}  // namespace

TEST_CASE("UTF-8 checks are strict and the incomplete tail is what a stream must hold") {
  CHECK(utf8_is_valid("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  CHECK_FALSE(utf8_is_valid("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(utf8_is_valid("\xED\xA0\x80"));      // surrogate D800
  CHECK_FALSE(utf8_is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(utf8_is_valid("\x80"));
  CHECK(utf8_incomplete_tail("ab") == 0);
  CHECK(utf8_incomplete_tail("a\xC3") == 1);
  CHECK(utf8_incomplete_tail("a\xE2\x82") == 2);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x98") == 3);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x98\x80") == 0);
  CHECK(utf8_incomplete_tail("\xED\xA0") == 0);  // can never complete (surrogate)
  CHECK(utf8_incomplete_tail("\x80\x80") == 0);
  CHECK(utf8_sanitize("a\xFF" "b\xC3") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  CHECK(nfc("e\xCC\x81") == "\xC3\xA9");             // e + combining acute -> é
  CHECK(nfc("x\xFF" "e\xCC\x81") == "x\xFF\xC3\xA9");  // invalid byte kept, the rest normalised
}

TEST_CASE("GPT-2 byte map is a bijection with the known anchors") {
  CHECK(byte_to_unicode(' ') == "\xC4\xA0");   // Ġ U+0120
  CHECK(byte_to_unicode('\n') == "\xC4\x8A");  // Ċ U+010A
  CHECK(byte_to_unicode('A') == "A");
  for (int b = 0; b < 256; ++b) {
    char32_t cp = 0;
    const std::string_view s = byte_to_unicode(static_cast<std::uint8_t>(b));
    REQUIRE(utf8_decode(s, cp) == s.size());
    CHECK(unicode_to_byte(cp) == b);
  }
  CHECK(unicode_to_byte(U'\u4E00') == -1);
}

TEST_CASE("SPM merges the highest-scoring pair first, leftmost among equals") {
  // "bc" outscores "ab", so "abc" -> a + bc even though "ab" comes first.
  const tokenizer t(make_spm({{"\xE2\x96\x81", -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"ab", -3}, {"bc", -1}}, {}));
  const token_id space = 3, a = 4, c = 6, ab = 7, bc = 8;
  CHECK(t.tokenize("abc", {.add_special = false}) == ids{space, a, bc});
  // Equal scores: the leftmost pair merges first ("ab" then "c").
  const tokenizer tie(make_spm({{"\xE2\x96\x81", -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"ab", -1}, {"bc", -1}}, {}));
  CHECK(tie.tokenize("abc", {.add_special = false}) == ids{space, ab, c});
}

TEST_CASE("SPM leading-space rule, byte fallback, unknown bytes and BOS") {
  const tokenizer t(make_spm({{"\xE2\x96\x81", -1}, {"a", -2}, {"\xE2\x96\x81" "a", -1}}, {0xC3, 0xA9}));
  const token_id space = 3, a = 4, space_a = 5, b_c3 = 6, b_a9 = 7;
  CHECK(t.tokenize("a") == ids{1, space_a});
  CHECK(t.tokenize("a a", {.add_special = false}) == ids{space_a, space_a});
  CHECK(t.tokenize(" ", {.add_special = false}) == ids{space, space});
  // "é" is not a piece: its two bytes become <0xC3> <0xA9>.
  CHECK(t.tokenize("\xC3\xA9", {.add_special = false}) == ids{space, b_c3, b_a9});
  // "z" has neither a piece nor a byte token: unknown.
  CHECK(t.tokenize("az", {.add_special = false}) == ids{space_a, 0});
  // A special token restarts the leading-space rule.
  CHECK(t.tokenize("a</s>a", {.add_special = false, .parse_special = true}) == ids{space_a, 2, space_a});
  CHECK(t.tokenize("a</s>", {.add_special = false, .parse_special = false}).size() > 2);
  CHECK(t.detokenize(ids{1, space_a, b_c3, b_a9, 2}) == " a\xC3\xA9");
  CHECK(t.detokenize(ids{1, space_a, a}, {.strip_leading_space = true}) == "aa");
  CHECK(t.detokenize(ids{1, space_a}, {.render_special = true}) == "<s> a");
  CHECK_THROWS_AS(t.token_to_piece(99), huashan::input_error);
}

TEST_CASE("BPE merges by rank, leftmost among equals, and round-trips bytes") {
  // Ranks: (b,c)=0 beats (a,b)=1, so "abc" -> a + bc.
  const tokenizer t(make_bpe({{"b", "c"}, {"a", "b"}, {"a", "a"}}));
  const token_id bc = 256, ab = 257, aa = 258;
  CHECK(t.tokenize("abc") == ids{byte_id('a'), bc});
  CHECK(t.tokenize("ab") == ids{ab});
  CHECK(t.tokenize("aaa") == ids{aa, byte_id('a')});  // leftmost pair first
  // gpt2 split: " world" is one word, the space stays with it.
  CHECK(t.tokenize("ab ab") == ids{ab, byte_id(' '), ab});
  const std::string bytes = std::string("x\0\xFF\xC3 \xE2\x82\xAC\n\t", 10);
  CHECK(t.detokenize(t.tokenize(bytes)) == bytes);
}

TEST_CASE("BPE ignore_merges emits a word that is itself a token") {
  // "abc" is a token, but (b,c) outranks (a,b), so merging never reaches it.
  vocab v = make_bpe({{"b", "c"}, {"a", "b"}, {"ab", "c"}});
  const token_id abc = 258;
  CHECK(tokenizer(make_bpe({{"b", "c"}, {"a", "b"}, {"ab", "c"}})).tokenize("abc") == ids{byte_id('a'), 256});
  v.ignore_merges = true;
  CHECK(tokenizer(std::move(v)).tokenize("abc") == ids{abc});
}

TEST_CASE("user_defined tokens always split, control tokens only with parse_special") {
  vocab v = make_bpe({{"a", "b"}}, {{"<ctl>", token_type::control}, {"<usr>", token_type::user_defined},
                                    {"<ctl>x", token_type::control}});
  v.bos_id = 257;
  v.eos_id = 257;
  v.add_bos = true;
  v.add_eos = true;
  const tokenizer t(std::move(v));
  const token_id ctl = 257, usr = 258, ctl_x = 259;
  CHECK(t.tokenize("ab<usr>ab", {.add_special = false}) == ids{256, usr, 256});
  CHECK(t.tokenize("<ctl>", {.add_special = false, .parse_special = true}) == ids{ctl});
  CHECK(t.tokenize("<ctl>x", {.add_special = false, .parse_special = true}) == ids{ctl_x});  // longest match
  const ids plain = t.tokenize("<ctl>", {.add_special = false, .parse_special = false});
  CHECK(plain.size() > 1);
  CHECK(t.detokenize(plain) == "<ctl>");
  CHECK(t.tokenize("ab", {.add_special = true}) == ids{ctl, 256, ctl});
  CHECK(t.detokenize(ids{ctl, 256, usr}) == "ab<usr>");
  CHECK(t.detokenize(ids{ctl, 256}, {.render_special = true}) == "<ctl>ab");
  CHECK(t.is_control(ctl));
  CHECK_FALSE(t.is_control(usr));
  CHECK(t.is_eog(ctl));  // it is the EOS
  CHECK_FALSE(t.is_eog(256));
  CHECK(t.find("<usr>") == usr);
  CHECK(t.find("nope") == no_token);
}

TEST_CASE("streaming decode holds incomplete UTF-8 and equals the whole decode") {
  const tokenizer t(make_bpe({}));
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80!";
  stream_decoder d(t);
  std::vector<std::string> outs;
  for (const char c : text) outs.push_back(d.push(byte_id(c)));
  CHECK(outs == std::vector<std::string>{"a", "", "\xC3\xA9", "", "", "\xE2\x82\xAC", "", "", "", "\xF0\x9F\x98\x80", "!"});
  CHECK(d.flush().empty());
  // An unfinished sequence at the end comes out of flush(); invalid bytes pass at once.
  CHECK(d.push(byte_id('\xE2')).empty());
  CHECK(d.pending_bytes() == 1);
  CHECK(d.flush() == "\xE2");
  CHECK(d.push(byte_id('\xFF')) == "\xFF");
  CHECK(d.push(byte_id('\xC3')).empty());
  CHECK(d.push(byte_id('x')) == "\xC3x");  // the held byte can no longer complete
}

TEST_CASE("a tokenizer is safe to share between threads") {
  const tokenizer t(make_bpe({{"a", "b"}, {"ab", "c"}, {" ", "x"}}));
  const std::string text = "abc xabc ab a b c \xF0\x9F\x98\x80 abcabc";
  const ids expected = t.tokenize(text);
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 200; ++i) ok[static_cast<std::size_t>(k)] += t.tokenize(text) == expected ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == std::vector<int>(4, 200));
}

TEST_CASE("vocab validation names the field") {
  vocab v = make_bpe({});
  v.scores.pop_back();
  CHECK_THROWS_WITH_AS(tokenizer(std::move(v)), doctest::Contains("scores"), huashan::input_error);
  vocab w = make_bpe({});
  w.eos_id = 9999;
  CHECK_THROWS_WITH_AS(tokenizer(std::move(w)), doctest::Contains("eos id 9999"), huashan::input_error);
  vocab n = make_spm({{"a", std::nanf("")}}, {});
  CHECK_THROWS_WITH_AS(tokenizer(std::move(n)), doctest::Contains("score of token 3 is NaN"), huashan::input_error);
  vocab b = make_spm({}, {});
  b.types[0] = token_type::byte;
  CHECK_THROWS_WITH_AS(tokenizer(std::move(b)), doctest::Contains("<0xXX>"), huashan::input_error);
}

namespace {

gguf_writer spm_gguf() {
  gguf_writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1});
  return w;
}

vocab load(const gguf_writer& w) {
  const std::vector<std::byte> bytes = w.to_bytes();
  const gguf_file f = gguf_file::open_memory(bytes, "test.gguf");
  return load_vocab_gguf(f);
}

}  // namespace

TEST_CASE("GGUF vocab: llama.cpp's defaults and the none marker") {
  gguf_writer w = spm_gguf();
  w.set_u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);
  const vocab v = load(w);
  CHECK(v.model == vocab_model::spm);
  CHECK(v.bos_id == 1);
  CHECK(v.eos_id == 2);
  CHECK(v.unk_id == 0);
  CHECK(v.pad_id == no_token);
  CHECK(v.add_bos);
  CHECK(v.add_space_prefix);
  CHECK(v.types[1] == token_type::control);

  gguf_writer b;
  b.set_string("tokenizer.ggml.model", "gpt2");
  b.set_string("tokenizer.ggml.pre", "qwen2");
  b.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  b.set_string_array("tokenizer.ggml.merges", {"a b"});
  b.set_string("tokenizer.chat_template", "{{ '<|im_start|>' }}");
  const vocab bv = load(b);
  CHECK(bv.model == vocab_model::bpe);
  CHECK(bv.pre == pre_rule::qwen2);
  CHECK(bv.normalize_nfc);
  CHECK_FALSE(bv.add_bos);
  CHECK(bv.merges == std::vector<std::pair<std::string, std::string>>{{"a", "b"}});
  CHECK(bv.chat_template == "{{ '<|im_start|>' }}");
  CHECK(tokenizer(bv).tokenize("ab") == ids{2});
}

TEST_CASE("GGUF vocab errors name the file and key") {
  gguf_writer w = spm_gguf();
  w.set_string("tokenizer.ggml.model", "bert");
  CHECK_THROWS_WITH_AS(load(w), doctest::Contains("test.gguf: tokenizer.ggml.model \"bert\""), huashan::input_error);
  gguf_writer t = spm_gguf();
  t.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 9});
  CHECK_THROWS_WITH_AS(load(t), doctest::Contains("token_type[4] = 9"), huashan::input_error);
  gguf_writer s = spm_gguf();
  s.set_f32_array("tokenizer.ggml.scores", {0, 0});
  CHECK_THROWS_WITH_AS(load(s), doctest::Contains("tokenizer.ggml.scores has 2 entries"), huashan::input_error);
  gguf_writer e = spm_gguf();
  e.set_u32("tokenizer.ggml.eos_token_id", 77);
  CHECK_THROWS_WITH_AS(load(e), doctest::Contains("eos_token_id = 77"), huashan::input_error);
  gguf_writer p;
  p.set_string("tokenizer.ggml.model", "gpt2");
  p.set_string("tokenizer.ggml.pre", "falcon");
  p.set_string_array("tokenizer.ggml.tokens", {"a"});
  p.set_string_array("tokenizer.ggml.merges", {});
  CHECK_THROWS_WITH_AS(load(p), doctest::Contains("tokenizer.ggml.pre \"falcon\""), huashan::input_error);
  gguf_writer none;
  none.set_string("general.architecture", "llama");
  CHECK_THROWS_WITH_AS(load(none), doctest::Contains("tokenizer.ggml.model"), huashan::input_error);
}

namespace {

// Writes `json` as tokenizer.json in a fresh temporary folder.
std::filesystem::path write_tokenizer_json(const std::string& name, const std::string& json) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("huashan-tok-" + name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << json;
  return dir / "tokenizer.json";
}

std::string hf_json(const std::string& merges, const std::string& regex, const std::string& model_type = "BPE") {
  return R"({"normalizer": null, "added_tokens": [{"id": 3, "content": "<|end|>", "special": true}],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": ")" + regex + R"("}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
    "model": {"type": ")" + model_type + R"(", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": )" + merges + "}}";
}

const std::string qwen2_regex_json =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)";

}  // namespace

TEST_CASE("tokenizer.json: merges as strings or pairs; unknown regex and model are errors") {
  const vocab pairs = load_vocab_hf(write_tokenizer_json("pairs", hf_json(R"([["a", "b"]])", qwen2_regex_json)));
  const vocab strings = load_vocab_hf(write_tokenizer_json("strings", hf_json(R"(["a b"])", qwen2_regex_json)));
  CHECK(pairs.merges == strings.merges);
  CHECK(pairs.pre == pre_rule::qwen2);
  CHECK(pairs.types[3] == token_type::control);
  CHECK(pairs.tokens[3] == "<|end|>");
  CHECK(tokenizer(pairs).tokenize("ab<|end|>", {.parse_special = true}) == ids{2, 3});
  CHECK_THROWS_WITH_AS(load_vocab_hf(write_tokenizer_json("regex", hf_json(R"(["a b"])", "\\\\w+"))),
                       doctest::Contains("none of the known pre rules"), huashan::input_error);
  CHECK_THROWS_WITH_AS(load_vocab_hf(write_tokenizer_json("wp", hf_json("[]", qwen2_regex_json, "WordPiece"))),
                       doctest::Contains("model.type"), huashan::input_error);
  CHECK_THROWS_WITH_AS(load_vocab_hf(write_tokenizer_json("bad", "{\"model\": ")), doctest::Contains("not valid JSON"),
                       huashan::input_error);
  CHECK_THROWS_AS(load_vocab_hf("/nonexistent/tokenizer.json"), huashan::io_error);
}
