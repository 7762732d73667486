#include "arena/service/vote_cache.hpp"

#include <algorithm>
#include <vector>

namespace huashan::arena {
namespace {

// Index of `name` in the sorted `names`, or nullopt.
template <class Names, class Key>
std::optional<std::size_t> find_sorted(const Names& names, const std::string& name, Key key) {
  const auto it = std::lower_bound(names.begin(), names.end(), name,
                                   [&](const auto& entry, const std::string& n) { return key(entry) < n; });
  if (it == names.end() || key(*it) != name) return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

// Each column of `v`, for what every column undergoes alike.
template <class F>
void for_each_column(store::vote_columns& v, F&& f) {
  f(v.event);
  f(v.model_a);
  f(v.model_b);
  f(v.winner);
  f(v.category);
  f(v.language);
  f(v.style_a);
  f(v.style_b);
  f(v.sampling_probability);
}

}  // namespace

void vote_cache::reset(store::vote_columns votes) {
  votes_ = std::move(votes);
  loaded_ = true;
}

void vote_cache::clear() {
  votes_ = {};
  loaded_ = false;
}

std::optional<touched_variants> vote_cache::apply(const store::vote_changes& changes) {
  auto touched = loaded_ ? apply_or_fail(changes) : std::nullopt;
  if (!touched) clear();
  return touched;
}

std::optional<touched_variants> vote_cache::apply_or_fail(const store::vote_changes& changes) {
  auto& v = votes_;
  if (changes.after != v.last_vote_event || changes.removed_without_event != 0) return std::nullopt;
  // The boards name models as they read now: a rename means every board.
  for (const auto& model : v.models) {
    const auto now = find_sorted(changes.models, model.name, [](const auto& m) -> const std::string& { return m.name; });
    if (!now || changes.models[*now].display_name != model.display_name ||
        changes.models[*now].organization != model.organization)
      return std::nullopt;
  }
  const auto& added = changes.added;
  const auto same = [](const std::string& s) -> const std::string& { return s; };
  const auto model_name = [](const store::ranked_model& m) -> const std::string& { return m.name; };
  // Each added vote's model and tag indices in this cache's numbering.
  std::vector<std::uint32_t> model_of(added.models.size());
  for (std::size_t k = 0; k < added.models.size(); ++k) {
    const auto at = find_sorted(v.models, added.models[k].name, model_name);
    if (!at) return std::nullopt;
    model_of[k] = static_cast<std::uint32_t>(*at);
  }
  const auto tag_map = [&](const std::vector<std::string>& from,
                           const std::vector<std::string>& to) -> std::optional<std::vector<std::uint16_t>> {
    std::vector<std::uint16_t> out(from.size() + 1, 0);
    for (std::size_t k = 0; k < from.size(); ++k) {
      const auto at = find_sorted(to, from[k], same);
      if (!at) return std::nullopt;
      out[k + 1] = static_cast<std::uint16_t>(*at + 1);
    }
    return out;
  };
  const auto category_of = tag_map(added.categories, v.categories);
  const auto language_of = tag_map(added.languages, v.languages);
  if (!category_of || !language_of) return std::nullopt;

  touched_variants touched;
  const auto touch = [&](std::uint16_t category, std::uint16_t language) {
    touched.any = true;
    if (category != 0) touched.categories.insert(v.categories[category - 1u]);
    if (language != 0) touched.languages.insert(v.languages[language - 1u]);
  };

  if (!changes.removed.empty()) {
    std::vector<bool> gone(v.size());
    for (const auto event : changes.removed) {
      const auto it = std::lower_bound(v.event.begin(), v.event.end(), event);
      if (it == v.event.end() || *it != event) return std::nullopt;
      const auto row = static_cast<std::size_t>(it - v.event.begin());
      gone[row] = true;
      touch(v.category[row], v.language[row]);
    }
    for_each_column(v, [&](auto& column) {
      std::size_t kept = 0;
      for (std::size_t row = 0; row < column.size(); ++row)
        if (!gone[row]) column[kept++] = column[row];
      column.resize(kept);
    });
    // A model or tag left without votes leaves the full read's lists; renumbering
    // every column is a full read's work anyway.
    std::vector<bool> model_seen(v.models.size()), category_seen(v.categories.size() + 1),
        language_seen(v.languages.size() + 1);
    for (std::size_t row = 0; row < v.size(); ++row) {
      model_seen[v.model_a[row]] = model_seen[v.model_b[row]] = true;
      category_seen[v.category[row]] = language_seen[v.language[row]] = true;
    }
    const auto all_seen = [](const std::vector<bool>& seen, std::size_t from) {
      return std::all_of(seen.begin() + static_cast<std::ptrdiff_t>(from), seen.end(), [](bool b) { return b; });
    };
    if (!all_seen(model_seen, 0) || !all_seen(category_seen, 1) || !all_seen(language_seen, 1)) return std::nullopt;
  }

  if (added.size() != 0) {
    // New votes have events past every kept one; votes without an event stay last.
    const auto at = static_cast<std::size_t>(
        std::lower_bound(v.event.begin(), v.event.end(), store::vote_columns::no_event) - v.event.begin());
    const auto insert = [&](auto& column, const auto& values) {
      column.insert(column.begin() + static_cast<std::ptrdiff_t>(at), values.begin(), values.end());
    };
    std::vector<std::uint32_t> model_a(added.size()), model_b(added.size());
    std::vector<std::uint16_t> category(added.size()), language(added.size());
    for (std::size_t k = 0; k < added.size(); ++k) {
      model_a[k] = model_of[added.model_a[k]];
      model_b[k] = model_of[added.model_b[k]];
      category[k] = (*category_of)[added.category[k]];
      language[k] = (*language_of)[added.language[k]];
      touch(category[k], language[k]);
    }
    insert(v.event, added.event);
    insert(v.model_a, model_a);
    insert(v.model_b, model_b);
    insert(v.winner, added.winner);
    insert(v.category, category);
    insert(v.language, language);
    insert(v.style_a, added.style_a);
    insert(v.style_b, added.style_b);
    insert(v.sampling_probability, added.sampling_probability);
  }
  v.last_vote_event = changes.last_vote_event;
  return touched;
}

}  // namespace huashan::arena
