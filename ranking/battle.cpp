#include "ranking/battle.hpp"

namespace huashan::ranking {

std::optional<outcome> parse_outcome(std::string_view winner) {
  if (winner == "model_a") return outcome::model_a;
  if (winner == "model_b") return outcome::model_b;
  if (winner == "tie") return outcome::tie;
  if (winner == "tie (bothbad)") return outcome::tie_bothbad;
  return std::nullopt;
}

std::string_view outcome_name(outcome o) {
  switch (o) {
    case outcome::model_a: return "model_a";
    case outcome::model_b: return "model_b";
    case outcome::tie: return "tie";
    case outcome::tie_bothbad: return "tie (bothbad)";
  }
  return "?";
}

double score_a(outcome o) {
  switch (o) {
    case outcome::model_a: return 1.0;
    case outcome::model_b: return 0.0;
    case outcome::tie:
    case outcome::tie_bothbad: return 0.5;
  }
  return 0.5;
}

}  // namespace huashan::ranking
