#include "harness/eval/request_cache.hpp"

#include <boost/json.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "harness/eval/hashing.hpp"
#include "harness/eval/response_json.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

// Lengths before each part, so no two different requests share a key.
void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void write_all(int fd, const std::string& bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error(fmt::format("{}: cannot write the eval cache: {}", path.string(), std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string request_key(const request& r) {
  std::string s;
  if (const auto* ll = std::get_if<loglikelihood_request>(&r.args)) {
    put(s, "loglikelihood");
    put(s, ll->context);
    put(s, ll->continuation);
  } else if (const auto* rr = std::get_if<rolling_request>(&r.args)) {
    put(s, "loglikelihood_rolling");
    put(s, rr->text);
  } else {
    const auto& g = std::get<generate_until_request>(r.args);
    put(s, "generate_until");
    put(s, g.context);
    put(s, std::to_string(g.until.size()));
    for (const auto& u : g.until) put(s, u);
    put(s, std::to_string(g.max_tokens));
    put(s, fmt::format("{}", g.temperature));
    put(s, fmt::format("{}", g.top_p));
    // The seed changes nothing when decoding greedily.
    put(s, g.temperature > 0 ? std::to_string(g.seed) : "greedy");
  }
  return sha256_hex(s);
}

std::string fingerprint_id(const model_fingerprint& fp) {
  std::string s;
  put(s, fp.kind);
  for (const auto& [k, v] : fp.fields) {
    put(s, k);
    put(s, v);
  }
  return sha256_hex(s);
}

std::string same_model_digest(const model_fingerprint& fp) {
  auto without_file = fp;
  without_file.fields.erase("file");
  return fingerprint_id(without_file);
}

request_cache::request_cache(const std::filesystem::path& dir, const model_fingerprint& fp) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw io_error(fmt::format("{}: cannot create the eval cache folder: {}", dir.string(), ec.message()));
  path_ = dir / (fingerprint_id(fp) + ".jsonl");

  std::string text;
  {
    std::ifstream in(path_, std::ios::binary);
    if (in) {
      std::ostringstream buf;
      buf << in.rdbuf();
      text = buf.str();
    }
  }
  // Only whole lines count: a kill during a write leaves a tail without '\n'.
  const std::size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  std::size_t pos = 0;
  std::int64_t line = 0;
  while (pos < complete) {
    const std::size_t end = text.find('\n', pos);
    ++line;
    const std::string_view row(text.data() + pos, end - pos);
    pos = end + 1;
    if (row.empty()) continue;
    try {
      const auto v = json::parse(row);
      const auto& o = v.as_object();
      answers_.insert_or_assign(std::string(o.at("key").as_string()), response_from_json(o.at("answer").as_object()));
    } catch (const std::exception& e) {
      throw input_error(fmt::format("{}:{}: not an eval cache answer ({}); move the file away to start the cache afresh",
                                    path_.string(), line, e.what()));
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_error(fmt::format("{}: cannot open the eval cache: {}", path_.string(), std::strerror(errno)));
  // Drop the incomplete tail so the next answer starts on a line of its own.
  if (complete < text.size() && ::ftruncate(fd_, static_cast<off_t>(complete)) != 0)
    throw io_error(fmt::format("{}: cannot truncate the eval cache: {}", path_.string(), std::strerror(errno)));
  if (::lseek(fd_, 0, SEEK_END) < 0)
    throw io_error(fmt::format("{}: cannot seek the eval cache: {}", path_.string(), std::strerror(errno)));
}

request_cache::~request_cache() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<response> request_cache::find(const std::string& key) const {
  const auto it = answers_.find(key);
  if (it == answers_.end()) return std::nullopt;
  return it->second;
}

void request_cache::store(const std::vector<std::pair<std::string, response>>& answers) {
  std::string bytes;
  for (const auto& [key, answer] : answers) {
    bytes += json::serialize(json::object{{"key", key}, {"answer", response_to_json(answer)}});
    bytes += '\n';
  }
  write_all(fd_, bytes, path_);
  for (const auto& [key, answer] : answers) answers_.insert_or_assign(key, answer);
}

}  // namespace huashan::harness::eval
