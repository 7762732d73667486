// A battle's outcome in LMArena's vocabulary (model_a | model_b | tie | tie (bothbad)).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace huashan::ranking {

enum class outcome : std::uint8_t { model_a, model_b, tie, tie_bothbad };

// Parses LMArena's `winner` column; nullopt for anything else.
std::optional<outcome> parse_outcome(std::string_view winner);
// The LMArena spelling of an outcome ("tie (bothbad)" for tie_bothbad).
std::string_view outcome_name(outcome o);
// Score of side A: 1 for a win, 0 for a loss, 0.5 for either kind of tie.
double score_a(outcome o);

}  // namespace huashan::ranking
