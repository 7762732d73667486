#include "harness/fingerprint.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "common/build_info.hpp"
#include "common/error.hpp"

namespace huashan::harness {

namespace {

class sha256_stream {
 public:
  sha256_stream() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw huashan::error("sha256: OpenSSL init failed");
  }
  void update(const void* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx_.get(), data, n) != 1) throw huashan::error("sha256: OpenSSL update failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &n) != 1) throw huashan::error("sha256: OpenSSL final failed");
    std::string out;
    out.reserve(2 * n);
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string sha256_hex(std::span<const std::byte> bytes) {
  sha256_stream s;
  s.update(bytes.data(), bytes.size());
  return s.hex();
}

std::string sha256_hex(std::string_view text) {
  sha256_stream s;
  s.update(text.data(), text.size());
  return s.hex();
}

std::string sha256_file_hex(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(fmt::format("{}: cannot open the file to hash it", path.string()));
  sha256_stream s;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) s.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw io_error(fmt::format("{}: read error while hashing the file", path.string()));
  return s.hex();
}

std::string tensor_type_counts(const engine::gguf_file& file) {
  std::map<std::string, int> counts;
  for (const auto& t : file.tensors()) {
    std::string name(engine::traits_of(t.type).name);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    ++counts[name];
  }
  std::string out;
  for (const auto& [name, n] : counts) out += fmt::format("{}{}:{}", out.empty() ? "" : ",", name, n);
  return out;
}

std::string engine_version() { return build_info::version; }

}  // namespace huashan::harness
