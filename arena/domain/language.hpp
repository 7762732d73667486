// The language a battle is filed under, written once for the battle service:
// the arena's short codes over ranking's script detector, so language boards
// (GET /api/leaderboard?language=zh) appear as soon as battles carry one.
#pragma once

#include <string>
#include <string_view>

namespace huashan::arena {

// "zh", "en" or "other" for a battle's first prompt, by script share
// (ranking::detect_language): "zh" when Han characters are at least 20% of its
// letters, "en" when at least 80% of its letters are ASCII Latin, otherwise
// "other" (also for text without letters: digits, emoji, punctuation).
// Never fails: invalid UTF-8 bytes count as non-letters.
std::string prompt_language(std::string_view prompt);

}  // namespace huashan::arena
