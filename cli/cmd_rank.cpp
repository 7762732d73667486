// `huashan rank FILE`: an offline leaderboard from a battles file (CSV or
// JSONL in LMArena's column names). Reads the file, filters by category or
// language, calls ranking::compute_leaderboard and prints a table, JSON or CSV.
#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "ranking/battle_reader.hpp"
#include "ranking/leaderboard.hpp"
#include "ranking/session_consensus.hpp"

namespace huashan::cli {

namespace {

// The battles file's bytes: a regular file is mapped read-only and populated
// in one call (no copy and no freshly zeroed pages, which for a file of
// hundreds of megabytes cost more than parsing it); anything else (a pipe) is
// read into memory.
class file_bytes {
 public:
  explicit file_bytes(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error(fmt::format("{}: cannot open the battles file", path));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (map != MAP_FAILED) {
        map_ = map;
        size_ = static_cast<std::size_t>(st.st_size);
        ::close(fd);
        return;
      }
    }
    char buffer[1 << 16];
    for (;;) {
      const auto got = ::read(fd, buffer, sizeof buffer);
      if (got == 0) break;
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        ::close(fd);
        throw io_error(fmt::format("{}: read error", path));
      }
      read_.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
  }
  ~file_bytes() {
    if (map_ != nullptr) ::munmap(map_, size_);
  }
  file_bytes(const file_bytes&) = delete;
  file_bytes& operator=(const file_bytes&) = delete;

  std::string_view text() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(read_);
  }

 private:
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string read_;
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.6f}", v) : "null"; }

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// --session-consensus: the battles without those of judges the iterated
// consensus test flags (floor 0), logging each flagged judge.
ranking::battle_table without_improbable_judges(const ranking::battle_table& t, const rank_options& o) {
  if (t.voter.empty()) throw input_error("--session-consensus: the battles file has no judge (or voter) column");
  ranking::consensus_options co;
  co.threshold = o.consensus_threshold;
  co.min_votes = o.consensus_min_votes;
  co.floor = 0;
  if (!(co.threshold > 0)) throw input_error(fmt::format("--consensus-threshold {} is not positive", co.threshold));
  const auto c = ranking::iterated_session_consensus(t, co);
  std::vector<bool> keep(t.size());
  std::size_t left_out = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    keep[k] = c.battle_weight[k] > 0;
    left_out += keep[k] ? 0 : 1;
  }
  log::info("rank: session consensus tested {} judges with at least {} decisive votes, flagged {} ({} battles left "
            "out, {} passes{})",
            c.sessions.size(), co.min_votes, c.flagged.size(), left_out, c.passes, c.settled ? "" : ", not settled");
  for (const auto& s : c.sessions)
    if (s.flagged)
      log::info("rank: judge '{}' flagged: z {:.2f} (cutoff {:.2f}) over {} decisive votes", t.voters.name(s.voter),
                s.z, s.cutoff, s.votes);
  if (left_out == 0) return t;
  auto out = t.subset(keep);
  if (out.size() == 0) throw input_error("--session-consensus left no battles");
  return out;
}

// Keeps battles tagged with `category` (or in `language`).
ranking::battle_table filter(const ranking::battle_table& t, const rank_options& o) {
  std::vector<bool> keep(t.size(), true);
  if (o.category) {
    if (!t.has_categories()) throw input_error("--category: the battles file has no category column");
    const auto id = t.categories.find(*o.category);
    if (!id) throw input_error(fmt::format("--category: no battle is tagged '{}'", *o.category));
    for (std::size_t i = 0; i < t.size(); ++i) {
      bool tagged = false;
      for (auto k = t.category_begin[i]; k < t.category_begin[i + 1]; ++k) tagged |= t.category_ids[k] == *id;
      keep[i] = keep[i] && tagged;
    }
  }
  if (o.language) {
    if (!t.has_language()) throw input_error("--language: the battles file has no language or prompt column");
    const auto id = t.languages.find(*o.language);
    if (!id) throw input_error(fmt::format("--language: no battle is in '{}'", *o.language));
    for (std::size_t i = 0; i < t.size(); ++i) keep[i] = keep[i] && t.language[i] == *id;
  }
  auto out = t.subset(keep);
  if (out.size() == 0) throw input_error("the category/language filter left no battles");
  return out;
}

void print_table(const ranking::leaderboard& lb, const rank_options& o) {
  std::size_t width = 5;
  for (const auto& r : lb.rows) width = std::max(width, r.name.size());
  std::string head = fmt::format("{:>4} {:>7}  {:<{}} {:>8} {:>7} {:>7} {:>8}", "rank", "rank_ub", "model", width,
                                 "rating", "-ci", "+ci", "votes");
  if (o.elo) head += fmt::format(" {:>8}", "elo");
  if (o.robustness) head += fmt::format(" {:>10}", "to_swap");
  fmt::print("{}\n", head);
  for (const auto& r : lb.rows) {
    std::string line = fmt::format("{:>4} {:>7}  {:<{}} {:>8.1f} {:>7.1f} {:>7.1f} {:>8}", r.rank, r.rank_ub, r.name,
                                   width, r.rating, r.rating - r.ci_lo, r.ci_hi - r.rating, r.votes);
    if (o.elo) line += fmt::format(" {:>8.1f}", r.elo.value_or(std::nan("")));
    if (o.robustness)
      line += r.votes_to_swap_with_next ? fmt::format(" {:>10}", *r.votes_to_swap_with_next) : fmt::format(" {:>10}", "-");
    fmt::print("{}\n", line);
  }
  fmt::print("\n{} battles, {} models shown; {} intervals{}\n", lb.battles, lb.rows.size(), lb.interval_method,
             lb.interval_method == "bootstrap" ? fmt::format(" ({} rounds, seed {})", lb.bootstrap_rounds, o.seed) : "");
  if (lb.style) {
    static constexpr const char* names[] = {"length", "header", "list", "bold"};
    fmt::print("style coefficients:");
    for (std::size_t k = 0; k < 4; ++k) fmt::print(" {}={:.4f}", names[k], lb.style->coef[k]);
    fmt::print("\n");
  }
  if (lb.tie) fmt::print("tie model {}: parameter {:.4f}\n", ranking::tie_model_name(lb.tie->model), lb.tie->tie_param);
  if (lb.matrices) {
    const auto& mx = *lb.matrices;
    for (auto [title, mat] : {std::pair{"battles", &mx.battles}, std::pair{"win fraction (row vs column)", &mx.win_fraction},
                              std::pair{"predicted P(row beats column)", &mx.predicted}}) {
      fmt::print("\n{}:\n", title);
      for (Eigen::Index a = 0; a < mat->rows(); ++a) {
        fmt::print("{:<{}}", lb.models[mx.order[static_cast<std::size_t>(a)]], width);
        for (Eigen::Index b = 0; b < mat->cols(); ++b) fmt::print(" {:>6.3g}", (*mat)(a, b));
        fmt::print("\n");
      }
    }
  }
}

void print_json(const ranking::leaderboard& lb, const rank_options& o) {
  std::string s = "{\n";
  s += fmt::format("  \"battles\": {},\n  \"interval_method\": \"{}\",\n  \"bootstrap_rounds\": {},\n  \"seed\": {},\n",
                   lb.battles, lb.interval_method, lb.bootstrap_rounds, o.seed);
  s += fmt::format("  \"components\": {},\n  \"warnings\": [", lb.n_components);
  for (std::size_t k = 0; k < lb.warnings.size(); ++k) s += (k ? ", " : "") + json_string(lb.warnings[k]);
  s += "],\n";
  if (lb.style) {
    s += "  \"style_coef\": {";
    static constexpr const char* names[] = {"length", "header", "list", "bold"};
    for (std::size_t k = 0; k < 4; ++k)
      s += fmt::format("{}\"{}\": {{\"value\": {}, \"boot_median\": {}, \"ci_lo\": {}, \"ci_hi\": {}}}", k ? ", " : "",
                       names[k], json_number(lb.style->coef[k]), json_number(lb.style->coef_median[k]),
                       json_number(lb.style->coef_lo[k]), json_number(lb.style->coef_hi[k]));
    s += "},\n";
  }
  if (lb.tie)
    s += fmt::format("  \"tie_model\": {{\"name\": \"{}\", \"parameter\": {}}},\n", ranking::tie_model_name(lb.tie->model),
                     json_number(lb.tie->tie_param));
  s += "  \"ratings\": [\n";
  for (std::size_t k = 0; k < lb.rows.size(); ++k) {
    const auto& r = lb.rows[k];
    s += fmt::format(
        "    {{\"model\": {}, \"rank\": {}, \"rank_ub\": {}, \"rating\": {}, \"ci_lo\": {}, \"ci_hi\": {}, "
        "\"boot_median\": {}, \"sandwich_lo\": {}, \"sandwich_hi\": {}, \"votes\": {}, \"component\": {}",
        json_string(r.name), r.rank, r.rank_ub, json_number(r.rating), json_number(r.ci_lo), json_number(r.ci_hi),
        json_number(r.boot_median), json_number(r.sandwich_lo), json_number(r.sandwich_hi), r.votes, r.component);
    if (r.elo) s += fmt::format(", \"online_elo\": {}", json_number(*r.elo));
    if (o.robustness)
      s += fmt::format(", \"votes_to_swap_with_next\": {}",
                       r.votes_to_swap_with_next ? fmt::format("{}", *r.votes_to_swap_with_next) : "null");
    s += k + 1 < lb.rows.size() ? "},\n" : "}\n";
  }
  s += "  ]";
  if (lb.matrices) {
    const auto& mx = *lb.matrices;
    s += ",\n  \"matrices\": {\"models\": [";
    for (std::size_t k = 0; k < mx.order.size(); ++k) s += (k ? ", " : "") + json_string(lb.models[mx.order[k]]);
    s += "]";
    for (auto [title, mat] : {std::pair{"battles", &mx.battles}, std::pair{"win_fraction", &mx.win_fraction},
                              std::pair{"predicted", &mx.predicted}}) {
      s += fmt::format(", \"{}\": [", title);
      for (Eigen::Index a = 0; a < mat->rows(); ++a) {
        s += a ? ", [" : "[";
        for (Eigen::Index b = 0; b < mat->cols(); ++b) s += (b ? ", " : "") + json_number((*mat)(a, b));
        s += "]";
      }
      s += "]";
    }
    s += "}";
  }
  s += "\n}\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
}

void print_csv(const ranking::leaderboard& lb, const rank_options& o) {
  std::string s = "rank,rank_ub,model,rating,ci_lo,ci_hi,boot_median,votes";
  if (o.elo) s += ",online_elo";
  if (o.robustness) s += ",votes_to_swap_with_next";
  s += "\n";
  for (const auto& r : lb.rows) {
    s += fmt::format("{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{}", r.rank, r.rank_ub, csv_field(r.name), r.rating, r.ci_lo,
                     r.ci_hi, r.boot_median, r.votes);
    if (o.elo) s += fmt::format(",{:.6f}", r.elo.value_or(std::nan("")));
    if (o.robustness) s += r.votes_to_swap_with_next ? fmt::format(",{}", *r.votes_to_swap_with_next) : ",";
    s += "\n";
  }
  std::fwrite(s.data(), 1, s.size(), stdout);
}

// Runs a ranking call; a parameter_error it throws is said again with the
// flag that set the parameter (the library names its options, not our flags).
template <typename F>
auto with_flags(F&& call) {
  try {
    return call();
  } catch (const parameter_error& e) {
    static const std::map<std::string, std::string> flag_of{{"anchor_model", "--anchor"}, {"ties", "--ties"}};
    const auto it = flag_of.find(e.parameter());
    if (it == flag_of.end()) throw;
    throw input_error(fmt::format("{}: {}", it->second, e.detail()));
  }
}

}  // namespace

int run_rank(const global_options& /*global*/, const rank_options& o) {
  if (o.format != "table" && o.format != "json" && o.format != "csv")
    throw input_error(fmt::format("--format: expected table|json|csv, got '{}'", o.format));
  const auto t0 = std::chrono::steady_clock::now();
  const file_bytes file(o.file);
  ranking::battle_table battles = ranking::read_battles(file.text(), o.file);
  const auto t1 = std::chrono::steady_clock::now();
  if (o.category || o.language) battles = filter(battles, o);
  if (o.session_consensus) battles = without_improbable_judges(battles, o);

  ranking::leaderboard_options lo;
  lo.bootstrap_rounds = o.intervals == "sandwich" ? 0 : o.bootstrap;
  lo.seed = o.seed;
  lo.threads = o.threads;
  lo.min_votes = o.min_votes;
  lo.reweight = o.reweight;
  lo.inverse_propensity = o.inverse_propensity;
  lo.elo = o.elo;
  lo.elo_k = o.elo_k;
  lo.style_control = o.style_control;
  if (o.style_penalty == "coefficients") lo.penalty = ranking::style_penalty::coefficients;
  else if (o.style_penalty != "all")
    throw input_error(fmt::format("--style-penalty: expected all|coefficients, got '{}'", o.style_penalty));
  lo.ties = with_flags([&] { return ranking::parse_tie_model(o.ties); });
  lo.matrices = o.matrices;
  lo.robustness = o.robustness;
  if (o.anchor) {
    const auto eq = o.anchor->rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw input_error(fmt::format("--anchor: expected MODEL=RATING, got '{}'", *o.anchor));
    double rating = 0;
    try {
      std::size_t used = 0;
      rating = std::stod(o.anchor->substr(eq + 1), &used);
      if (used != o.anchor->size() - eq - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw input_error(fmt::format("--anchor: '{}' is not a number", o.anchor->substr(eq + 1)));
    }
    lo.anchor_model = ranking::anchor{o.anchor->substr(0, eq), rating};
  }
  const ranking::leaderboard lb = with_flags([&] { return ranking::compute_leaderboard(battles, lo); });
  const auto t2 = std::chrono::steady_clock::now();
  for (const auto& w : lb.warnings) log::warn("rank: {}", w);
  log::info("rank: parsed {} battles in {:.3f} s, computed in {:.3f} s", battles.size(),
            std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
  if (o.format == "json") print_json(lb, o);
  else if (o.format == "csv") print_csv(lb, o);
  else print_table(lb, o);
  return 0;
}

}  // namespace huashan::cli
