// The progress meter as a user reads it: rate and ETA from the elapsed time, a live line redrawn at most a few
// times a second on a terminal, a log record only every few seconds otherwise, and a final summary.
#include "common/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace grove {
namespace {

struct Captured {
  std::vector<std::string> lines;
  std::vector<bool> live;
};

ProgressOptions options_with(Captured& captured, double& clock, ProgressOptions::Mode mode) {
  ProgressOptions options;
  options.label = "ingest demo";
  options.total = 10'000'000;
  options.unit = ProgressUnit::kBytes;
  options.mode = mode;
  options.clock = [&clock] { return clock; };
  options.sink = [&captured](std::string_view line, bool live) {
    captured.lines.emplace_back(line);
    captured.live.push_back(live);
  };
  return options;
}

TEST(Progress, RateAndEtaFollowTheElapsedTime) {
  Captured captured;
  double clock = 100.0;
  ProgressMeter meter(options_with(captured, clock, ProgressOptions::Mode::kLogLines));
  clock = 102.0;
  meter.update(4'000'000, "1200 docs");
  // 4 MB in 2 s: 2 MB/s, 6 MB left: 3 s.
  EXPECT_EQ(meter.render(), "ingest demo: 4.0 MB / 10.0 MB (40%), 2.0 MB/s, ETA 0:00:03, 1200 docs");
}

TEST(Progress, LogModePrintsOnlyEveryFewSeconds) {
  Captured captured;
  double clock = 0.0;
  ProgressMeter meter(options_with(captured, clock, ProgressOptions::Mode::kLogLines));
  for (int i = 1; i <= 100; ++i) {
    clock = i * 0.1;  // 10 s of updates every 100 ms
    meter.update(static_cast<uint64_t>(i) * 100'000);
  }
  ASSERT_EQ(captured.lines.size(), 2u);  // at 5 s and at 10 s
  EXPECT_FALSE(captured.live[0]);
  EXPECT_NE(captured.lines[0].find("(50%)"), std::string::npos) << captured.lines[0];
}

TEST(Progress, LiveModeRedrawsAtMostFourTimesASecond) {
  Captured captured;
  double clock = 0.0;
  ProgressMeter meter(options_with(captured, clock, ProgressOptions::Mode::kLiveLine));
  for (int i = 1; i <= 1000; ++i) {
    clock = i * 0.001;  // one second of updates every millisecond
    meter.advance(1000);
  }
  EXPECT_EQ(captured.lines.size(), 4u);
  for (bool live : captured.live) EXPECT_TRUE(live);
}

TEST(Progress, FinishPrintsTheSummaryOnceAndStopsUpdates) {
  Captured captured;
  double clock = 0.0;
  ProgressMeter meter(options_with(captured, clock, ProgressOptions::Mode::kLiveLine));
  clock = 65.0;
  meter.update(10'000'000);
  meter.finish("3433 documents, 0 skipped");
  clock = 200.0;
  meter.update(1);
  meter.finish("again");
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(captured.lines.back(), "ingest demo: done in 0:01:05, 3433 documents, 0 skipped");
  EXPECT_FALSE(captured.live.back());
}

TEST(Progress, CountUnitsAndUnknownTotal) {
  Captured captured;
  double clock = 0.0;
  auto options = options_with(captured, clock, ProgressOptions::Mode::kLogLines);
  options.unit = ProgressUnit::kCount;
  options.count_name = "steps";
  options.total = 0;
  ProgressMeter meter(options);
  clock = 4.0;
  meter.update(10);
  EXPECT_EQ(meter.render(), "ingest demo: 10 steps, 2.5 steps/s");
}

TEST(Progress, HumanUnits) {
  EXPECT_EQ(format_bytes(812), "812 B");
  EXPECT_EQ(format_bytes(1'500'000), "1.5 MB");
  EXPECT_EQ(format_bytes(3.2e9), "3.2 GB");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace
}  // namespace grove
