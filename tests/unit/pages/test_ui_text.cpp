#include <doctest/doctest.h>

#include <set>

#include "arena/http/html.hpp"
#include "arena/http/routes_static.hpp"
#include "arena/http/ui_text.hpp"
#include "common/error.hpp"

using namespace huashan::arena::http;
using huashan::input_error;

TEST_CASE("Accept-Language picks the best language the pages speak") {
  CHECK(language_from_accept("zh-CN,zh;q=0.9,en;q=0.8") == ui_language::zh_cn);
  CHECK(language_from_accept("en-US,en;q=0.9,zh;q=0.8") == ui_language::en);
  CHECK(language_from_accept("fr-FR, zh;q=0.5, en;q=0.4") == ui_language::zh_cn);
  CHECK(language_from_accept("en;q=0.3, zh-Hans;q=0.7") == ui_language::zh_cn);
  // Traditional Chinese readers are not sent simplified characters by default.
  CHECK(language_from_accept("zh-TW") == ui_language::en);
  CHECK(language_from_accept("") == ui_language::en);
  CHECK(language_from_accept("zh;q=abc, en;q=0.1") == ui_language::en);
}

TEST_CASE("?lang= wins over the cookie, which wins over Accept-Language") {
  const std::map<std::string, std::string> zh_browser{{"accept-language", "zh-CN"}};
  CHECK(choose_language({}, zh_browser).language == ui_language::zh_cn);
  CHECK_FALSE(choose_language({}, zh_browser).remember);
  const auto asked = choose_language({{"lang", "en"}}, zh_browser);
  CHECK(asked.language == ui_language::en);
  CHECK(asked.remember);
  CHECK(choose_language({}, {{"accept-language", "zh-CN"}, {"cookie", "a=b; huashan_lang=en"}}).language == ui_language::en);
  // An unknown ?lang= is ignored rather than remembered.
  const auto unknown = choose_language({{"lang", "xx"}}, zh_browser);
  CHECK(unknown.language == ui_language::zh_cn);
  CHECK_FALSE(unknown.remember);
  CHECK(language_cookie(ui_language::zh_cn).find("huashan_lang=zh-CN") == 0);
}

TEST_CASE("the catalog refuses strings files that miss a language, repeat a key or are not JSON") {
  CHECK_THROWS_WITH_AS(ui_catalog::parse({{"web/strings-x.json", R"({"a.b": {"en": "A"}})"}}),
                       doctest::Contains("key 'a.b': needs a non-empty \"zh-CN\""), input_error);
  CHECK_THROWS_WITH_AS(ui_catalog::parse({{"web/strings-x.json", R"({"a": {"en": "A", "zh-CN": ""}})"}}),
                       doctest::Contains("zh-CN"), input_error);
  CHECK_THROWS_WITH_AS(ui_catalog::parse({{"one.json", R"({"k": {"en": "A", "zh-CN": "甲"}})"},
                                          {"two.json", R"({"k": {"en": "B", "zh-CN": "乙"}})"}}),
                       doctest::Contains("two.json: key 'k': defined twice"), input_error);
  CHECK_THROWS_WITH_AS(ui_catalog::parse({{"bad.json", "{"}}), doctest::Contains("bad.json: not JSON"), input_error);
}

TEST_CASE("fill escapes the strings it puts into a page and names an unknown key") {
  const auto c = ui_catalog::parse({{"s.json", R"({"greet": {"en": "<Hi> & \"you\"", "zh-CN": "你好"}})"}});
  CHECK(c.fill("<p>{{greet}}</p>", "page.html", ui_language::en) == "<p>&lt;Hi&gt; &amp; &quot;you&quot;</p>");
  CHECK(c.fill("<p>{{ greet }}</p>", "page.html", ui_language::zh_cn) == "<p>你好</p>");
  CHECK_THROWS_WITH_AS(c.fill("{{nope}}", "page.html", ui_language::en),
                       doctest::Contains("page.html: no UI string 'nope'"), input_error);
  // The scripts' copy cannot close its <script> element.
  const auto s = ui_catalog::parse({{"s.json", R"({"x": {"en": "</script><b>", "zh-CN": "乙"}})"}});
  CHECK(s.strings_json(ui_language::en).find("</script>") == std::string::npos);
}

TEST_CASE("the shipped pages' strings are complete: every key in both languages, translated, every placeholder known") {
  const auto assets = web_assets::compiled_in();
  const auto catalog = assets->catalog();
  REQUIRE(catalog->keys().size() > 50);
  for (const auto& key : catalog->keys()) {
    CAPTURE(key);
    // zh-CN text is a translation, not a copy (the brand keeps its Latin name beside 华山).
    CHECK(catalog->text(ui_language::en, key) != catalog->text(ui_language::zh_cn, key));
    // Placeholders are the same in both languages.
    const auto placeholders = [](const std::string& text) {
      std::set<std::string> out;
      for (auto open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1))
        if (const auto close = text.find('}', open); close != std::string::npos) out.insert(text.substr(open, close - open + 1));
      return out;
    };
    CHECK(placeholders(catalog->text(ui_language::en, key)) == placeholders(catalog->text(ui_language::zh_cn, key)));
  }
  const auto arena = assets->file("arena.html");
  REQUIRE(arena);
  CHECK_NOTHROW(catalog->fill(arena->body, "web/arena.html", ui_language::en));
  const auto zh = catalog->fill(arena->body, "web/arena.html", ui_language::zh_cn);
  CHECK(zh.find("{{") == std::string::npos);
  // No inline script or handler: the Content-Security-Policy would block it.
  CHECK(arena->body.find("<script") == std::string::npos);
  for (const auto* handler : {" onclick=", " onload=", " onerror=", " onsubmit=", " oninput=", " onchange=", " onkeydown="})
    CHECK(arena->body.find(handler) == std::string::npos);
  CHECK(arena->body.find("style=") == std::string::npos);
}

TEST_CASE("static files are looked up by plain names only") {
  const auto assets = web_assets::compiled_in();
  CHECK(assets->file("site.css"));
  CHECK(assets->file("site.css")->content_type == "text/css; charset=utf-8");
  CHECK_FALSE(assets->file("../CMakeLists.txt"));
  CHECK_FALSE(assets->file(".hidden"));
  CHECK_FALSE(assets->file("missing.js"));
}

TEST_CASE("html_escape, url_encode and query_string") {
  CHECK(html_escape(R"~(<img src=x onerror="alert('1')">&)~") ==
        "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;");
  CHECK(url_encode("a b/c?d=é") == "a%20b%2Fc%3Fd%3D%C3%A9");
  CHECK(query_string({{"b", "2"}, {"a", "x y"}, {"empty", ""}}) == "?a=x%20y&b=2");
  CHECK(query_string({}) == "");
}
