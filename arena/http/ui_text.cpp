#include "arena/http/ui_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "arena/http/cookies.hpp"
#include "arena/http/html.hpp"
#include "common/error.hpp"

namespace huashan::arena::http {
namespace json = boost::json;

namespace {

constexpr const char* cookie_name = "huashan_lang";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view language_tag(ui_language language) { return language == ui_language::zh_cn ? "zh-CN" : "en"; }

std::optional<ui_language> language_from_tag(std::string_view tag) {
  const auto t = lower(trim(tag));
  if (t == "en" || t.rfind("en-", 0) == 0) return ui_language::en;
  if (t == "zh" || t == "zh-cn" || t == "zh-sg" || t == "zh-hans" || t.rfind("zh-hans-", 0) == 0) return ui_language::zh_cn;
  return std::nullopt;
}

ui_language language_from_accept(std::string_view accept_language) {
  std::optional<ui_language> best;
  double best_q = 0;
  std::string_view rest = accept_language;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semi = item.find(';');
    double q = 1.0;
    if (semi != std::string_view::npos) {
      const auto param = trim(item.substr(semi + 1));
      if (param.rfind("q=", 0) == 0) {
        try {
          q = std::stod(std::string(param.substr(2)));
        } catch (const std::exception&) {
          q = 0;  // a malformed weight counts as not wanted
        }
      }
    }
    const auto language = language_from_tag(item.substr(0, semi));
    if (language && q > best_q) {
      best = language;
      best_q = q;
    }
  }
  return best.value_or(ui_language::en);
}

language_choice choose_language(const std::map<std::string, std::string>& query,
                                const std::map<std::string, std::string>& headers) {
  if (const auto it = query.find("lang"); it != query.end())
    if (const auto language = language_from_tag(it->second)) return {*language, true};
  if (const auto language = language_from_tag(cookie_value(headers, cookie_name))) return {*language, false};
  const auto accept = headers.find("accept-language");
  return {accept == headers.end() ? ui_language::en : language_from_accept(accept->second), false};
}

std::string language_cookie(ui_language language) {
  return fmt::format("{}={}; Path=/; Max-Age=31536000; SameSite=Lax", cookie_name, language_tag(language));
}

ui_catalog ui_catalog::parse(const std::vector<std::pair<std::string, std::string>>& files) {
  ui_catalog catalog;
  for (const auto& [name, text] : files) {
    json::value root;
    try {
      root = json::parse(text);
    } catch (const std::exception& e) {
      throw input_error(fmt::format("{}: not JSON: {}", name, e.what()));
    }
    if (!root.is_object()) throw input_error(fmt::format("{}: expected a JSON object of strings", name));
    for (const auto& [key, value] : root.as_object()) {
      const auto where = fmt::format("{}: key '{}'", name, std::string_view(key));
      if (!value.is_object()) throw input_error(where + ": expected {\"en\": ..., \"zh-CN\": ...}");
      const auto& o = value.as_object();
      const auto read = [&](const char* tag) {
        const auto* v = o.if_contains(tag);
        if (v == nullptr || !v->is_string() || v->as_string().empty())
          throw input_error(fmt::format("{}: needs a non-empty \"{}\" string", where, tag));
        return std::string(v->as_string());
      };
      auto texts = std::pair{read("en"), read("zh-CN")};
      if (o.size() != 2) throw input_error(where + ": expected exactly the languages \"en\" and \"zh-CN\"");
      if (!catalog.strings_.emplace(std::string(key), std::move(texts)).second)
        throw input_error(where + ": defined twice");
    }
  }
  return catalog;
}

const std::string& ui_catalog::text(ui_language language, std::string_view key) const {
  const auto it = strings_.find(key);
  if (it == strings_.end()) throw input_error(fmt::format("no UI string '{}' in web/strings-*.json", key));
  return language == ui_language::zh_cn ? it->second.second : it->second.first;
}

namespace {

std::string substitute(std::string out, const std::vector<std::pair<std::string, std::string>>& arguments) {
  for (const auto& [name, value] : arguments) {
    const auto placeholder = "{" + name + "}";
    for (auto at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder, at + value.size()))
      out.replace(at, placeholder.size(), value);
  }
  return out;
}

}  // namespace

std::string ui_catalog::format(ui_language language, std::string_view key,
                               const std::vector<std::pair<std::string, std::string>>& arguments) const {
  return substitute(text(language, key), arguments);
}

std::string ui_catalog::format_html(ui_language language, std::string_view key,
                                    const std::vector<std::pair<std::string, std::string>>& arguments) const {
  return substitute(html_escape(text(language, key)), arguments);
}

std::string ui_catalog::strings_json(ui_language language) const {
  json::object o;
  for (const auto& [key, texts] : strings_) o[key] = language == ui_language::zh_cn ? texts.second : texts.first;
  std::string out;
  for (const char c : json::serialize(o)) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
  return out;
}

std::string ui_catalog::fill(std::string_view page, std::string_view page_name, ui_language language) const {
  std::string out;
  out.reserve(page.size());
  std::size_t at = 0;
  while (true) {
    const auto open = page.find("{{", at);
    if (open == std::string_view::npos) break;
    const auto close = page.find("}}", open + 2);
    if (close == std::string_view::npos) throw input_error(fmt::format("{}: '{{{{' without '}}}}'", page_name));
    out.append(page.substr(at, open - at));
    const auto key = trim(page.substr(open + 2, close - open - 2));
    if (strings_.find(key) == strings_.end())
      throw input_error(fmt::format("{}: no UI string '{}' in web/strings-*.json", page_name, key));
    out += html_escape(text(language, key));
    at = close + 2;
  }
  out.append(page.substr(at));
  return out;
}

std::vector<std::string> ui_catalog::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, texts] : strings_) out.push_back(key);
  return out;
}

}  // namespace huashan::arena::http
