// `huashan model pull URL | hf:OWNER/REPO/FILE.gguf`: download into the models
// folder with resume (HTTP Range on FILE.part), a progress bar on stderr and a
// streaming sha256 check (libsodium). hf: maps to $HF_ENDPOINT (default
// https://huggingface.co)/OWNER/REPO/resolve/main/FILE.
#include <curl/curl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/commands.hpp"
#include "common/error.hpp"

namespace huashan::cli {

namespace {

constexpr long connect_timeout_s = 30;
constexpr long low_speed_limit_bytes = 1;   // abort when slower than this ...
constexpr long low_speed_time_s = 60;       // ... for this long
constexpr long max_redirects = 10;          // huggingface.co redirects to its CDN
constexpr double progress_interval_s = 0.2;

struct source {
  std::string url;
  std::string file_name;
};

source resolve(const std::string& spec) {
  source s;
  if (spec.starts_with("hf:")) {
    const std::string rest = spec.substr(3);
    // OWNER/REPO/PATH...: at least three components.
    const auto first = rest.find('/');
    const auto second = first == std::string::npos ? std::string::npos : rest.find('/', first + 1);
    if (second == std::string::npos || second + 1 >= rest.size()) {
      throw config_error(fmt::format("model pull: '{}' should be hf:OWNER/REPO/FILE.gguf", spec));
    }
    const char* endpoint = std::getenv("HF_ENDPOINT");
    std::string base = endpoint != nullptr && *endpoint != '\0' ? endpoint : "https://huggingface.co";
    while (!base.empty() && base.back() == '/') base.pop_back();
    s.url = fmt::format("{}/{}/resolve/main/{}", base, rest.substr(0, second), rest.substr(second + 1));
  } else if (spec.starts_with("http://") || spec.starts_with("https://")) {
    s.url = spec;
  } else {
    throw config_error(fmt::format("model pull: '{}' is neither an http(s) URL nor hf:OWNER/REPO/FILE.gguf", spec));
  }
  std::string path = s.url.substr(0, s.url.find_first_of("?#"));
  s.file_name = path.substr(path.find_last_of('/') + 1);
  if (s.file_name.empty() || s.file_name == "." || s.file_name == "..") {
    throw config_error(fmt::format("model pull: no file name in '{}'", spec));
  }
  return s;
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}

// Streams a file's bytes into the hash; io_error when it cannot be read.
void hash_file(crypto_hash_sha256_state& state, const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw io_error(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  std::vector<unsigned char> buffer(1 << 20);
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) crypto_hash_sha256_update(&state, buffer.data(), n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw io_error(fmt::format("{}: read error", path.string()));
}

std::string human_bytes(double b) {
  if (b >= 1 << 30) return fmt::format("{:.2f} GiB", b / (1 << 30));
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  return fmt::format("{:.0f} KiB", b / 1024);
}

struct transfer {
  CURL* curl = nullptr;
  std::FILE* out = nullptr;
  std::filesystem::path part;
  crypto_hash_sha256_state* hash = nullptr;
  std::uint64_t resume_from = 0;  // bytes already in the .part file when the request started
  bool checked_status = false;
  bool restarted = false;         // the server ignored Range: started again from 0
  bool write_failed = false;
  bool tty = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw{};
};

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  if (!t->checked_status) {
    t->checked_status = true;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (t->resume_from > 0 && code == 200) {
      // No range support: the body is the whole file, so drop what we had.
      if (std::fflush(t->out) != 0 || ::ftruncate(::fileno(t->out), 0) != 0 || std::fseek(t->out, 0, SEEK_SET) != 0) {
        t->write_failed = true;
        return 0;
      }
      crypto_hash_sha256_init(t->hash);
      t->resume_from = 0;
      t->restarted = true;
    }
  }
  if (std::fwrite(data, 1, n, t->out) != n) {
    t->write_failed = true;
    return 0;
  }
  crypto_hash_sha256_update(t->hash, reinterpret_cast<const unsigned char*>(data), n);
  return n;
}

void draw_progress(transfer& t, curl_off_t total_now, curl_off_t done_now, bool final) {
  const double done = static_cast<double>(t.resume_from + static_cast<std::uint64_t>(done_now));
  const double total = total_now > 0 ? static_cast<double>(t.resume_from + static_cast<std::uint64_t>(total_now)) : 0.0;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.started).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_now) / elapsed : 0.0;
  constexpr int width = 30;
  std::string bar;
  if (total > 0) {
    const int filled = static_cast<int>(width * std::min(1.0, done / total));
    bar = fmt::format("[{}{}] {:5.1f}% ", std::string(static_cast<std::size_t>(filled), '='),
                      std::string(static_cast<std::size_t>(width - filled), ' '), 100.0 * done / total);
  }
  std::fprintf(stderr, "%s%s%s / %s  %s/s%s", t.tty ? "\r" : "", bar.c_str(), human_bytes(done).c_str(),
               total > 0 ? human_bytes(total).c_str() : "?", human_bytes(rate).c_str(), (final || !t.tty) ? "\n" : "");
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<transfer*>(user);
  const auto now = std::chrono::steady_clock::now();
  // On a terminal redraw often; in logs, a line every few seconds.
  const double interval = t->tty ? progress_interval_s : 5.0;
  if (std::chrono::duration<double>(now - t->last_draw).count() >= interval && dlnow > 0) {
    t->last_draw = now;
    draw_progress(*t, dltotal, dlnow, false);
  }
  return 0;
}

std::string normalise_hex(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s.size() != 64 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw config_error(fmt::format("--sha256 must be 64 hex digits, got '{}'", s));
  }
  return s;
}

}  // namespace

int run_model_pull(const global_options&, const model_pull_options& options) {
  const source src = resolve(options.source);
  const std::optional<std::string> expected = options.sha256 ? std::optional(normalise_hex(*options.sha256)) : std::nullopt;
  if (sodium_init() < 0) throw io_error("libsodium failed to initialise");

  const std::filesystem::path dir = options.models_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw io_error(fmt::format("{}: cannot create the models folder: {}", dir.string(), ec.message()));
  const std::filesystem::path dest = dir / src.file_name;
  const std::filesystem::path part = dir / (src.file_name + ".part");

  if (std::filesystem::exists(dest)) {
    if (!expected) {
      std::printf("%s already present (give --sha256 to verify it)\n", dest.c_str());
      return 0;
    }
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    hash_file(state, dest);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    const std::string got = to_hex(digest, sizeof digest);
    if (got != *expected) {
      throw input_error(fmt::format("{}: sha256 mismatch: expected {}, got {} (delete it to download again)",
                                    dest.string(), *expected, got));
    }
    std::printf("%s already present, sha256 %s verified\n", dest.c_str(), got.c_str());
    return 0;
  }

  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::uint64_t have = 0;
  if (std::filesystem::exists(part)) {
    have = std::filesystem::file_size(part);
    hash_file(state, part);  // the hash continues over the bytes already there
  }

  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) throw io_error("libcurl failed to initialise");
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw io_error("libcurl: cannot create a handle");
  std::FILE* out = std::fopen(part.c_str(), "ab");
  if (out == nullptr) {
    curl_easy_cleanup(curl);
    throw io_error(fmt::format("{}: cannot open for writing: {}", part.string(), std::strerror(errno)));
  }

  transfer t;
  t.curl = curl;
  t.out = out;
  t.part = part;
  t.hash = &state;
  t.resume_from = have;
  t.tty = ::isatty(2) != 0;
  char curl_error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, src.url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, max_redirects);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, low_speed_limit_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, low_speed_time_s);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "huashan-model-pull");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  if (have > 0) {
    curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(have));
    std::fprintf(stderr, "resuming %s at %s\n", part.c_str(), human_bytes(static_cast<double>(have)).c_str());
  }
  std::fprintf(stderr, "downloading %s\n", src.url.c_str());
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_off_t body = 0;
  curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &body);
  const bool closed_ok = std::fclose(out) == 0;
  curl_easy_cleanup(curl);
  // 416 on a resumed request: the .part already holds the whole file.
  if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && have > 0) rc = CURLE_OK;
  if (rc != CURLE_OK || t.write_failed || !closed_ok) {
    const std::string why = t.write_failed || !closed_ok ? fmt::format("writing {} failed", part.string())
                            : curl_error[0] != '\0' ? std::string(curl_error)
                                                    : std::string(curl_easy_strerror(rc));
    if (std::filesystem::file_size(part, ec) == 0 && !ec) {
      std::filesystem::remove(part, ec);  // nothing arrived (e.g. 404): leave no empty .part behind
      throw io_error(fmt::format("model pull: {}: {}", src.url, why));
    }
    throw io_error(fmt::format("model pull: {}: {} (partial download kept in {}; run again to resume)", src.url, why,
                               part.string()));
  }
  draw_progress(t, body, body, true);

  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  const std::string got = to_hex(digest, sizeof digest);
  if (expected && got != *expected) {
    std::filesystem::remove(part, ec);
    throw input_error(fmt::format("model pull: {}: sha256 mismatch: expected {}, got {} (download deleted)", src.url,
                                  *expected, got));
  }
  std::filesystem::rename(part, dest, ec);
  if (ec) throw io_error(fmt::format("{}: cannot rename into place: {}", dest.string(), ec.message()));
  std::printf("saved %s (%s), sha256 %s%s\n", dest.c_str(),
              human_bytes(static_cast<double>(std::filesystem::file_size(dest))).c_str(), got.c_str(),
              expected ? " (verified)" : "");
  return 0;
}

}  // namespace huashan::cli
