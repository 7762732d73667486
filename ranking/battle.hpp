// Battles: the input of every rating method. A battle is one vote between two
// models (LMArena's model_a / model_b / winner) with optional context columns.
// The table is columnar and compact (model indices, one byte per outcome) so
// that 5M battles fit in ~100 MB and every method scans it sequentially.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace huashan::ranking {

enum class outcome : std::uint8_t { model_a, model_b, tie, tie_bothbad };

// Parses LMArena's `winner` column; nullopt for anything else.
std::optional<outcome> parse_outcome(std::string_view winner);
// The LMArena spelling of an outcome ("tie (bothbad)" for tie_bothbad).
std::string_view outcome_name(outcome o);
// Score of side A: 1 for a win, 0 for a loss, 0.5 for either kind of tie.
double score_a(outcome o);
// The same outcome seen from the other side (model_a <-> model_b; ties unchanged).
outcome swapped(outcome o);

// Style features of one battle, LMArena's conv_metadata flattened: for each
// side, answer tokens and markdown header / list / bold counts.
inline constexpr std::size_t n_style_features = 4;  // length, header, list, bold
struct style_counts {
  std::array<std::uint32_t, n_style_features> a{};
  std::array<std::uint32_t, n_style_features> b{};
};

// A string dictionary: name <-> dense uint32 index, in first-seen order.
class name_table {
 public:
  // Index of `name`, adding it when new.
  std::uint32_t intern(std::string_view name);
  // Index of `name`, or nullopt when absent.
  std::optional<std::uint32_t> find(std::string_view name) const;
  const std::string& name(std::uint32_t index) const { return names_[index]; }
  const std::vector<std::string>& names() const { return names_; }
  std::size_t size() const { return names_.size(); }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t, hash, std::equal_to<>> index_;
};

// Languages the detector distinguishes when a battle carries no language column.
enum class script_language : std::uint8_t { chinese, english, other };
// Classifies UTF-8 text by script: Chinese when Han characters are at least 20%
// of its letters, English when at least 80% of its letters are ASCII Latin,
// otherwise other. Text without letters is other. Never fails (bad UTF-8 bytes
// count as non-letters).
script_language detect_language(std::string_view utf8_text);
// "Chinese", "English" or "other" (LMArena's language column spelling).
std::string_view language_name(script_language lang);

// Columnar battle table. Optional columns are empty when the input lacked them;
// when present they have one entry per battle.
struct battle_table {
  name_table models;
  std::vector<std::uint32_t> model_a;  // index into models
  std::vector<std::uint32_t> model_b;
  std::vector<outcome> winner;
  std::vector<std::uint32_t> line;  // 1-based source line of each battle (for messages)

  std::vector<double> tstamp;                // seconds (LMArena's tstamp)
  name_table languages;                      // language dictionary
  std::vector<std::uint16_t> language;       // index into languages
  name_table categories;                     // category tag dictionary
  std::vector<std::uint32_t> category_begin;  // battle i's tags: category_ids[begin[i] .. begin[i+1])
  std::vector<std::uint16_t> category_ids;
  name_table voters;
  std::vector<std::uint32_t> voter;          // index into voters (LMArena's `judge`)
  std::vector<style_counts> style;
  // P(this ordered pair was drawn) under the arena's sampler, in (0, 1]: the
  // propensity that inverse-propensity weighting divides by.
  std::vector<double> sampling_probability;

  std::size_t size() const { return winner.size(); }
  std::size_t n_models() const { return models.size(); }
  bool has_style() const { return !style.empty(); }
  bool has_language() const { return !language.empty(); }
  bool has_categories() const { return !category_begin.empty(); }
  bool has_sampling_probability() const { return !sampling_probability.empty(); }

  // Appends one battle (a, b as names). Throws input_error when a == b.
  void add(std::string_view a, std::string_view b, outcome w, std::uint32_t source_line);
  // Number of battles each model took part in, indexed by model.
  std::vector<std::uint64_t> votes_per_model() const;
  // The battles `keep` selects (keep[i] true), with every column; the model
  // dictionary keeps only models that still play, in first-seen order.
  battle_table subset(const std::vector<bool>& keep) const;
  // Battles in chronological order (stable by tstamp; file order without a
  // tstamp column), same model dictionary.
  battle_table chronological() const;
};

}  // namespace huashan::ranking
