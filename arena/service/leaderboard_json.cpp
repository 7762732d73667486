#include "arena/service/leaderboard_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <utility>

#include "common/error.hpp"

namespace huashan::arena {
namespace json = boost::json;

namespace {

// A number, or null for NaN / infinity (JSON has neither).
json::value number(double x) { return std::isfinite(x) ? json::value(x) : json::value(nullptr); }

// Rows of `m`; whole counts as integers when `counts`.
json::array matrix(const Eigen::MatrixXd& m, bool counts = false) {
  json::array rows;
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    json::array row;
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      row.push_back(counts ? json::value(static_cast<std::int64_t>(std::llround(m(r, c)))) : number(m(r, c)));
    rows.push_back(std::move(row));
  }
  return rows;
}

json::object parse_object(const std::string& text, const char* what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw input_error(fmt::format("stored {} is not a JSON object", what));
  return std::move(v.as_object());
}

json::value text_or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

double as_double(const json::value& v) { return v.is_double() ? v.as_double() : v.is_int64() ? double(v.as_int64()) : 0.0; }

}  // namespace

std::string leaderboard_body_json(const ranking::leaderboard& board, const std::vector<store::ranked_model>& models) {
  std::map<std::string, const store::ranked_model*> by_name;
  for (const auto& m : models) by_name[m.name] = &m;
  json::array rows;
  for (const auto& r : board.rows) {
    const auto it = by_name.find(r.name);
    rows.push_back(json::object{{"rank", r.rank},
                                {"model", r.name},
                                {"display_name", it != by_name.end() ? it->second->display_name : r.name},
                                {"organization", it != by_name.end() ? it->second->organization : ""},
                                {"rating", number(r.rating)},
                                {"ci_lo", number(r.ci_lo)},
                                {"ci_hi", number(r.ci_hi)},
                                {"rank_ub", r.rank_ub},
                                {"votes", r.votes}});
  }
  json::array warnings;
  for (const auto& w : board.warnings) warnings.push_back(json::string(w));
  json::object body{{"rows", std::move(rows)},
                    {"battles", board.battles},
                    {"interval_method", board.interval_method},
                    {"bootstrap_rounds", board.bootstrap_rounds},
                    {"warnings", std::move(warnings)}};
  if (board.style) {
    static constexpr const char* names[] = {"length", "header", "list", "bold"};
    json::object coef;
    for (std::size_t k = 0; k < ranking::n_style_features; ++k) coef[names[k]] = number(board.style->coef[k]);
    body["style_coefficients"] = std::move(coef);
  }
  if (board.matrices) {
    json::array order;
    for (auto k : board.matrices->order) order.push_back(json::string(board.models[k]));
    body["matrices"] = json::object{{"models", std::move(order)},
                                    {"battles", matrix(board.matrices->battles, true)},
                                    {"win_fraction", matrix(board.matrices->win_fraction)},
                                    {"predicted", matrix(board.matrices->predicted)}};
  }
  return json::serialize(body);
}

std::string empty_leaderboard_body_json() {
  return json::serialize(json::object{
      {"rows", json::array{}},
      {"battles", 0},
      {"interval_method", "none"},
      {"bootstrap_rounds", 0},
      {"warnings", json::array{"no counted votes"}},
      {"matrices", json::object{{"models", json::array{}}, {"battles", json::array{}}, {"win_fraction", json::array{}},
                                {"predicted", json::array{}}}}});
}

std::string leaderboard_parameters_json(const ranking::leaderboard_options& o, const std::string& category,
                                        const std::string& language) {
  return json::serialize(json::object{
      {"method", o.style_control ? "bradley-terry+style-control" : "bradley-terry"},
      {"bootstrap_rounds", o.bootstrap_rounds},
      {"seed", o.seed},
      {"tie_model", std::string(ranking::tie_model_name(o.ties))},
      {"style_control", o.style_control},
      {"style_penalty", o.penalty == ranking::style_penalty::all ? "all" : "coefficients"},
      {"inverse_propensity", o.inverse_propensity},
      {"reweight", o.reweight},
      {"category", text_or_null(category)},
      {"language", text_or_null(language)},
      {"votes", "unflagged votes joined with their battles"}});
}

snapshot_parameters snapshot_parameters_from_json(const std::string& text) {
  const json::object o = parse_object(text, "leaderboard parameters");
  const auto fail = [](const std::string& what) {
    throw input_error(fmt::format("leaderboard parameters: {}", what));
  };
  static constexpr const char* known[] = {"method",   "bootstrap_rounds", "seed",     "tie_model",
                                          "style_control", "style_penalty", "inverse_propensity",
                                          "reweight", "category",         "language", "votes"};
  for (const auto& member : o)
    if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return member.key() == k; }) ==
        std::end(known))
      fail(fmt::format("unknown member '{}'", std::string(member.key())));
  const auto at = [&](const char* key) -> const json::value& {
    const auto* v = o.if_contains(key);
    if (v == nullptr) fail(fmt::format("member '{}' is missing", key));
    return *v;
  };
  const auto text_of = [&](const char* key) {
    const auto& v = at(key);
    if (!v.is_string()) fail(fmt::format("member '{}' is not a string", key));
    return std::string(v.as_string());
  };
  const auto flag = [&](const char* key) {
    const auto& v = at(key);
    if (!v.is_bool()) fail(fmt::format("member '{}' is not true or false", key));
    return v.as_bool();
  };
  const auto count = [&](const char* key) -> std::uint64_t {
    const auto& v = at(key);
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    fail(fmt::format("member '{}' is not a non-negative integer", key));
    return 0;
  };
  const auto filter = [&](const char* key) {
    const auto& v = at(key);
    if (v.is_null()) return std::string();
    if (!v.is_string() || v.as_string().empty()) fail(fmt::format("member '{}' is neither null nor a name", key));
    return std::string(v.as_string());
  };

  snapshot_parameters p;
  auto& opt = p.options;
  opt.matrices = true;
  opt.threads = 0;
  const auto rounds = count("bootstrap_rounds");
  if (rounds > std::numeric_limits<std::uint32_t>::max()) fail("member 'bootstrap_rounds' is too large");
  opt.bootstrap_rounds = static_cast<std::uint32_t>(rounds);
  opt.seed = count("seed");
  try {
    opt.ties = ranking::parse_tie_model(text_of("tie_model"));
  } catch (const input_error& e) {
    fail(fmt::format("member 'tie_model': {}", e.what()));
  }
  opt.style_control = flag("style_control");
  const auto method = text_of("method");
  if (method != (opt.style_control ? "bradley-terry+style-control" : "bradley-terry"))
    fail(fmt::format("member 'method' is '{}', which does not match style_control {}", method, opt.style_control));
  const auto penalty = text_of("style_penalty");
  if (penalty == "all") opt.penalty = ranking::style_penalty::all;
  else if (penalty == "coefficients") opt.penalty = ranking::style_penalty::coefficients;
  else fail(fmt::format("member 'style_penalty' is '{}'; expected all or coefficients", penalty));
  opt.inverse_propensity = flag("inverse_propensity");
  opt.reweight = flag("reweight");
  p.category = filter("category");
  p.language = filter("language");
  if (const auto votes = text_of("votes"); votes != "unflagged votes joined with their battles")
    fail(fmt::format("member 'votes' is '{}', a vote selection this version does not know", votes));
  return p;
}

// `head` (a serialized object) followed by the members of `tail` (another
// object's text, as PostgreSQL prints it: plain decimals, which Boost.JSON
// would turn into exponent notation).
std::string join_objects(std::string head, const std::string& tail, const char* what) {
  parse_object(tail, what);  // must be an object
  head.pop_back();           // the closing brace
  const auto open = tail.find('{');
  const auto rest = tail.find_first_not_of(" \t\r\n", open + 1);
  if (tail[rest] != '}') head += ",";
  head += tail.substr(open + 1);
  return head;
}

std::string snapshot_response_json(const store::snapshot_record& s) {
  const json::object meta{{"snapshot_id", s.id},
                          {"category", text_or_null(s.category)},
                          {"language", text_or_null(s.language)},
                          {"style_control", s.style_control},
                          {"computed_at", s.computed_at},
                          {"computed_by", s.computed_by},
                          {"vote_count", s.vote_count},
                          {"last_vote_event", s.last_vote_event}};
  parse_object(s.parameters_json, "leaderboard parameters");
  std::string head = json::serialize(meta);
  head.pop_back();
  head += ",\"parameters\":" + s.parameters_json + "}";
  return join_objects(std::move(head), s.board_json, "leaderboard body");
}

std::string snapshot_csv(const store::snapshot_record& s) {
  const json::object body = parse_object(s.board_json, "leaderboard body");
  std::string out = "rank,model,rating,ci_lo,ci_hi,rank_ub,votes\n";
  const auto* rows = body.if_contains("rows");
  if (rows == nullptr || !rows->is_array()) return out;
  for (const auto& v : rows->as_array()) {
    const auto& r = v.as_object();
    // Model names use only [A-Za-z0-9._:/-]: no quoting needed.
    out += fmt::format("{},{},{:.2f},{:.2f},{:.2f},{},{}\n", r.at("rank").to_number<std::int64_t>(),
                       std::string(r.at("model").as_string()), as_double(r.at("rating")), as_double(r.at("ci_lo")),
                       as_double(r.at("ci_hi")), r.at("rank_ub").to_number<std::int64_t>(),
                       r.at("votes").to_number<std::int64_t>());
  }
  return out;
}

std::string snapshot_matrices_json(const store::snapshot_record& s) {
  const json::object meta{{"snapshot_id", s.id},
                          {"category", text_or_null(s.category)},
                          {"language", text_or_null(s.language)},
                          {"style_control", s.style_control},
                          {"computed_at", s.computed_at}};
  return join_objects(json::serialize(meta), s.matrices_json, "leaderboard matrices");
}

board_view board_view_from_body(const std::string& body_json) {
  const json::object body = parse_object(body_json, "leaderboard body");
  board_view view;
  const auto number_or_nan = [](const json::value* v) {
    return v == nullptr || v->is_null() ? std::numeric_limits<double>::quiet_NaN() : as_double(*v);
  };
  const auto text = [](const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  try {
    if (const auto* rows = body.if_contains("rows"); rows != nullptr && rows->is_array())
      for (const auto& v : rows->as_array()) {
        const auto& r = v.as_object();
        view.rows.push_back({r.at("rank").to_number<std::int64_t>(), r.at("rank_ub").to_number<std::int64_t>(),
                             std::string(r.at("model").as_string()), text(r, "display_name"), text(r, "organization"),
                             number_or_nan(r.if_contains("rating")), number_or_nan(r.if_contains("ci_lo")),
                             number_or_nan(r.if_contains("ci_hi")), r.at("votes").to_number<std::int64_t>()});
      }
    if (const auto* b = body.if_contains("battles"); b != nullptr && !b->is_null()) view.battles = b->to_number<std::int64_t>();
    view.interval_method = text(body, "interval_method");
    if (const auto* w = body.if_contains("warnings"); w != nullptr && w->is_array())
      for (const auto& x : w->as_array())
        if (x.is_string()) view.warnings.emplace_back(x.as_string());
    const auto* m = body.if_contains("matrices");
    if (m != nullptr && m->is_object()) {
      const auto& mo = m->as_object();
      for (const auto& n : mo.at("models").as_array()) view.models.emplace_back(n.as_string());
      const auto read = [&](const char* key) {
        std::vector<std::vector<double>> out;
        for (const auto& row : mo.at(key).as_array()) {
          std::vector<double> values;
          for (const auto& x : row.as_array()) values.push_back(number_or_nan(&x));
          out.push_back(std::move(values));
        }
        return out;
      };
      view.battle_counts = read("battles");
      view.win_fraction = read("win_fraction");
      view.predicted = read("predicted");
    }
  } catch (const std::exception& e) {
    throw input_error(fmt::format("leaderboard body: {}", e.what()));
  }
  return view;
}

sampler_leaderboard sampler_leaderboard_from_body(const std::string& body_json) {
  sampler_leaderboard board;
  const json::object body = parse_object(body_json, "leaderboard body");
  if (const auto* rows = body.if_contains("rows"); rows != nullptr && rows->is_array()) {
    for (const auto& v : rows->as_array()) {
      const auto& r = v.as_object();
      board.models[std::string(r.at("model").as_string())] =
          strength_from_rating(as_double(r.at("rating")), as_double(r.at("ci_lo")), as_double(r.at("ci_hi")));
    }
  }
  const auto* m = body.if_contains("matrices");
  if (m == nullptr || !m->is_object()) return board;
  const auto& names = m->as_object().at("models").as_array();
  const auto& battles = m->as_object().at("battles").as_array();
  for (std::size_t a = 0; a < names.size() && a < battles.size(); ++a)
    for (std::size_t b = a + 1; b < names.size(); ++b) {
      const auto& row = battles[a].as_array();
      const double n = b < row.size() ? as_double(row[b]) : 0.0;
      if (n <= 0) continue;
      std::string x(names[a].as_string()), y(names[b].as_string());
      if (y < x) std::swap(x, y);
      board.pair_battles[{x, y}] = n;
    }
  return board;
}

}  // namespace huashan::arena
