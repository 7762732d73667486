// Synthetic LMArena battles for tests/perf/boards.sh (./dev bench boards):
// a CSV with LMArena's columns (model_a, model_b, winner, tstamp, language,
// category and the eight style counts), a deterministic function of its
// arguments. The random numbers come from our own generator and samplers, not
// <random>'s distributions, so a seed gives the same file with any standard
// library.
//
//   gen_arena_battles --models 300 --battles 5000000 --seed 1 --out FILE
//
// The world it draws from: strengths ~ N(0, 120) Elo; Zipf popularity (1/rank
// over a random permutation), both sides drawn from it independently
// (redrawn when equal); Davidson ties (15% between equals, 40% of them
// 'tie (bothbad)'); per-model answer length (lognormal) and markdown
// propensities (Poisson counts) with a planted style effect on the winner's
// logit; one of 10 categories and 3 languages per battle; increasing tstamp.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"

namespace huashan::bench {
namespace {

// xoshiro256** seeded through splitmix64: fast, and its stream is fixed by the seed.
class rng {
 public:
  explicit rng(std::uint64_t seed) {
    for (auto& s : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u = 1.0 - uniform();  // (0, 1]: log is finite
    const double v = uniform();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2.0 * std::numbers::pi * v);
    has_spare_ = true;
    return r * std::cos(2.0 * std::numbers::pi * v);
  }
  // Poisson by inversion of its CDF; the means here stay small (under ~30).
  int poisson(double mean) {
    const double u = uniform();
    double p = std::exp(-mean), cdf = p;
    int k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
  double spare_ = 0;
  bool has_spare_ = false;
};

// Draws an index with probability proportional to fixed weights.
class weighted_choice {
 public:
  explicit weighted_choice(const std::vector<double>& weights) : cumulative_(weights.size()) {
    double sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) cumulative_[i] = sum += weights[i];
    for (auto& c : cumulative_) c /= sum;
  }
  std::size_t draw(rng& r) const {
    const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), r.uniform());
    return std::min(static_cast<std::size_t>(at - cumulative_.begin()), cumulative_.size() - 1);
  }

 private:
  std::vector<double> cumulative_;
};

struct options {
  std::size_t models = 300;
  std::size_t battles = 1000000;
  std::uint64_t seed = 1;
  std::string out;
};

std::uint64_t parse_count(std::string_view flag, std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw input_error(fmt::format("{}: expected a whole number, got '{}'", flag, text));
  return value;
}

options parse_options(int argc, char** argv) {
  options o;
  for (int k = 1; k < argc; ++k) {
    const std::string_view flag = argv[k];
    if (k + 1 >= argc) throw input_error(fmt::format("{}: missing its value", flag));
    const std::string_view value = argv[++k];
    if (flag == "--models") o.models = parse_count(flag, value);
    else if (flag == "--battles") o.battles = parse_count(flag, value);
    else if (flag == "--seed") o.seed = parse_count(flag, value);
    else if (flag == "--out") o.out = value;
    else throw input_error(fmt::format("unknown option '{}' (expected --models, --battles, --seed, --out)", flag));
  }
  if (o.out.empty()) throw input_error("--out FILE is required");
  if (o.models < 2 || o.models > 1000) throw input_error(fmt::format("--models: expected 2..1000, got {}", o.models));
  return o;
}

constexpr std::array<std::string_view, 10> categories = {
    "coding", "math", "creative_writing", "hard_prompts", "instruction_following",
    "multi_turn", "longer_query", "expert", "roleplay", "other"};
// Uneven like a real arena's mix: general chat ("other") and code lead.
const std::vector<double> category_weights = {18, 8, 10, 14, 12, 6, 8, 6, 4, 14};
constexpr std::array<std::string_view, 3> languages = {"English", "Chinese", "Russian"};
const std::vector<double> language_weights = {70, 20, 10};
constexpr std::array<std::string_view, 4> winners = {"model_a", "model_b", "tie", "tie (bothbad)"};

constexpr double strength_sd_elo = 120;
constexpr double tie_rate_between_equals = 0.15;
constexpr double bothbad_share = 0.4;
constexpr double length_effect = 0.6;
constexpr double markdown_effect = 0.15;
constexpr double first_tstamp = 1714000000.0;           // 2024-04-25
constexpr double span_seconds = 365.0 * 24 * 3600;      // a year of battles

struct model_style {
  double log_length_mean;
  std::array<double, 3> markdown_mean;  // header, list, bold counts per answer
};

struct answer_style {
  int length;
  std::array<int, 3> markdown;
};

answer_style draw_answer(rng& r, const model_style& s) {
  answer_style a;
  a.length = static_cast<int>(std::lround(std::exp(s.log_length_mean + 0.6 * r.normal())));
  for (std::size_t k = 0; k < 3; ++k) a.markdown[k] = r.poisson(s.markdown_mean[k]);
  return a;
}

double ratio(double x, double y) { return (x - y) / (x + y + 1.0); }

void append(std::string& out, std::int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void write_battles(const options& o) {
  rng r(o.seed);
  std::vector<std::string> names(o.models);
  std::vector<double> strength(o.models);
  std::vector<model_style> style(o.models);
  for (std::size_t i = 0; i < o.models; ++i) {
    names[i] = fmt::format("model-{:03d}", i);
    strength[i] = strength_sd_elo * r.normal();
  }
  for (auto& s : style) {
    s.log_length_mean = 6.0 + 0.5 * r.normal();
    for (auto& m : s.markdown_mean) m = std::exp(0.8 + 0.7 * r.normal());
  }
  std::vector<std::size_t> rank(o.models);
  for (std::size_t i = 0; i < o.models; ++i) rank[i] = i + 1;
  for (std::size_t i = o.models - 1; i > 0; --i) std::swap(rank[i], rank[r.below(i + 1)]);
  std::vector<double> popularity(o.models);
  for (std::size_t i = 0; i < o.models; ++i) popularity[i] = 1.0 / static_cast<double>(rank[i]);
  const weighted_choice pick_model(popularity), pick_category(category_weights), pick_language(language_weights);

  // Davidson: P(a) = e^{z/2} / (e^{z/2} + e^{-z/2} + nu), ties nu / (...); nu / (2 + nu) between equals.
  const double nu = 2.0 * tie_rate_between_equals / (1.0 - tie_rate_between_equals);
  const double elo_to_logit = std::log(10.0) / 400.0;
  const double step = o.battles > 0 ? span_seconds / static_cast<double>(o.battles) : 0;

  std::FILE* f = std::fopen(o.out.c_str(), "wb");
  if (f == nullptr) throw input_error(fmt::format("--out {}: cannot open for writing", o.out));
  std::string buf;
  buf.reserve(1 << 22);
  buf += "model_a,model_b,winner,tstamp,language,category,len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n";
  for (std::size_t n = 0; n < o.battles; ++n) {
    const std::size_t a = pick_model.draw(r);
    std::size_t b = pick_model.draw(r);
    while (b == a) b = pick_model.draw(r);
    const answer_style sa = draw_answer(r, style[a]), sb = draw_answer(r, style[b]);
    double logit = (strength[a] - strength[b]) * elo_to_logit + length_effect * ratio(sa.length, sb.length);
    for (std::size_t k = 0; k < 3; ++k) logit += markdown_effect * ratio(sa.markdown[k], sb.markdown[k]);
    const double ea = std::exp(logit / 2), eb = std::exp(-logit / 2), den = ea + eb + nu;
    const double u = r.uniform();
    std::size_t winner = u < ea / den ? 0 : u < (ea + nu) / den ? 2 : 1;
    if (winner == 2 && r.uniform() < bothbad_share) winner = 3;
    const auto language = languages[pick_language.draw(r)];
    const auto category = categories[pick_category.draw(r)];
    // Milliseconds, strictly increasing: a jitter inside each battle's own slot.
    const auto tstamp_ms = static_cast<std::int64_t>(
        std::floor((first_tstamp + step * (static_cast<double>(n) + 0.9 * r.uniform())) * 1000.0));

    buf += names[a];
    buf += ',';
    buf += names[b];
    buf += ',';
    buf += winners[winner];
    buf += ',';
    append(buf, tstamp_ms / 1000);
    buf += '.';
    const auto millis = tstamp_ms % 1000;
    buf += static_cast<char>('0' + millis / 100);
    buf += static_cast<char>('0' + millis / 10 % 10);
    buf += static_cast<char>('0' + millis % 10);
    buf += ',';
    buf += language;
    buf += ',';
    buf += category;
    for (const auto& [x, y] : {std::pair{sa.length, sb.length}, std::pair{sa.markdown[0], sb.markdown[0]},
                               std::pair{sa.markdown[1], sb.markdown[1]}, std::pair{sa.markdown[2], sb.markdown[2]}}) {
      buf += ',';
      append(buf, x);
      buf += ',';
      append(buf, y);
    }
    buf += '\n';
    if (buf.size() > (1 << 22) - 512) {
      if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) break;
      buf.clear();
    }
  }
  const bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size() && !std::ferror(f);
  if (std::fclose(f) != 0 || !ok) throw input_error(fmt::format("--out {}: write failed", o.out));
}

}  // namespace
}  // namespace huashan::bench

int main(int argc, char** argv) {
  try {
    huashan::bench::write_battles(huashan::bench::parse_options(argc, argv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gen_arena_battles: %s\n", e.what());
    return 2;
  }
}
