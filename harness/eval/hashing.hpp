// The SHA-256 digests lm-evaluation-harness writes into its samples
// (doc_hash, prompt_hash, target_hash), lowercase hex.
#pragma once

#include <string>
#include <string_view>

namespace huashan::harness::eval {

// sha256 of the bytes of `text`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view text);

// Digests over a sequence of parts, for prompts_hash; each part is length-
// prefixed so that no two different sequences give the same bytes.
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void add_part(std::string_view part);
  std::string hex();

 private:
  void* context_;
};

}  // namespace huashan::harness::eval
