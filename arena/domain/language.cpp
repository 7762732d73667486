#include "arena/domain/language.hpp"

#include "ranking/battle.hpp"

namespace huashan::arena {

std::string prompt_language(std::string_view prompt) {
  switch (ranking::detect_language(prompt)) {
    case ranking::script_language::chinese: return "zh";
    case ranking::script_language::english: return "en";
    case ranking::script_language::other: return "other";
  }
  return "other";
}

}  // namespace huashan::arena
