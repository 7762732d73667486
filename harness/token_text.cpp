#include "harness/token_text.hpp"

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace huashan::harness {

std::string token_display_text(const engine::tokenizer& tok, engine::token_id id) {
  const std::string piece = tok.token_to_piece(id, true);
  if (utf8_is_valid(piece)) return piece;
  std::string out = "bytes:";
  for (const unsigned char c : piece) out += fmt::format("\\x{:02x}", c);
  return out;
}

std::vector<std::uint8_t> token_bytes(const engine::tokenizer& tok, engine::token_id id) {
  const std::string piece = tok.token_to_piece(id, true);
  return {piece.begin(), piece.end()};
}

}  // namespace huashan::harness
