#include "arena/http/pages/svg_charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "arena/http/html.hpp"

namespace huashan::arena::http {

namespace {

// Distinct, colour-blind-friendlier hues for lines (Okabe–Ito order, then more).
constexpr const char* palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
                                   "#56b4e9", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf"};

struct axis {
  double lo = 0;
  double hi = 1;
  double step = 1;
};

// Round bounds and a 1-2-5 step giving about `ticks` ticks over [lo, hi].
axis nice_axis(double lo, double hi, int ticks = 5) {
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const double raw = (hi - lo) / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) {
      step = m * magnitude;
      break;
    }
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// "2026-12-06 14:27" from an ISO 8601 time.
std::string minute(const std::string& iso) {
  auto out = iso.substr(0, 16);
  if (out.size() > 10 && out[10] == 'T') out[10] = ' ';
  return out;
}

std::string number_text(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "NaN"; }

std::string tick_text(double v, double step) {
  return step >= 1 ? fmt::format("{:.0f}", v) : fmt::format("{:.{}f}", v, std::max(0, -static_cast<int>(std::floor(std::log10(step)))));
}

std::string open_svg(double width, double height, const std::string& description) {
  return fmt::format(R"(<svg class="chart" viewBox="0 0 {:.0f} {:.0f}" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">)",
                     width, height, width, height, html_escape(description));
}

// Model labels left of rows `top + i * row` (translate="no": names are not words to translate).
std::string row_labels(const std::vector<std::string>& labels, double x, double top, double row) {
  std::string out = R"(<g class="labels" translate="no">)";
  for (std::size_t i = 0; i < labels.size(); ++i)
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end" dominant-baseline="middle">{}</text>)", x,
                       top + (i + 0.5) * row, html_escape(labels[i]));
  return out + "</g>";
}

std::string vertical_grid(const axis& a, double left, double width, double top, double bottom, bool percent) {
  std::string out = R"(<g class="grid">)";
  for (double v = a.lo; v <= a.hi + a.step / 2; v += a.step) {
    const double x = left + (v - a.lo) / (a.hi - a.lo) * width;
    out += fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}"/>)", x, x, top, bottom);
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x, bottom + 16,
                       percent ? fmt::format("{:.0f}%", v * 100) : tick_text(v, a.step));
  }
  return out + "</g>";
}

std::string axis_title_below(const std::string& title, double x, double y) {
  return fmt::format(R"(<text class="axis-title" x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x, y,
                     html_escape(title));
}

// The left margin a set of labels needs (about 7 px a character, within limits).
double label_width(const std::vector<std::string>& labels) {
  std::size_t longest = 4;
  for (const auto& l : labels) longest = std::max(longest, l.size());
  return std::clamp(12.0 + 7.0 * static_cast<double>(longest), 60.0, 260.0);
}

struct rgb {
  double r, g, b;
};
rgb mix(rgb a, rgb b, double t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
std::string hex(rgb c) {
  return fmt::format("#{:02x}{:02x}{:02x}", static_cast<int>(std::lround(c.r)), static_cast<int>(std::lround(c.g)),
                     static_cast<int>(std::lround(c.b)));
}
bool dark(rgb c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b < 140; }

}  // namespace

std::string svg_interval_chart(const std::vector<interval_point>& points, const std::string& description,
                               const std::string& axis_title) {
  std::vector<std::string> labels;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& p : points) {
    labels.push_back(p.label);
    for (const double v : {p.value, p.lo, p.hi})
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  if (!std::isfinite(lo)) lo = hi = 1000;
  const auto a = nice_axis(lo, hi);
  const double left = label_width(labels), width = 640 - left - 20, row = 26, top = 10;
  const double bottom = top + row * static_cast<double>(std::max<std::size_t>(points.size(), 1));
  const auto x_of = [&](double v) { return left + (v - a.lo) / (a.hi - a.lo) * width; };
  std::string out = open_svg(640, bottom + 44, description);
  out += vertical_grid(a, left, width, top, bottom, false) + row_labels(labels, left - 8, top, row);
  out += R"(<g class="marks">)";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const double y = top + (i + 0.5) * row;
    const auto tip = fmt::format("{}: {:.1f} ({:.1f} – {:.1f})", p.label, p.value, p.lo, p.hi);
    if (std::isfinite(p.lo) && std::isfinite(p.hi))
      out += fmt::format(R"(<line class="ci" data-model="{}" data-lo="{}" data-hi="{}" x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}"/>)",
                         html_escape(p.model), number_text(p.lo), number_text(p.hi), x_of(p.lo), x_of(p.hi), y, y);
    if (std::isfinite(p.value))
      out += fmt::format(R"(<circle class="mark" data-model="{}" data-value="{}" cx="{:.1f}" cy="{:.1f}" r="5"><title>{}</title></circle>)",
                         html_escape(p.model), number_text(p.value), x_of(p.value), y, html_escape(tip));
  }
  out += "</g>" + axis_title_below(axis_title, left + width / 2, bottom + 38) + "</svg>";
  return out;
}

std::string svg_percent_bars(const std::vector<bar_point>& bars, const std::string& description,
                             const std::string& axis_title) {
  std::vector<std::string> labels;
  for (const auto& b : bars) labels.push_back(b.label);
  const axis a{0, 1, 0.2};
  const double left = label_width(labels), width = 640 - left - 60, row = 26, top = 10;
  const double bottom = top + row * static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  std::string out = open_svg(640, bottom + 44, description);
  out += vertical_grid(a, left, width, top, bottom, true) + row_labels(labels, left - 8, top, row);
  out += R"(<g class="marks">)";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double v = std::isfinite(b.value) ? std::clamp(b.value, 0.0, 1.0) : 0.0;
    const double y = top + i * row + 4;
    out += fmt::format(R"(<rect class="mark" data-model="{}" data-value="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{}: {:.1f}%</title></rect>)",
                       html_escape(b.model), number_text(b.value), left, y, v * width, row - 8, html_escape(b.label), v * 100);
    out += fmt::format(R"(<text class="value" x="{:.1f}" y="{:.1f}" dominant-baseline="middle">{:.1f}%</text>)",
                       left + v * width + 4, y + (row - 8) / 2, v * 100);
  }
  out += "</g>" + axis_title_below(axis_title, left + width / 2, bottom + 38) + "</svg>";
  return out;
}

std::string svg_heatmap(const std::vector<std::string>& models, const std::vector<std::string>& labels,
                        const std::vector<std::vector<double>>& values, bool percent, const std::string& description,
                        const std::string& row_title, const std::string& column_title) {
  const std::size_t n = models.size();
  // Column labels run up and to the right at 60 degrees: room above and beside the cells.
  const double labels_px = label_width(labels);
  const double left = labels_px + 18, top = labels_px * 0.87 + 24;
  const double cell = n > 20 ? 22 : 44;
  const double size = cell * static_cast<double>(std::max<std::size_t>(n, 1));
  double max_count = 1;
  for (const auto& row : values)
    for (const double v : row)
      if (std::isfinite(v)) max_count = std::max(max_count, v);
  std::string out = open_svg(left + size + labels_px * 0.5 + 10, top + size + 10, description);
  // Column labels, rotated, above the cells; row labels to the left.
  out += R"(<g class="labels" translate="no">)";
  for (std::size_t j = 0; j < n; ++j) {
    const double x = left + (j + 0.5) * cell;
    out += fmt::format(R"~(<text transform="translate({:.1f},{:.1f}) rotate(-60)" text-anchor="start">{}</text>)~", x,
                       top - 6, html_escape(j < labels.size() ? labels[j] : models[j]));
  }
  out += "</g>" + row_labels(labels, left - 6, top, cell);
  out += fmt::format(R"~(<text class="axis-title" transform="translate(12,{:.1f}) rotate(-90)" text-anchor="middle">{}</text>)~",
                     top + size / 2, html_escape(row_title));
  out += fmt::format(R"(<text class="axis-title" x="{:.1f}" y="14" text-anchor="middle">{}</text>)", left + size / 2,
                     html_escape(column_title));
  const rgb white{255, 255, 255}, blue{33, 102, 172}, red{178, 24, 43};
  out += R"(<g class="cells">)";
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = i < values.size() && j < values[i].size() ? values[i][j] : NAN;
      if (i == j || !std::isfinite(v)) continue;  // a model never meets itself
      const rgb c = percent ? (v >= 0.5 ? mix(white, blue, (v - 0.5) * 2) : mix(white, red, (0.5 - v) * 2))
                            : mix(white, blue, std::sqrt(v / max_count));
      const auto shown = percent ? fmt::format("{:.0f}%", v * 100) : fmt::format("{:.0f}", v);
      const double x = left + j * cell, y = top + i * cell;
      out += fmt::format(R"(<rect class="cell" data-row="{}" data-col="{}" data-value="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{} – {}: {}</title></rect>)",
                         html_escape(models[i]), html_escape(models[j]), number_text(v), x, y, cell, cell, hex(c),
                         html_escape(i < labels.size() ? labels[i] : models[i]),
                         html_escape(j < labels.size() ? labels[j] : models[j]), shown);
      if (cell >= 40)
        out += fmt::format(R"(<text class="cell-value{}" x="{:.1f}" y="{:.1f}" text-anchor="middle" dominant-baseline="middle">{}</text>)",
                           dark(c) ? " on-dark" : "", x + cell / 2, y + cell / 2, shown);
    }
  return out + "</g></svg>";
}

std::string svg_history_chart(const std::vector<history_series>& series, const std::string& description,
                              const std::string& axis_title) {
  // x: the snapshots in order (their times are uneven; order is what matters to a reader).
  std::map<long long, std::string> snapshots;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (const auto& p : s.points) {
      snapshots.emplace(p.snapshot, p.time);
      if (std::isfinite(p.value)) {
        lo = std::min(lo, p.value);
        hi = std::max(hi, p.value);
      }
    }
  if (!std::isfinite(lo)) lo = hi = 1000;
  std::map<long long, std::size_t> index;
  for (const auto& [id, time] : snapshots) index.emplace(id, index.size());
  const auto a = nice_axis(lo, hi);
  const double left = 56, top = 10, width = 640 - left - 170, height = 240;
  const double span = static_cast<double>(std::max<std::size_t>(snapshots.size(), 2) - 1);
  const auto x_of = [&](long long id) { return left + static_cast<double>(index.at(id)) / span * width; };
  const auto y_of = [&](double v) { return top + height - (v - a.lo) / (a.hi - a.lo) * height; };
  std::string out = open_svg(640, top + height + 44, description);
  out += R"(<g class="grid">)";
  for (double v = a.lo; v <= a.hi + a.step / 2; v += a.step)
    out += fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}"/><text x="{:.1f}" y="{:.1f}" text-anchor="end" dominant-baseline="middle">{}</text>)",
                       left, left + width, y_of(v), y_of(v), left - 6, y_of(v), tick_text(v, a.step));
  // First and last snapshot dates under the axis.
  if (!snapshots.empty()) {
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="start">{}</text>)", left, top + height + 16,
                       html_escape(minute(snapshots.begin()->second)));
    if (snapshots.size() > 1)
      out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{}</text>)", left + width, top + height + 16,
                         html_escape(minute(snapshots.rbegin()->second)));
  }
  out += "</g>";
  out += fmt::format(R"~(<text class="axis-title" transform="translate(12,{:.1f}) rotate(-90)" text-anchor="middle">{}</text>)~",
                     top + height / 2, html_escape(axis_title));
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* colour = palette[k % std::size(palette)];
    std::string path;
    for (const auto& p : s.points)
      if (std::isfinite(p.value)) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", x_of(p.snapshot), y_of(p.value));
    out += fmt::format(R"(<g class="series" data-model="{}"><path d="{}" fill="none" stroke="{}" stroke-width="2"/>)",
                       html_escape(s.model), path, colour);
    for (const auto& p : s.points)
      if (std::isfinite(p.value))
        out += fmt::format(R"(<circle class="mark" data-model="{}" data-snapshot="{}" data-value="{}" cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"><title>{} · {}: {:.1f}</title></circle>)",
                           html_escape(s.model), p.snapshot, number_text(p.value), x_of(p.snapshot), y_of(p.value),
                           colour, html_escape(s.label), html_escape(minute(p.time)), p.value);
    out += "</g>";
    // Legend to the right.
    const double ly = top + 8 + static_cast<double>(k) * 18;
    if (ly < top + height)
      out += fmt::format(R"(<g class="legend" translate="no"><rect x="{:.1f}" y="{:.1f}" width="12" height="4" fill="{}"/><text x="{:.1f}" y="{:.1f}" dominant-baseline="middle">{}</text></g>)",
                         left + width + 14, ly - 2, colour, left + width + 30, ly, html_escape(s.label));
  }
  return out + "</svg>";
}

}  // namespace huashan::arena::http
