// The pages' words in English and Simplified Chinese: the catalog read from
// web/strings-*.json ({"key": {"en": "...", "zh-CN": "..."}}) and the choice
// of language for a request.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huashan::arena::http {

enum class ui_language { en, zh_cn };

// "en" or "zh-CN", as in <html lang>.
std::string_view language_tag(ui_language language);
// A BCP 47 tag the pages speak: en*, zh (zh, zh-CN, zh-Hans, zh-SG; not
// zh-TW or zh-Hant, which read traditional characters); nullopt otherwise.
std::optional<ui_language> language_from_tag(std::string_view tag);
// The best language an Accept-Language header asks for (by q, then order);
// English when it names none the pages speak.
ui_language language_from_accept(std::string_view accept_language);

// Which language a page is shown in and whether to remember it: ?lang= wins
// (and is remembered in a cookie), then the cookie, then Accept-Language.
struct language_choice {
  ui_language language = ui_language::en;
  bool remember = false;  // ?lang= named a language: set the cookie
};
language_choice choose_language(const std::map<std::string, std::string>& query,
                                const std::map<std::string, std::string>& headers);
// The Set-Cookie value that remembers `language` for a year.
std::string language_cookie(ui_language language);

class ui_catalog {
 public:
  // From the strings files' (name, text) pairs. input_error naming the file
  // and key for text that is not JSON, a key without both languages, a value
  // that is not a non-empty string, or a key defined in two files.
  static ui_catalog parse(const std::vector<std::pair<std::string, std::string>>& files);

  // input_error naming the key when there is no such string.
  const std::string& text(ui_language language, std::string_view key) const;
  // text() with "{name}" replaced by each argument's value (not escaped).
  std::string format(ui_language language, std::string_view key,
                     const std::vector<std::pair<std::string, std::string>>& arguments) const;
  // format() for markup: the string is HTML-escaped first, then each
  // "{name}" is replaced by its argument as given (already markup).
  std::string format_html(ui_language language, std::string_view key,
                          const std::vector<std::pair<std::string, std::string>>& arguments) const;
  // Every string of one language as a JSON object, for the pages' scripts;
  // '<' is written as \u003c so the text cannot end its <script> element.
  std::string strings_json(ui_language language) const;
  // `page` with each {{key}} replaced by its HTML-escaped text. input_error
  // naming the key (and `page_name`) for an unknown one.
  std::string fill(std::string_view page, std::string_view page_name, ui_language language) const;
  std::vector<std::string> keys() const;

 private:
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> strings_;  // key -> (en, zh-CN)
};

}  // namespace huashan::arena::http
