// report.html as a reader's browser shows it: Debian's headless Chromium renders the page of a realistic
// two-run report, takes a screenshot (which must not be blank), logs no console message or script error (the
// detector is checked on a page that throws), and its DOM has a drawn SVG in every <figure>.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "experiments/report/report_writer.h"
#include "registry/database.h"
#include "tests/experiments/png_probe.h"
#include "tests/experiments/report_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {
namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";

struct BrowserRun {
  testing::ProcessResult process;
  fs::path screenshot;
};

// One headless Chromium run on `page` with a fresh profile, its console logged to stderr; `mode` is
// "--dump-dom" or "--screenshot=PATH".
testing::ProcessResult chromium(const fs::path& work, const fs::path& page, const std::string& mode,
                                const std::string& profile) {
  return testing::run_process(
      "/usr/bin/timeout",
      {"120", kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + (work / profile).string(), "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
       "--window-size=1280,2400", mode, "file://" + page.string()});
}

// Lines where the page spoke: console messages (Chromium logs every console.* call and uncaught exception as
// "...:CONSOLE(n)] ...") and failed loads.
std::vector<std::string> console_messages(const std::string& log) {
  std::vector<std::string> lines;
  const std::regex page_message(R"(:CONSOLE|Uncaught|Failed to load resource|net::ERR_)");
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    if (std::regex_search(line, page_message)) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

class ReportInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " is not installed (Debian package 'chromium')";
    auto db = registry::Database::open(dir_ / "grove.db");
    testing::populate_report_fixture(db);
    experiments::report::ReportRequest request;
    request.runs = {testing::kGroveRun, testing::kFinetuneRun};
    request.out_dir = dir_ / "report";
    experiments::report::write_report(db, request);
  }
  testing::TempDir dir_{"grove-browser"};
};

TEST_F(ReportInBrowser, TheConsoleDetectorCatchesAPageThatThrows) {
  const fs::path bad = testing::write_file(
      dir_ / "bad.html",
      "<!DOCTYPE html><html><body><p>broken</p><script>console.error('bad value');"
      "undefined_function();</script></body></html>");
  const auto result = chromium(dir_.path(), bad, "--dump-dom", "profile-bad");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto messages = console_messages(result.err);
  ASSERT_GE(messages.size(), 2u) << result.err;
  EXPECT_NE(result.err.find("bad value"), std::string::npos);
  EXPECT_NE(result.err.find("undefined_function"), std::string::npos);
}

TEST_F(ReportInBrowser, ScreenshotIsNotBlankAndTheConsoleStaysSilent) {
  const fs::path shot = dir_ / "report.png";
  const auto result = chromium(dir_.path(), dir_ / "report" / "report.html", "--screenshot=" + shot.string(),
                               "profile-shot");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(console_messages(result.err), std::vector<std::string>{}) << result.err;
  ASSERT_TRUE(fs::exists(shot)) << result.err;
  const testing::PngSummary png = testing::probe_png(shot);
  EXPECT_EQ(png.width, 1280u);
  EXPECT_EQ(png.height, 2400u);
  // A page of charts: a good share of non-white pixels and many colours (a blank or unstyled page has neither).
  EXPECT_GT(png.non_white_fraction, 0.08) << png.non_white_fraction;
  EXPECT_GT(png.distinct_colors, 200u) << png.distinct_colors;
}

TEST_F(ReportInBrowser, EveryFigureInTheRenderedDomHoldsADrawnSvg) {
  const auto result = chromium(dir_.path(), dir_ / "report" / "report.html", "--dump-dom", "profile-dom");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(console_messages(result.err), std::vector<std::string>{}) << result.err;
  const std::string& dom = result.out;
  const std::regex drawn("<(rect|path|line|circle|polyline)[ >/]");
  size_t figures = 0;
  for (size_t at = dom.find("<figure"); at != std::string::npos; at = dom.find("<figure", at + 1)) {
    ++figures;
    const size_t end = dom.find("</figure>", at);
    ASSERT_NE(end, std::string::npos);
    const std::string figure = dom.substr(at, end - at);
    const size_t svg = figure.find("<svg");
    ASSERT_NE(svg, std::string::npos) << "figure without svg: " << figure.substr(0, 160);
    const std::string body = figure.substr(svg);
    EXPECT_GE(std::distance(std::sregex_iterator(body.begin(), body.end(), drawn), std::sregex_iterator()), 5)
        << figure.substr(0, 160);
  }
  EXPECT_EQ(figures, 23u) << "the figures report_command_test counts, each drawn once rendered";
}

}  // namespace
}  // namespace grove
