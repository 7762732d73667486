// The eval pages' <main>: models x suites (/evals) and one run with its
// groups, tasks and sample links (/evals/{id}). Pure: data in, markup out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arena/http/ui_text.hpp"
#include "arena/service/eval_service.hpp"

namespace huashan::arena::http {

// /evals: one row per model, one column per group (or task where a run has
// no groups) and metric; each cell value ± stderr and n, linking to its run.
std::string evals_main(const ui_catalog& text, ui_language language, const std::vector<store::eval_table_row>& rows);

// The metric cells of `rows` as a table (the model page uses it too).
std::string eval_rows_table(const ui_catalog& text, ui_language language, const std::vector<store::eval_table_row>& rows,
                            const std::string& id);

// /evals/{id}: the run's results.json as groups with their tasks, every
// metric ± stderr, n, and a link to each task's samples. input_error when the
// text is not a results.json.
std::string eval_run_main(const ui_catalog& text, ui_language language, std::int64_t run_id,
                          const std::string& results_json);

// The names in an eval row's arena_models ("a,b"; "" gives none).
std::vector<std::string> arena_model_names(const std::string& comma_separated);

// A value as lm-evaluation-harness prints it (4 decimals), "–" for none.
std::string metric_text(const std::optional<double>& value);

}  // namespace huashan::arena::http
