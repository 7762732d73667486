// The leaderboard's plots as SVG made on the server: no script, no external
// request, readable by screen readers (role="img" with a label) and by the
// tests, which find each mark's number in its data-value attribute (full
// precision). Labels are plain text; the charts escape them.
#pragma once

#include <string>
#include <vector>

namespace huashan::arena::http {

// A model's value with an interval, e.g. a rating and its 95% interval.
struct interval_point {
  std::string model;  // data-model
  std::string label;  // shown on the axis
  double value = 0;
  double lo = 0;
  double hi = 0;
};
// One row per point (in the given order): a dot at `value`, a line from lo to hi.
std::string svg_interval_chart(const std::vector<interval_point>& points, const std::string& description,
                               const std::string& axis_title);

struct bar_point {
  std::string model;
  std::string label;
  double value = 0;  // 0..1
};
// Horizontal bars on a 0..100% axis.
std::string svg_percent_bars(const std::vector<bar_point>& bars, const std::string& description,
                             const std::string& axis_title);

// A square matrix as coloured cells with their values; NaN cells are left
// blank. `percent`: values are fractions shown as %, coloured red-white-blue
// around 0.5; else counts, coloured by size.
std::string svg_heatmap(const std::vector<std::string>& models, const std::vector<std::string>& labels,
                        const std::vector<std::vector<double>>& values, bool percent, const std::string& description,
                        const std::string& row_title, const std::string& column_title);

struct history_series {
  std::string model;
  std::string label;
  struct point {
    long long snapshot = 0;
    std::string time;  // ISO 8601
    double value = 0;
  };
  std::vector<point> points;  // oldest first
};
// Lines over the snapshots (x: snapshot order, labelled with dates).
std::string svg_history_chart(const std::vector<history_series>& series, const std::string& description,
                              const std::string& axis_title);

}  // namespace huashan::arena::http
