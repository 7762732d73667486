// Tokenizer goldens from independent implementations (files under
// HUASHAN_TEST_DATA, tests/data/SOURCES.md):
// - golden/tokenizers/{qwen3,llama3}-corpus.jsonl: the reference Hugging Face
//   Qwen3 and Llama 3 tokenizers' ids (no BOS added, special-token texts
//   parsed) for each text;
//   we compare ids exactly and, where decoded_equal is true, decode == text.
// - tokenizers/*/ggml-vocab-*.gguf.{inp,out}: llama.cpp's 46 test vectors
//   (no BOS), compared id for id: qwen2 and llama-bpe through the tokenizer.json
//   files, llama-spm through the vocab-only GGUF.
// - golden/engine/stories260K-greedy.jsonl: llama.cpp's prompt_ids (BOS
//   included) for the stories260K SPM vocabulary.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/tokenizer.hpp"
#include "harness/engine/unicode.hpp"

using namespace huashan::engine;

namespace {

const std::string data_dir = HUASHAN_TEST_DATA;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ids_text(const std::vector<token_id>& ids) {
  std::string s;
  for (const token_id id : ids) s += " " + std::to_string(id);
  return s;
}

// Tokenizers are loaded once per binary: the Qwen3 file is 11 MB.
const tokenizer& qwen3() {
  static const tokenizer t = tokenizer::from_hf(data_dir + "/tokenizers/qwen3/tokenizer.json");
  return t;
}
const tokenizer& llama3() {
  static const tokenizer t = tokenizer::from_hf(data_dir + "/tokenizers/llama3/tokenizer.json");
  return t;
}
const tokenizer& llama_spm() {
  static const gguf_file file = gguf_file::open(data_dir + "/tokenizers/llama-spm/ggml-vocab-llama-spm.gguf");
  static const tokenizer t = tokenizer::from_gguf(file);
  return t;
}

struct corpus_result {
  int cases = 0;
  int ids_equal = 0;
  int decode_checked = 0;
  int decode_equal = 0;
  int stream_split = 0;  // cases where some token ended inside a UTF-8 sequence
};

// Streams the reference ids one at a time: every chunk must be valid UTF-8
// (the corpus texts are) and the chunks must add up to the whole decode.
bool stream_ok(const tokenizer& tok, const std::vector<token_id>& ids, bool& split) {
  stream_decoder d(tok, {.render_special = true});
  std::string all;
  for (const token_id id : ids) {
    const std::string chunk = d.push(id);
    if (!utf8_is_valid(chunk)) return false;
    split = split || d.pending_bytes() > 0;
    all += chunk;
  }
  all += d.flush();
  return all == tok.detokenize(ids, {.render_special = true});
}

// Compares every line of a {text, ids, decoded_equal} JSONL corpus.
corpus_result check_corpus(const tokenizer& tok, const std::string& path) {
  corpus_result r;
  std::istringstream lines(slurp(path));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const boost::json::object obj = boost::json::parse(line).as_object();
    const std::string text(obj.at("text").as_string());
    std::vector<token_id> expected;
    for (const auto& id : obj.at("ids").as_array()) expected.push_back(static_cast<token_id>(id.to_number<std::int64_t>()));
    // Hugging Face's encode() matches added/special token texts and adds no
    // BOS for these two tokenizers; its decode() keeps special tokens.
    const std::vector<token_id> got = tok.tokenize(text, {.add_special = false, .parse_special = true});
    ++r.cases;
    if (got == expected) {
      ++r.ids_equal;
    } else {
      MESSAGE(path << ": ids differ for text " << text << "\n expected" << ids_text(expected) << "\n got     "
                   << ids_text(got));
    }
    bool split = false;
    CHECK_MESSAGE(stream_ok(tok, expected, split), path << ": streamed decode of text " << text);
    r.stream_split += split ? 1 : 0;
    if (obj.at("decoded_equal").as_bool()) {
      ++r.decode_checked;
      const std::string back = tok.detokenize(expected, {.render_special = true});
      if (back == text) {
        ++r.decode_equal;
      } else {
        MESSAGE(path << ": decode differs for text " << text << "\n got " << back);
      }
    }
  }
  return r;
}

// llama.cpp's vector files: inputs split on "\n__ggml_vocab_test__\n",
// outputs one line of space-separated ids per input.
int check_vocab_vectors(const tokenizer& tok, const std::string& stem) {
  const std::string inp = slurp(stem + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (std::size_t pos = 0; pos < inp.size();) {
    const std::size_t next = inp.find(sep, pos);
    REQUIRE_MESSAGE(next != std::string::npos, stem << ".inp: case without a trailing separator");
    inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream out(slurp(stem + ".out"));
  std::vector<std::vector<token_id>> outputs;
  std::string line;
  while (std::getline(out, line)) {
    std::istringstream ids(line);
    std::vector<token_id> v;
    for (token_id id = 0; ids >> id;) v.push_back(id);
    outputs.push_back(v);
  }
  REQUIRE_MESSAGE(inputs.size() == outputs.size(), stem << ": .inp has " << inputs.size() << " cases, .out "
                                                         << outputs.size());
  int equal = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<token_id> got = tok.tokenize(inputs[i], {.add_special = false, .parse_special = false});
    if (got == outputs[i]) {
      ++equal;
    } else {
      MESSAGE(stem << " case " << i << " [" << inputs[i] << "]\n expected" << ids_text(outputs[i]) << "\n got     "
                   << ids_text(got));
    }
  }
  return equal;
}

}  // namespace

TEST_CASE("qwen3 tokenizer.json matches the Hugging Face Qwen3 tokenizer on the corpus") {
  const corpus_result r = check_corpus(qwen3(), data_dir + "/golden/tokenizers/qwen3-corpus.jsonl");
  CHECK(r.cases == 68);
  CHECK(r.ids_equal == r.cases);
  CHECK(r.decode_checked == 67);
  CHECK(r.decode_equal == r.decode_checked);
  CHECK(r.stream_split > 0);  // emoji and rare CJK characters span several tokens
}

TEST_CASE("llama3 tokenizer.json matches the Hugging Face Llama 3 tokenizer on the corpus") {
  const corpus_result r = check_corpus(llama3(), data_dir + "/golden/tokenizers/llama3-corpus.jsonl");
  CHECK(r.cases == 68);
  CHECK(r.ids_equal == r.cases);
  CHECK(r.decode_checked == 67);
  CHECK(r.decode_equal == r.decode_checked);
}

TEST_CASE("the digit rule is what separates qwen2 from llama3") {
  // qwen2 splits numbers into single digits, llama3 into groups of up to three.
  CHECK(qwen3().tokenize("12345", {.add_special = false}).size() == 5);
  CHECK(llama3().tokenize("12345", {.add_special = false}).size() == 2);
}

TEST_CASE("llama.cpp vocab vectors: qwen2 via the Qwen3 tokenizer.json") {
  CHECK(check_vocab_vectors(qwen3(), data_dir + "/tokenizers/qwen3/ggml-vocab-qwen2.gguf") == 46);
}

TEST_CASE("llama.cpp vocab vectors: llama-bpe via the Llama 3 tokenizer.json") {
  CHECK(check_vocab_vectors(llama3(), data_dir + "/tokenizers/llama3/ggml-vocab-llama-bpe.gguf") == 46);
}

TEST_CASE("llama.cpp vocab vectors: llama-spm via the vocab-only GGUF") {
  const tokenizer& tok = llama_spm();
  CHECK(tok.vocab().model == vocab_model::spm);
  CHECK(tok.n_tokens() == 32000);
  CHECK(check_vocab_vectors(tok, data_dir + "/tokenizers/llama-spm/ggml-vocab-llama-spm.gguf") == 46);
}

TEST_CASE("stories260K prompt ids equal llama.cpp's (BOS prepended)") {
  const gguf_file file = gguf_file::open(data_dir + "/models/stories260K.gguf");
  const tokenizer tok = tokenizer::from_gguf(file);
  CHECK(tok.n_tokens() == 512);
  CHECK(tok.bos() == 1);
  std::istringstream lines(slurp(data_dir + "/golden/engine/stories260K-greedy.jsonl"));
  std::string line;
  int cases = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const boost::json::object obj = boost::json::parse(line).as_object();
    const std::string prompt(obj.at("prompt").as_string());
    std::vector<token_id> expected;
    for (const auto& id : obj.at("prompt_ids").as_array()) expected.push_back(static_cast<token_id>(id.to_number<std::int64_t>()));
    // The server tokenized with add_special and parse_special on.
    CHECK_MESSAGE(tok.tokenize(prompt, {.add_special = true, .parse_special = true}) == expected,
                  "stories260K-greedy.jsonl prompt [" << prompt << "]");
    // generated_text is the plain concatenation of pieces ("▁" -> space).
    std::vector<token_id> generated;
    for (const auto& id : obj.at("generated_ids").as_array()) generated.push_back(static_cast<token_id>(id.to_number<std::int64_t>()));
    CHECK(tok.detokenize(generated) == std::string(obj.at("generated_text").as_string()));
    ++cases;
  }
  CHECK(cases == 8);
}

TEST_CASE("qwen3: end-of-generation ids and the documented </s> difference from llama.cpp") {
  const tokenizer& q = qwen3();
  CHECK(q.eos() == q.find("<|im_end|>"));
  CHECK(q.is_eog(151645));  // <|im_end|>
  CHECK(q.is_eog(151643));  // <|endoftext|>
  CHECK_FALSE(q.is_eog(128247));  // "</s>": an ordinary Qwen3 token (llama.cpp makes it EOG)
  // golden/engine/README.md: llama.cpp's ids for a</s>b<|im_end|> without parse_special.
  const std::string text = "a</s>b<|im_end|>";
  CHECK(q.tokenize(text, {.add_special = false, .parse_special = false}) ==
        std::vector<token_id>{64, 522, 82, 51407, 27, 91, 318, 6213, 91, 29});
  // With parse_special we follow Hugging Face: only <|im_end|> is special
  // (llama.cpp gives [64, 128247, 65, 151645]).
  CHECK(q.tokenize(text, {.add_special = false, .parse_special = true}) ==
        std::vector<token_id>{64, 522, 82, 51407, 151645});
  const tokenizer& l = llama3();
  CHECK(l.is_eog(l.find("<|eot_id|>")));
  CHECK(l.is_eog(l.find("<|end_of_text|>")));
  CHECK(l.bos() == l.find("<|begin_of_text|>"));
}

TEST_CASE("a tokenizer.json vocab written to GGUF and read back tokenizes the corpus identically") {
  // write_vocab_gguf is what `model synth` uses to copy a tokenizer; the
  // GGUF path must give Hugging Face's ids too (llama3-corpus.jsonl).
  const vocab& hf = llama3().vocab();
  gguf_writer w;
  write_vocab_gguf(hf, w);
  const std::vector<std::byte> bytes = w.to_bytes();
  const gguf_file file = gguf_file::open_memory(bytes, "llama3-copy.gguf");
  const vocab back = load_vocab_gguf(file);
  CHECK(back.pre == pre_rule::llama3);
  CHECK(back.ignore_merges);
  CHECK(back.tokens == hf.tokens);
  CHECK(back.merges == hf.merges);
  CHECK(back.types == hf.types);
  CHECK(back.bos_id == hf.bos_id);
  CHECK(back.eos_id == hf.eos_id);
  CHECK(back.chat_template == hf.chat_template);
  const tokenizer tok{vocab(back)};
  const corpus_result r = check_corpus(tok, data_dir + "/golden/tokenizers/llama3-corpus.jsonl");
  CHECK(r.ids_equal == 68);
}
