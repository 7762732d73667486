// Golden tests against independent implementations:
//  - tests/data/golden/ranking/reference-bt.json: FastChat's BT MLE,
//    1000-round bootstrap intervals, rank_ub and online Elo on
//    battles-30x20k.csv (anchor mixtral-8x7b-instruct-v0.1 = 1114, which the
//    reference applied: its ratings are shifted by it and the anchor's interval
//    has width 0);
//  - reference-style.json: FastChat's style control (ratings, coefficients,
//    200-round intervals) on the same battles;
//  - tests/data/datasets/pairwise/{food,simple}{,-golden}.csv: evalica's
//    Bradley-Terry (scores normalised to sum 1) and Elo (K=4, file order).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "ranking/battle_reader.hpp"
#include "ranking/leaderboard.hpp"

using namespace huashan::ranking;
namespace json = boost::json;

namespace {

const std::string golden_dir = std::string(HUASHAN_TEST_DATA) + "/golden/ranking/";
const std::string pairwise_dir = std::string(HUASHAN_TEST_DATA) + "/datasets/pairwise/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const leaderboard_row& row_of(const leaderboard& lb, const std::string& name) {
  const auto it = std::find_if(lb.rows.begin(), lb.rows.end(), [&](const auto& r) { return r.name == name; });
  REQUIRE_MESSAGE(it != lb.rows.end(), "model " << name << " missing");
  return *it;
}

double num(const json::value& v) { return v.is_double() ? v.get_double() : static_cast<double>(v.as_int64()); }

leaderboard_options golden_options(std::uint32_t rounds) {
  leaderboard_options o;
  o.bootstrap_rounds = rounds;
  o.seed = 7;
  o.anchor_model = anchor{"mixtral-8x7b-instruct-v0.1", 1114.0};
  return o;
}

}  // namespace

TEST_CASE("golden: Bradley-Terry MLE, bootstrap widths, rank_ub and online Elo match FastChat's") {
  const auto battles = read_battles_csv(slurp(golden_dir + "battles-30x20k.csv"), "battles-30x20k.csv");
  const auto ref = json::parse(slurp(golden_dir + "reference-bt.json")).as_object().at("ratings").as_object();
  // The reference's 1000-round widths carry ~3% sampling noise per model; 4000
  // rounds here shrink ours to ~1.5%, so a per-model 10% check is meaningful.
  auto o = golden_options(4000);
  o.elo = true;
  const leaderboard lb = compute_leaderboard(battles, o);
  REQUIRE(lb.rows.size() == ref.size());
  CHECK(lb.warnings.empty());
  double max_rating = 0, max_elo = 0, max_width = 0;
  int rank_ub_equal = 0, rank_ub_far = 0;
  for (const auto& [name, value] : ref) {
    const auto& r = value.as_object();
    const auto& ours = row_of(lb, std::string(name));
    max_rating = std::max(max_rating, std::abs(ours.rating - num(r.at("rating"))));
    max_elo = std::max(max_elo, std::abs(*ours.elo - num(r.at("online_elo"))));
    const double width = num(r.at("ci_hi")) - num(r.at("ci_lo"));
    if (width > 0) max_width = std::max(max_width, std::abs((ours.ci_hi - ours.ci_lo) / width - 1));
    else CHECK(ours.ci_hi - ours.ci_lo == doctest::Approx(0).epsilon(1e-9));  // the anchor
    CHECK(static_cast<std::int64_t>(ours.votes) == r.at("battles").as_int64());
    // rank_ub counts strict inequalities between interval ends, which move with
    // the random stream: most must agree exactly and none by more than 3.
    const auto diff = std::abs(static_cast<std::int64_t>(ours.rank_ub) - r.at("rank_ub").as_int64());
    rank_ub_equal += diff == 0;
    rank_ub_far += diff > 3;
  }
  MESSAGE("max |Δrating| ", max_rating, ", max |Δelo| ", max_elo, ", max relative width difference ", max_width);
  CHECK(max_rating < 0.05);
  CHECK(max_elo < 0.01);
  CHECK(max_width < 0.10);
  MESSAGE("rank_ub equal to the reference's for ", rank_ub_equal, " of ", ref.size(), " models");
  CHECK(rank_ub_equal * 2 > static_cast<int>(ref.size()));
  CHECK(rank_ub_far == 0);
}

TEST_CASE("golden: sandwich intervals agree with the reference's bootstrap widths") {
  const auto battles = read_battles_csv(slurp(golden_dir + "battles-30x20k.csv"), "battles-30x20k.csv");
  const auto ref = json::parse(slurp(golden_dir + "reference-bt.json")).as_object().at("ratings").as_object();
  const leaderboard lb = compute_leaderboard(battles, golden_options(0));
  CHECK(lb.interval_method == "sandwich");
  double max_width = 0;
  for (const auto& [name, value] : ref) {
    const auto& r = value.as_object();
    const double width = num(r.at("ci_hi")) - num(r.at("ci_lo"));
    const auto& ours = row_of(lb, std::string(name));
    if (width > 0) max_width = std::max(max_width, std::abs((ours.ci_hi - ours.ci_lo) / width - 1));
  }
  MESSAGE("sandwich vs bootstrap: max relative width difference ", max_width);
  CHECK(max_width < 0.10);
}

TEST_CASE("golden: style control ratings, coefficients and intervals match FastChat's") {
  const auto battles = read_battles_csv(slurp(golden_dir + "battles-30x20k.csv"), "battles-30x20k.csv");
  const auto doc = json::parse(slurp(golden_dir + "reference-style.json")).as_object();
  const auto& ref = doc.at("ratings").as_object();
  auto o = golden_options(200);  // the reference's round count
  o.style_control = true;
  const leaderboard lb = compute_leaderboard(battles, o);
  REQUIRE(lb.style.has_value());
  double max_rating = 0;
  std::vector<double> ratios;
  for (const auto& [name, value] : ref) {
    const auto& r = value.as_object();
    const auto& ours = row_of(lb, std::string(name));
    max_rating = std::max(max_rating, std::abs(ours.rating - num(r.at("rating"))));
    const double width = num(r.at("ci_hi")) - num(r.at("ci_lo"));
    if (width > 0) ratios.push_back((ours.ci_hi - ours.ci_lo) / width);
  }
  const auto& coef = doc.at("style_coef").as_object().at("final").as_array();
  double max_coef = 0;
  for (std::size_t k = 0; k < 4; ++k) max_coef = std::max(max_coef, std::abs(lb.style->coef[k] - num(coef[k])));
  std::sort(ratios.begin(), ratios.end());
  const double median_ratio = ratios[ratios.size() / 2];
  MESSAGE("style: max |Δrating| ", max_rating, ", max |Δcoef| ", max_coef, ", median width ratio ", median_ratio,
          ", range ", ratios.front(), "..", ratios.back());
  CHECK(max_rating < 0.1);
  CHECK(max_coef < 1e-3);
  // With 200 rounds each side's 2.5%/97.5% quantiles carry ~7% sampling noise
  // per model, so the widths are compared by their median ratio (within 10%),
  // and every model within 35%.
  CHECK(std::abs(median_ratio - 1) < 0.10);
  CHECK(ratios.front() > 0.65);
  CHECK(ratios.back() < 1.35);
}

TEST_CASE("golden: evalica Bradley-Terry (normalised to sum 1) and Elo on food.csv and simple.csv") {
  for (const std::string name : {"food", "simple"}) {
    CAPTURE(name);
    const auto battles = read_battles_csv(slurp(pairwise_dir + name + ".csv"), name + ".csv");
    leaderboard_options o;
    o.bootstrap_rounds = 0;
    o.elo = true;
    const leaderboard lb = compute_leaderboard(battles, o);
    double total = 0;
    std::map<std::string, double> strength;
    for (const auto& r : lb.rows) total += strength[r.name] = std::pow(10.0, (r.rating - rating_base) / rating_scale);
    std::istringstream in(slurp(pairwise_dir + name + "-golden.csv"));
    std::string line;
    std::getline(in, line);  // algorithm,item,score
    int checked = 0;
    while (std::getline(in, line)) {
      const auto c1 = line.find(','), c2 = line.rfind(',');
      const std::string algorithm = line.substr(0, c1), item = line.substr(c1 + 1, c2 - c1 - 1);
      const double score = std::stod(line.substr(c2 + 1));
      CAPTURE(item);
      if (algorithm == "bradley_terry") {
        CHECK(strength.at(item) / total == doctest::Approx(score).epsilon(1e-4));  // evalica's rtol
        ++checked;
      } else if (algorithm == "elo") {
        CHECK(*row_of(lb, item).elo == doctest::Approx(score).epsilon(1e-9));
        ++checked;
      }
    }
    CHECK(checked == 10);
  }
}
