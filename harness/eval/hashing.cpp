#include "harness/eval/hashing.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>

namespace huashan::harness::eval {

namespace {

std::string to_hex(const unsigned char* digest, unsigned int size) {
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

EVP_MD_CTX* as_context(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL EVP_Digest failed");
  }
  return to_hex(digest, size);
}

sha256_stream::sha256_stream() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr || EVP_DigestInit_ex(as_context(context_), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL could not start a digest");
  }
}

sha256_stream::~sha256_stream() { EVP_MD_CTX_free(as_context(context_)); }

void sha256_stream::add_part(std::string_view part) {
  const std::string length = fmt::format("{}:", part.size());
  EVP_DigestUpdate(as_context(context_), length.data(), length.size());
  EVP_DigestUpdate(as_context(context_), part.data(), part.size());
}

std::string sha256_stream::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(as_context(context_), digest, &size);
  return to_hex(digest, size);
}

}  // namespace huashan::harness::eval
