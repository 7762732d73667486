#include <doctest/doctest.h>

#include <cmath>

#include "arena/http/page_layout.hpp"
#include "arena/http/pages/eval_pages.hpp"
#include "arena/http/pages/leaderboard_page.hpp"
#include "arena/http/pages/model_page.hpp"
#include "arena/http/pages/svg_charts.hpp"
#include "arena/http/routes_static.hpp"

using namespace huashan::arena;
using namespace huashan::arena::http;

namespace {

const ui_catalog& catalog() {
  static const auto c = web_assets::compiled_in()->catalog();
  return *c;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The number in attribute `attribute` of the first element starting with `element_start`.
double attribute_value(const std::string& html, const std::string& element_start, const std::string& attribute) {
  const auto at = html.find(element_start);
  REQUIRE(at != std::string::npos);
  const std::string tag = html.substr(at, html.find('>', at) - at);
  const auto name = tag.find(" " + attribute + "=\"");
  REQUIRE(name != std::string::npos);
  const auto start = name + attribute.size() + 3;
  return std::stod(tag.substr(start, tag.find('"', start) - start));
}

leaderboard_page_data sample_board(ui_language language) {
  leaderboard_page_data d;
  d.language = language;
  store::snapshot_record s;
  s.id = 42;
  s.computed_at = "2026-12-06T10:00:00.000000Z";
  s.vote_count = 30;
  d.snapshot = s;
  d.variants = {{"", "", false}, {"coding", "", false}, {"", "zh", false}};
  d.board.interval_method = "bootstrap";
  d.board.rows = {{1, 1, "alpha", "Alpha <script>alert(1)</script>", "Org & Co", 1050.25, 1020.5, 1080.75, 20},
                  {2, 1, "beta", "Beta", "", 990.5, 960.0, 1010.0, 18},
                  {3, 2, "gamma", "Gamma", "", 950.0, 900.0, 990.0, 2}};
  d.board.models = {"beta", "alpha", "gamma"};  // the matrices' own order
  const double nan = NAN;
  d.board.predicted = {{nan, 0.4, 0.6}, {0.6, nan, 0.7}, {0.4, 0.3, nan}};
  d.board.win_fraction = {{nan, 0.25, 0.5}, {0.75, nan, 1.0}, {0.5, 0.0, nan}};
  d.board.battle_counts = {{0, 8, 2}, {8, 0, 4}, {2, 4, 0}};
  model_record alpha;
  alpha.name = "alpha";
  alpha.license = "Apache-2.0";
  d.models["alpha"] = alpha;
  d.history = {{40, "2026-12-06T09:00:00Z", "alpha", 1000, 990, 1010}, {42, "2026-12-06T10:00:00Z", "alpha", 1050.25, 1020.5, 1080.75}};
  return d;
}

}  // namespace

TEST_CASE("the leaderboard page lists the rows with their intervals and escapes what models call themselves") {
  const auto html = leaderboard_main(catalog(), sample_board(ui_language::en));
  CHECK(count(html, "<tr data-model=") == 3);
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find("Alpha &lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find(R"(<td class="rating num">1050.2</td>)") != std::string::npos);  // {:.1f} of 1050.25 rounds to even
  CHECK(html.find(R"(<td class="ci num">−29.8 / +30.5</td>)") != std::string::npos);
  CHECK(html.find(R"(<td class="license" translate="no">Apache-2.0</td>)") != std::string::npos);
  CHECK(html.find(R"(data-snapshot-id="42")") != std::string::npos);
  CHECK(html.find(R"(href="/api/leaderboard.csv?style=false")") != std::string::npos);
  // The selectors offer the stored variants, the current one selected.
  CHECK(html.find(R"(<option value="coding">Coding</option>)") != std::string::npos);
  CHECK(html.find(R"(<option value="zh">Chinese</option>)") != std::string::npos);
}

TEST_CASE("the plots' marks carry the board's numbers") {
  const auto html = leaderboard_main(catalog(), sample_board(ui_language::en));
  for (const auto* id : {"plot-ratings", "plot-winrate", "plot-winfraction", "plot-battles", "plot-history"})
    CHECK_MESSAGE(html.find(std::string("<figure id=\"") + id + "\"") != std::string::npos, id);
  CHECK(attribute_value(html, R"(<circle class="mark" data-model="beta")", "data-value") == doctest::Approx(990.5));
  CHECK(attribute_value(html, R"(<line class="ci" data-model="alpha")", "data-lo") == doctest::Approx(1020.5));
  // Average win rate: mean of predicted[i][j] over the other models (alpha is matrix row 1).
  CHECK(attribute_value(html, R"(<rect class="mark" data-model="alpha")", "data-value") == doctest::Approx(0.65));
  CHECK(attribute_value(html, R"(<rect class="cell" data-row="alpha" data-col="beta")", "data-value") == doctest::Approx(0.75));
  const auto battles = html.substr(html.find(R"(id="plot-battles")"));
  CHECK(attribute_value(battles, R"(<rect class="cell" data-row="beta" data-col="gamma")", "data-value") == doctest::Approx(2));
  CHECK(attribute_value(html, R"(<rect class="cell" data-row="beta" data-col="gamma")", "data-value") == doctest::Approx(0.5));
  // A model never meets itself: no diagonal cells.
  CHECK(html.find(R"(data-row="alpha" data-col="alpha")") == std::string::npos);
  CHECK(attribute_value(html, R"(<circle class="mark" data-model="alpha" data-snapshot="40")", "data-value") ==
        doctest::Approx(1000));
  // A higher rating is further right.
  CHECK(attribute_value(html, R"(<circle class="mark" data-model="alpha")", "cx") >
        attribute_value(html, R"(<circle class="mark" data-model="beta")", "cx"));
}

TEST_CASE("minimum votes hides rows and marks, and a variant without snapshot says so") {
  auto d = sample_board(ui_language::zh_cn);
  d.min_votes = 10;
  const auto html = leaderboard_main(catalog(), d);
  CHECK(count(html, "<tr data-model=") == 2);
  CHECK(html.find(R"(data-model="gamma")") == std::string::npos);
  CHECK(html.find("排行榜") != std::string::npos);
  d.snapshot.reset();
  const auto empty = leaderboard_main(catalog(), d);
  CHECK(empty.find(R"(id="no-snapshot")") != std::string::npos);
  CHECK(empty.find("leaderboard-table") == std::string::npos);
}

TEST_CASE("the frame marks the language and keeps the page's query in the language links") {
  page_frame f;
  f.language = ui_language::zh_cn;
  f.title = "排行榜";
  f.body_class = "page-leaderboard";
  f.current = "/leaderboard";
  f.path = "/leaderboard";
  f.query = {{"category", "coding"}, {"lang", "zh-CN"}};
  f.scripts = {"/static/pages.js"};
  const auto html = render_page(catalog(), f, "<p>x</p>");
  CHECK(html.find(R"(<html lang="zh-CN">)") != std::string::npos);
  CHECK(html.find(R"(<a href="/leaderboard" aria-current="page">排行榜</a>)") != std::string::npos);
  CHECK(html.find(R"(href="/leaderboard?category=coding&amp;lang=en")") != std::string::npos);
  CHECK(html.find(R"(<script src="/static/pages.js" defer></script>)") != std::string::npos);
  // The only inline <script> is the strings' data block, which never runs.
  CHECK(count(html, "<script") == 2);
  CHECK(html.find(R"(<script type="application/json" id="ui-strings">)") != std::string::npos);
}

TEST_CASE("an eval run page shows groups with their tasks, stderr, n and sample links") {
  const std::string results = R"({
    "results": {"mmlu": {"acc,none": 0.5, "acc_stderr,none": 0.05},
                "mmlu_law": {"acc,none": 0.25, "acc_stderr,none": 0.1},
                "arc": {"acc,none": 0.75, "acc_norm,none": 0.8}},
    "group_subtasks": {"mmlu": ["mmlu_law"]},
    "n-samples": {"mmlu_law": {"original": 4, "effective": 4}, "arc": {"original": 8, "effective": 8}}})";
  const auto html = eval_run_main(catalog(), ui_language::en, 7, results);
  const auto group = html.find(R"(data-task="mmlu")");
  const auto law = html.find(R"(data-task="mmlu_law")");
  REQUIRE(group != std::string::npos);
  REQUIRE(law != std::string::npos);
  CHECK(group < law);
  CHECK(html.find(R"(<th scope="row" class="depth-1" translate="no">mmlu_law</th>)") != std::string::npos);
  CHECK(html.find("0.2500") != std::string::npos);
  CHECK(html.find("0.1000") != std::string::npos);
  CHECK(html.find(R"(href="/api/evals/7/samples?task=arc")") != std::string::npos);
  CHECK(count(html, R"(data-task="arc")") == 2);  // acc and acc_norm
  CHECK_THROWS(eval_run_main(catalog(), ui_language::en, 7, "[1]"));
}

TEST_CASE("the model page shows the rating, the fingerprint's fields and what is missing") {
  model_page_data d;
  d.model.name = "org/model-7b";
  d.model.display_name = "Model <7B>";
  d.rating = board_row{3, 2, "org/model-7b", "Model <7B>", "", 1001.0, 990.0, 1012.0, 50};
  d.fingerprint = store::fingerprint_value{"abc123", "gguf", R"({"architecture": "llama", "n_ctx": "2048"})"};
  const auto html = model_main(catalog(), d);
  CHECK(html.find("Model &lt;7B&gt;") != std::string::npos);
  CHECK(html.find("1001.0") != std::string::npos);
  CHECK(html.find("<th scope=\"row\">architecture</th><td><code>llama</code></td>") != std::string::npos);
  CHECK(html.find("No eval results for this model yet.") != std::string::npos);
  d.rating.reset();
  d.fingerprint.reset();
  const auto bare = model_main(catalog(), d);
  CHECK(bare.find("No counted votes for this model yet.") != std::string::npos);
  CHECK(bare.find("No fingerprint recorded") != std::string::npos);
}
