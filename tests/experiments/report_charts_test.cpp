// The chart toolkit's promises: names are escaped everywhere, the colour scales are the published ones and keep
// written values readable, ticks cover the data, missing values are drawn as hatched "n/a" (never as a zero
// colour or a zero-height bar), and a chart with no values says so instead of drawing nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>

#include "experiments/report/bar_chart.h"
#include "experiments/report/color_scale.h"
#include "experiments/report/heatmap.h"
#include "experiments/report/line_chart.h"
#include "experiments/report/lineage_chart.h"
#include "experiments/report/number_format.h"
#include "experiments/report/stacked_bar_chart.h"
#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST(ReportText, EscapingKeepsNamesIntactAndMarkupInert) {
  EXPECT_EQ(escape_xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(escape_xml_line("two\nlines"), "two lines");
  EXPECT_EQ(escape_xml("ru «фортунки» 日本"), "ru «фортунки» 日本");
  // Invalid UTF-8 and control characters become U+FFFD, so the page stays valid.
  EXPECT_EQ(sanitize_utf8(std::string("a\xff" "b\x01" "c")), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // an overlong '/'
  EXPECT_EQ(escape_markdown("a|b*c_d\ne<f>"), "a\\|b\\*c\\_d<br>e&lt;f&gt;");
  EXPECT_EQ(ellipsize("фортунки-длинное-имя", 8), "фортунк…");
  EXPECT_EQ(ellipsize("short", 8), "short");
}

TEST(ReportNumbers, FormatsNeverTurnMissingIntoZero) {
  EXPECT_EQ(format_fixed(std::optional<double>(), 3), "n/a");
  EXPECT_EQ(format_fixed(-0.0001, 3), "0.000");
  EXPECT_EQ(format_signed(0.12, 3), "+0.120");
  EXPECT_EQ(format_signed(-0.3, 3), "-0.300");
  EXPECT_EQ(format_count(12345678), "12.3M");
  EXPECT_EQ(format_count(1234), "1,234");
  EXPECT_EQ(format_integer(-1234567), "-1,234,567");
}

TEST(ReportNumbers, NiceTicksCoverTheRangeWithRoundSteps) {
  for (auto [lo, hi] : {std::pair{2.04, 8.4}, {0.0, 1.0}, {-0.31, 1.35}, {5.0, 5.0}, {1e6, 3.4e6}}) {
    const auto ticks = nice_ticks(lo, hi, 5);
    ASSERT_GE(ticks.size(), 2u) << lo;
    EXPECT_LE(ticks.front(), lo);
    EXPECT_GE(ticks.back(), hi);
    EXPECT_LE(ticks.size(), 12u);
    const double step = ticks[1] - ticks[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 2.5) < 1e-9 ||
                std::fabs(mantissa - 5) < 1e-9)
        << step;
  }
}

TEST(ReportColors, ScalesInterpolateTheirPublishedControlPoints) {
  const ColorScale viridis(ScaleKind::kViridis, 0.0, 1.0);
  EXPECT_EQ(to_hex(viridis.at(0.0)), "#440154");
  EXPECT_EQ(to_hex(viridis.at(1.0)), "#fde725");
  EXPECT_EQ(to_hex(viridis.at(0.5)), "#21918c");
  EXPECT_EQ(to_hex(viridis.at(7.0)), "#fde725") << "clamped";
  EXPECT_EQ(to_hex(ColorScale(ScaleKind::kViridis, 0.0, 1.0, true).at(0.0)), "#fde725");
  const ColorScale diverging(ScaleKind::kDiverging, -2.0, 2.0);
  EXPECT_EQ(to_hex(diverging.at(0.0)), "#f7f7f7");
  const Rgb cold = diverging.at(-2.0), warm = diverging.at(2.0);
  EXPECT_GT(cold.b, cold.r);
  EXPECT_GT(warm.r, warm.b);
  // Sequential scales get lighter monotonically, so order survives greyscale and colour-vision deficiency.
  for (auto kind : {ScaleKind::kViridis, ScaleKind::kCividis}) {
    const ColorScale scale(kind, 0.0, 1.0);
    for (int i = 1; i <= 20; ++i) {
      EXPECT_GT(relative_luminance(scale.at_fraction(i / 20.0)), relative_luminance(scale.at_fraction((i - 1) / 20.0)));
    }
  }
  EXPECT_EQ(text_color_on(parse_hex("#440154")), "#fff");
  EXPECT_EQ(text_color_on(parse_hex("#fde725")), "#000");
}

HeatmapSpec two_by_two() {
  HeatmapSpec spec;
  spec.id = "hm";
  spec.label = "test";
  spec.row_labels = {"after <0>", "after 1"};
  spec.col_labels = {"en & \"de\"", "ru"};
  spec.values = {{2.0, std::nullopt}, {0.0, 4.0}};
  return spec;
}

TEST(ReportHeatmap, MissingCellsAreHatchedNaAndZeroIsAColour) {
  const std::string svg = render_heatmap(two_by_two());
  EXPECT_NE(svg.find("<pattern id=\"hm-hatch\""), std::string::npos);
  EXPECT_EQ(count_of(svg, "fill=\"url(#hm-hatch)\""), 2u);  // the one missing cell and the legend's n/a swatch
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);
  EXPECT_NE(svg.find("ru: n/a"), std::string::npos) << "the missing cell's tooltip";
  // 0.0 is a value: it is written and coloured like any other.
  EXPECT_NE(svg.find(">0.000</text>"), std::string::npos);
  EXPECT_NE(svg.find("after 1 — en &amp; &quot;de&quot;: 0.000"), std::string::npos);
  EXPECT_EQ(svg.find("<0>"), std::string::npos) << "labels are escaped";
  EXPECT_NE(svg.find("after &lt;0&gt;"), std::string::npos);
}

TEST(ReportHeatmap, ColumnGroupsMustCoverTheColumns) {
  HeatmapSpec spec = two_by_two();
  spec.column_groups = {{"phase 0", 1}};
  EXPECT_THROW(render_heatmap(spec), std::invalid_argument);
  spec.column_groups = {{"phase 0", 1}, {"phase 1", 1}};
  const std::string svg = render_heatmap(spec);
  EXPECT_NE(svg.find(">phase 0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">phase 1</text>"), std::string::npos);
}

TEST(ReportLineChart, AMissingPointBreaksTheLineAndIsMarkedOnTheAxis) {
  LineChartSpec spec;
  spec.id = "lc";
  spec.categories = {{0, "phase 0"}, {1, "phase 1"}, {2, "phase 2"}, {3, "phase 3"}};
  spec.series = {{"en", {{0, 2.0, ""}, {1, 2.1, ""}, {2, std::nullopt, ""}, {3, 2.3, ""}}, 0}};
  const std::string svg = render_line_chart(spec);
  EXPECT_EQ(count_of(svg, "<polyline"), 1u) << "points 0-1 joined; point 3 stands alone";
  EXPECT_NE(svg.find("en — phase 2: n/a"), std::string::npos);
  EXPECT_NE(svg.find("missing value (n/a)"), std::string::npos) << "legend";
  EXPECT_NE(svg.find("en — phase 3: 2.300"), std::string::npos);
}

TEST(ReportLineChart, ALongTrainingCurveStaysSmallAndKeepsItsSpike) {
  LineChartSpec spec;
  spec.id = "long";
  spec.markers = false;
  LineSeries series{"phase 0", {}, 0};
  for (int step = 0; step < 50000; ++step) series.points.push_back({double(step), step == 31337 ? 10.0 : 2.0, ""});
  spec.series = {series};
  const std::string svg = render_line_chart(spec);
  const size_t start = svg.find("points=\"");
  ASSERT_NE(start, std::string::npos);
  const std::string points = svg.substr(start, svg.find('"', start + 8) - start);
  EXPECT_LT(count_of(points, ","), 4000u) << "decimated to a few points per pixel column";
  EXPECT_LT(svg.size(), 100000u);
  // The spike (the only 10.0) sits at the height of the top tick, 10: some point must be there.
  const std::regex top_tick(R"re(<text x="[0-9.]+" y="([0-9.]+)"[^>]*>10</text>)re");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, top_tick)) << "a tick at 10";
  EXPECT_NE((points + " ").find("," + match[1].str() + " "), std::string::npos) << "the spike survived decimation";
}

TEST(ReportLineChart, NoValuesAtAllSaysSo) {
  LineChartSpec spec;
  spec.id = "empty";
  spec.no_data_message = "no training metrics were recorded for this run";
  const std::string svg = render_line_chart(spec);
  EXPECT_NE(svg.find(">no training metrics were recorded for this run</text>"), std::string::npos);
  EXPECT_NE(svg.find("url(#empty-hatch)"), std::string::npos);
}

TEST(ReportBarChart, NegativeBarsHangBelowZeroAndMissingOnesAreStubs) {
  BarChartSpec spec;
  spec.id = "bc";
  spec.groups = {"en", "de"};
  spec.series = {"grove", "finetune"};
  spec.values = {{-0.2, 0.05}, {1.3, std::nullopt}};
  const std::string svg = render_bar_chart(spec);
  EXPECT_NE(svg.find("grove — en: -0.200"), std::string::npos);
  EXPECT_NE(svg.find("finetune — de: n/a"), std::string::npos);
  EXPECT_EQ(count_of(svg, "fill=\"url(#bc-hatch)\""), 2u) << "the stub and its legend swatch";
  spec.values = {{1.0}, {2.0}};
  EXPECT_THROW(render_bar_chart(spec), std::invalid_argument);
}

// The y and height of the rect whose tooltip is `tooltip` (fails the test when there is none).
std::pair<double, double> rect_with_tooltip(const std::string& svg, const std::string& tooltip) {
  const std::regex rect("<rect x=\"[^\"]*\" y=\"([^\"]*)\" width=\"[^\"]*\" height=\"([^\"]*)\"[^>]*><title>" +
                        std::regex_replace(tooltip, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + "</title>");
  std::smatch match;
  if (!std::regex_search(svg, match, rect)) {
    ADD_FAILURE() << "no rect titled '" << tooltip << "'";
    return {0, 0};
  }
  return {std::stod(match[1]), std::stod(match[2])};
}

TEST(ReportStackedBarChart, SegmentsStackInProportionUnderTheTotalAndAPhaseWithoutValuesIsAStub) {
  StackedBarChartSpec spec;
  spec.id = "sb";
  spec.groups = {"phase 0", "phase 1", "phase 2"};
  spec.series = {"setup", "training"};
  spec.values = {{2.0, 6.0, std::nullopt}, {8.0, 0.0, std::nullopt}};
  spec.format = [](double v) { return format_fixed(v, 1); };
  const std::string svg = render_stacked_bar_chart(spec);
  const auto [setup_y, setup_h] = rect_with_tooltip(svg, "setup — phase 0: 2.0 of 10.0");
  const auto [training_y, training_h] = rect_with_tooltip(svg, "training — phase 0: 8.0 of 10.0");
  const auto [alone_y, alone_h] = rect_with_tooltip(svg, "setup — phase 1: 6.0 of 6.0");
  EXPECT_NEAR(training_h / setup_h, 4.0, 0.02) << "heights in proportion to the seconds";
  EXPECT_NEAR(training_y + training_h, setup_y, 0.02) << "training sits on top of setup";
  EXPECT_NEAR((setup_h + training_h) / alone_h, 10.0 / 6.0, 0.02) << "one scale for every bar";
  EXPECT_NEAR(setup_y + setup_h, alone_y + alone_h, 0.02) << "every bar starts at zero";
  EXPECT_NE(svg.find(">10.0</text>"), std::string::npos) << "the total above the bar";
  EXPECT_EQ(svg.find("training — phase 1"), std::string::npos) << "a zero segment is not drawn";
  EXPECT_NE(svg.find("phase 2: n/a"), std::string::npos);
  EXPECT_EQ(count_of(svg, "fill=\"url(#sb-hatch)\""), 2u) << "the stub and its legend swatch";

  spec.values = {{std::nullopt}, {std::nullopt}};
  spec.groups = {"phase 0"};
  EXPECT_NE(render_stacked_bar_chart(spec).find(">no values recorded</text>"), std::string::npos);
  spec.values = {{-1.0}, {2.0}};
  EXPECT_THROW(render_stacked_bar_chart(spec), std::invalid_argument);
  spec.values = {{1.0, 2.0}, {2.0, 3.0}};
  EXPECT_THROW(render_stacked_bar_chart(spec), std::invalid_argument);
}

// A base group trained again by a phase without growth: its life line is solid in phases 0 and 2 and grey in phase
// 1, though the registry marks it not frozen (frozen since is cleared while it trains); the group grown in phase 1
// is solid there and grey in phase 2.
TEST(ReportLineage, AGroupTrainedAgainWithoutGrowthIsDrawnTrainingInThatPhase) {
  RunData run;
  for (int64_t idx = 0; idx < 3; ++idx) {
    PhaseData phase;
    phase.row.id = 10 + idx;
    phase.row.idx = idx;
    phase.row.trained_group = idx == 1 ? 1 : 0;
    phase.distribution = idx == 1 ? "en" : "ru";
    run.phases.push_back(phase);
  }
  registry::ExpertRow base;
  base.id = 1;
  base.slot = 0;
  base.group_idx = 0;
  base.born_phase_id = 10;
  registry::ExpertRow grown = base;
  grown.id = 2;
  grown.slot = 4;
  grown.group_idx = 1;
  grown.born_phase_id = 11;
  grown.frozen_at_phase_id = 12;
  run.experts = {base, grown};
  run.forest[0] = {registry::LineageNode{base, {}}, registry::LineageNode{grown, {}}};
  const std::string svg = render_lineage_chart(run, 0, "lineage", "layer 0");

  // Each row's life-line segments (width-5 lines), left to right, as "t" (trains) or "f" (frozen).
  std::map<double, std::string> segments;  // y -> colours
  const std::regex line(R"re(<line x1="[^"]*" y1="([^"]*)" x2="[^"]*" y2="[^"]*" )re"
                        R"re(fill="none" stroke="(#[0-9a-f]+)" stroke-width="5"/>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), line); it != std::sregex_iterator(); ++it) {
    segments[std::stod((*it)[1])] += (*it)[2] == "#0072b2" ? "t" : "f";
  }
  std::vector<std::string> rows;
  for (const auto& [y, colours] : segments) rows.push_back(colours);
  ASSERT_EQ(rows.size(), 2u) << svg;
  EXPECT_EQ(rows[0], "tft") << "expert 0: trains, frozen while the grown group trains, trains again";
  EXPECT_EQ(rows[1], "tf") << "expert 4: trains in its phase, frozen in the next";
  EXPECT_NE(svg.find("not frozen; trained in phase 0 · ru, phase 2 · ru"), std::string::npos) << svg;
}

}  // namespace
}  // namespace grove::experiments::report
