// Splits template source into tokens the way jinja2's lexer does: text
// between tags (with -/+ whitespace control, trim_blocks and lstrip_blocks
// applied here), and the tokens inside {{ }} and {% %}. Comments disappear and
// {% raw %} blocks become text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/jinja/jinja.hpp"

namespace huashan::harness::jinja {

enum class token_kind : std::uint8_t {
  text, variable_begin, variable_end, block_begin, block_end, name, string, integer, floating, op, end_of_input
};

struct token {
  token_kind kind;
  std::size_t offset;  // byte offset in the normalized source
  std::string text;    // text: the data; string: the unescaped value; name/op/number: as written
};

// Newlines normalized to "\n" and (unless keep_trailing_newline) one final
// newline dropped, as jinja2 does before lexing; offsets refer to this text.
std::string normalize_source(std::string_view source, const environment_options& env);

// Locates byte offsets as 1-based line and column for errors.
class source_positions {
 public:
  explicit source_positions(std::string_view normalized);
  std::pair<std::int32_t, std::int32_t> at(std::size_t offset) const;

 private:
  std::vector<std::size_t> line_starts_;
};

// Throws template_error (positions through `where`) on a malformed tag.
std::vector<token> tokenize(std::string_view normalized, const environment_options& env, const std::string& name,
                            const source_positions& where);

}  // namespace huashan::harness::jinja
