// A token as text that must be valid UTF-8 (JSON): a byte-fallback token
// (<0xB5>) or a piece that cuts a character is not, so it is spelled as
// OpenAI spells it, "bytes:\xb5", beside its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/engine/tokenizer.hpp"

namespace huashan::harness {

// The piece (control tokens rendered) when it is valid UTF-8, else
// "bytes:" followed by \xNN for each byte. input_error for an id out of range.
std::string token_display_text(const engine::tokenizer& tok, engine::token_id id);
// The bytes the token stands for (its piece, control tokens rendered).
std::vector<std::uint8_t> token_bytes(const engine::tokenizer& tok, engine::token_id id);

}  // namespace huashan::harness
