// Per-session consensus test: how probable a voting session's votes are under
// the current ratings, and battle weights that discount improbable sessions.
// The same idea as LMArena's anomalous-user test (Chiang et al. 2024, §5.1,
// which combines per-vote p-values with Fisher's method), here as a normal
// approximation of the session's log-likelihood.
//
// For session s with decisive votes k (ties skipped: a tie says nothing about
// which side the session prefers), p_k = P(the side it chose wins) under the
// fit = σ(ln10 (r_winner − r_loser)), and under the null "s votes as the
// ratings say" each vote is Bernoulli(q_k) with q_k = P(model_a wins):
//   L_s = Σ_k log p_k
//   E_s = Σ_k [q_k log q_k + (1 − q_k) log(1 − q_k)]
//   V_s = Σ_k q_k (1 − q_k) (log q_k − log(1 − q_k))²
//   z_s = (L_s − E_s) / √V_s
// (z is 0 when V_s = 0: every vote a coin flip). A session with at least
// `min_votes` decisive votes is flagged, its votes improbable, when z_s is
// below cutoff_s = −threshold + γ_s/6 · (threshold² − 1), the Cornish-Fisher
// quantile with γ_s the null's skewness
// (Σ q(1 − q)(1 − 2q)(log q − log(1 − q))³ / V_s^{3/2}, always ≤ 0; clamped
// at −2): the sum of a few skewed terms has a longer lower tail than the
// normal, and short honest sessions were otherwise flagged at ~3× the
// nominal rate (docs/reliability.md). The rule: every battle of a flagged session gets weight `floor`
// (0 by default: it no longer counts), every other battle weight 1. Only low
// z is flagged; a session that agrees with the ratings more than chance would
// (always voting for the stronger model) is not, so a bloc backing a strong
// model is invisible to this test (docs/reliability.md measures it).
//
// The ratings the votes are scored under are a fit on the decisive votes
// alone (decisive_pair_counts): a fit that counts ties as half a win is
// flatter than the decisive outcomes (with 15% ties at random, q shrinks
// toward ½ by 15%), so honest sessions would look too predictable (z biased
// upward, ~+0.3 for 25 votes).
//
// The iterated test refits with the weights and scores every session again
// under the new ratings (a flagged session may be cleared, a newly
// improbable one flagged), until the flags stop changing or `rounds` scoring
// passes ran; it can start from earlier flags (see below).
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "ranking/battle.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"

namespace huashan::ranking {

struct consensus_options {
  std::uint32_t min_votes = 10;  // decisive votes a session needs to be tested
  double threshold = 3.0;        // flag z below about −threshold (one-sided; 3: ≤ 0.13% of honest sessions)
  double floor = 0.0;            // weight of a flagged session's battles, in [0, 1]
  int rounds = 4;                // scoring passes of the iterated test (≥ 1)
  bt_options fit;
};

struct session_score {
  std::uint32_t voter = 0;     // index into battle_table::voters
  std::uint32_t votes = 0;     // decisive votes scored
  double log_likelihood = 0;   // L_s
  double expected = 0;         // E_s
  double variance = 0;         // V_s
  double z = 0;
  double skewness = 0;         // γ_s of the null, clamped to [−2, 0]
  double cutoff = 0;           // flagged when z < cutoff: −threshold + γ_s/6 · (threshold² − 1)
  bool flagged = false;
};

struct consensus_result {
  std::vector<double> battle_weight;    // one per battle: 1, or floor for a flagged session's
  std::vector<session_score> sessions;  // every tested session (≥ min_votes), by voter index
  std::vector<std::uint32_t> flagged;   // voters whose battles have weight `floor`, ascending
  bt_fit fit;           // iterated: the board's fit on battle_weight (ties half); single pass: the input fit
  bt_fit decisive_fit;  // iterated: the decisive votes' fit on battle_weight the sessions were last scored under
  int passes = 0;                       // scoring passes run
  bool settled = true;                  // iterated: the last pass flagged the sessions the fit had left out
};

// Scores every session with at least options.min_votes decisive votes under
// `fit` (fitted on `battles`' model indices, on decisive votes: see above).
// Throws input_error when the table has no voter (judge) column.
std::vector<session_score> score_sessions(const battle_table& battles, const bt_fit& fit,
                                          const consensus_options& options = {});

// One pass: scores under `fit` and weights the battles by the rule above.
// Throws input_error without a voter column or for a floor outside [0, 1].
consensus_result session_consensus(const battle_table& battles, const bt_fit& fit,
                                   const consensus_options& options = {});

// Iterated: fit the decisive votes (from `start` when given) with the
// battles of `flagged_before` (e.g. the previous recompute's flags) already
// at `floor`; then each pass scores the sessions, weights the battles and
// refits, until a pass flags exactly the sessions the fit already left out or
// options.rounds passes ran; then the board's fit (every battle, ties half)
// on the final weights. `sessions` are the scores the final weights follow.
// Starting from the previous flags matters: a fit that includes a large bloc
// is pulled toward it, and then the bloc's votes no longer look improbable
// (masking). Same errors as session_consensus, and for rounds < 1 or a
// flagged voter that is not in the table.
consensus_result iterated_session_consensus(const battle_table& battles, const consensus_options& options = {},
                                            const Eigen::VectorXd* start = nullptr,
                                            const std::vector<std::uint32_t>* flagged_before = nullptr);

// Pair counts whose cells hold the summed weights of their battles (a battle
// of weight 0 is left out, so the fit's existence screen sees only battles
// that count). A fit on them maximises Σ_k w_k log-lik_k, as a fit on
// count_pairs(battles, weight) does, but zero weights are allowed.
// `weight` has one entry ≥ 0 per battle (asserted).
pair_counts weighted_pair_counts(const battle_table& battles, const std::vector<double>& weight);
// The same for the decisive votes only (ties left out): what sessions are scored under.
pair_counts decisive_pair_counts(const battle_table& battles, const std::vector<double>& weight);

}  // namespace huashan::ranking
