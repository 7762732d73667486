#include "ranking/battle_writer.hpp"

#include <fmt/format.h>

#include <string_view>

namespace huashan::ranking {

namespace {

void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Shortest text that reads back as the same double.
std::string exact(double v) { return fmt::format("{}", v); }

}  // namespace

std::string write_battles_csv(const battle_table& t) {
  std::string out = "model_a,model_b,winner";
  if (!t.tstamp.empty()) out += ",tstamp";
  if (t.has_language()) out += ",language";
  if (t.has_categories()) out += ",category";
  if (!t.voter.empty()) out += ",judge";
  if (t.has_sampling_probability()) out += ",sampling_probability";
  if (t.has_style()) out += ",len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b";
  out += '\n';
  for (std::size_t i = 0; i < t.size(); ++i) {
    append_field(out, t.models.name(t.model_a[i]));
    out += ',';
    append_field(out, t.models.name(t.model_b[i]));
    out += ',';
    out += outcome_name(t.winner[i]);
    if (!t.tstamp.empty()) out += ',' + exact(t.tstamp[i]);
    if (t.has_language()) {
      out += ',';
      append_field(out, t.languages.name(t.language[i]));
    }
    if (t.has_categories()) {
      std::string tags;
      for (std::uint32_t k = t.category_begin[i]; k < t.category_begin[i + 1]; ++k) {
        if (!tags.empty()) tags += '|';
        tags += t.categories.name(t.category_ids[k]);
      }
      out += ',';
      append_field(out, tags);
    }
    if (!t.voter.empty()) {
      out += ',';
      append_field(out, t.voters.name(t.voter[i]));
    }
    if (t.has_sampling_probability()) out += ',' + exact(t.sampling_probability[i]);
    if (t.has_style()) {
      const style_counts& s = t.style[i];
      for (std::size_t f = 0; f < n_style_features; ++f) out += fmt::format(",{},{}", s.a[f], s.b[f]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace huashan::ranking
