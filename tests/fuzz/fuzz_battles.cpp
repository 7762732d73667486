// Fuzzes the battle readers: any bytes, read as CSV and as JSONL, must either
// give a table or raise input_error. A table must be consistent (every column
// as long as the battles, indices inside their dictionaries), and its pair
// counts and Bradley-Terry fit must come out without a crash or a
// non-finite rating.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.hpp"
#include "ranking/battle_reader.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"

namespace {

using namespace huashan::ranking;

void check(const battle_table& t) {
  const std::size_t n = t.size();
  const bool consistent =
      t.model_a.size() == n && t.model_b.size() == n && t.line.size() == n &&
      (t.tstamp.empty() || t.tstamp.size() == n) && (t.language.empty() || t.language.size() == n) &&
      (t.voter.empty() || t.voter.size() == n) && (t.style.empty() || t.style.size() == n) &&
      (t.sampling_probability.empty() || t.sampling_probability.size() == n) &&
      (t.category_begin.empty() || (t.category_begin.size() == n + 1 && t.category_begin.back() == t.category_ids.size()));
  if (!consistent) std::abort();
  for (std::size_t i = 0; i < n; ++i) {
    if (t.model_a[i] >= t.n_models() || t.model_b[i] >= t.n_models() || t.model_a[i] == t.model_b[i]) std::abort();
    if (!t.language.empty() && t.language[i] >= t.languages.size()) std::abort();
  }
  for (const auto c : t.category_ids)
    if (c >= t.categories.size()) std::abort();
  if (n > 2000) return;  // the fit's cost, not its correctness, grows beyond this
  const pair_counts pc = count_pairs(t);
  const bt_fit fit = fit_bradley_terry(pc);
  for (Eigen::Index k = 0; k < fit.r.size(); ++k)
    if (!std::isfinite(fit.r[k])) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool jsonl : {false, true}) {
    try {
      check(jsonl ? read_battles_jsonl(text, "fuzz.jsonl") : read_battles_csv(text, "fuzz.csv"));
    } catch (const huashan::input_error&) {
    }
  }
  return 0;
}
