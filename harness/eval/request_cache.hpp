// Answers the model already gave, on disk, so a killed eval resumes where it
// stopped and an unchanged rerun costs nothing. One append-only JSON-lines
// file per model fingerprint; each line is one answer keyed by a hash of its
// request. A process killed mid-write leaves at most one incomplete last
// line, which opening drops; every complete line stays.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness/eval/task.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

// sha256 (hex) of a request's kind and every argument that changes its answer.
std::string request_key(const request& r);
// sha256 (hex) of the fingerprint's kind and fields.
std::string fingerprint_id(const model_fingerprint& fp);
// fingerprint_id without the file's name: equal for the same weights and
// settings wherever the file lies and whatever it is called (what ties an
// arena model to eval runs).
std::string same_model_digest(const model_fingerprint& fp);

class request_cache {
 public:
  // Opens (creating) DIR/<fingerprint_id>.jsonl and reads its answers.
  // io_error naming the path when it cannot be created or read; a line that
  // is not an answer (other than an incomplete last one) is an input_error
  // naming FILE:LINE, since appending after it would hide the damage.
  request_cache(const std::filesystem::path& dir, const model_fingerprint& fp);
  request_cache(const request_cache&) = delete;
  request_cache& operator=(const request_cache&) = delete;
  ~request_cache();

  const std::filesystem::path& path() const { return path_; }
  std::size_t size() const { return answers_.size(); }
  // The stored answer for `key`, if any.
  std::optional<response> find(const std::string& key) const;
  // Appends answers (one write per call) and remembers them.
  void store(const std::vector<std::pair<std::string, response>>& answers);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::unordered_map<std::string, response> answers_;
};

}  // namespace huashan::harness::eval
