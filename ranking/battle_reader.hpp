// Readers for battle files in LMArena's column names, from text already in
// memory (the caller reads or maps the file). CSV follows RFC 4180 (quoted
// fields, doubled quotes, CRLF or LF); JSONL is one JSON object per line.
//
// Columns (CSV header names / JSONL keys); only the first three are required:
//   model_a, model_b, winner   winner in model_a|model_b|tie|tie (bothbad);
//                              evalica's left,right,winner with left|right|tie
//                              is accepted too
//   tstamp                     seconds, for chronological Elo
//   language                   e.g. English, Chinese
//   category | categories      tags separated by '|' (JSONL: string or array)
//   prompt                     first user turn; used to detect the language when
//                              there is no language column (JSONL also reads
//                              conversation_a[0].content)
//   judge | voter              voter id
//   sampling_probability       P(this ordered pair) under the sampler, in (0, 1];
//                              for inverse-propensity weighting (huashan rank --ipw)
//   len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b
//                              style counts (all eight, or none); JSONL also
//                              reads LMArena's conv_metadata object
#pragma once

#include <string_view>

#include "ranking/battle.hpp"

namespace huashan::ranking {

// Parses CSV text. Throws input_error naming `source`, the line and the field
// for: a missing required column, a row with the wrong number of fields, an
// unknown winner, model_a == model_b, a bad number, an unterminated quote, or
// a file with no battles.
battle_table read_battles_csv(std::string_view text, std::string_view source);
// Parses JSONL text (blank lines skipped). Throws input_error naming `source`,
// the line and the field for bad JSON, a missing or mistyped field, an unknown
// winner, model_a == model_b, or a file with no battles.
battle_table read_battles_jsonl(std::string_view text, std::string_view source);
// Chooses the reader by the source's extension (.jsonl/.json -> JSONL, else
// CSV); throws what the chosen reader throws.
battle_table read_battles(std::string_view text, std::string_view source);

}  // namespace huashan::ranking
