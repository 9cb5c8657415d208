#include "common/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/errors.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {

// Captures what the logger writes to fd 2 while alive.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& path) : path_(path) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    FILE* file = std::fopen(path.c_str(), "w");
    ::dup2(::fileno(file), STDERR_FILENO);
    std::fclose(file);
  }
  std::string finish() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    return testing::read_file(path_);
  }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
};

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    log::set_level(log::Level::kInfo);
    log::set_format(log::Format::kText);
  }
  testing::TempDir dir_;
};

TEST_F(LogTest, TextRecordsCarryTimestampLevelAndMessage) {
  StderrCapture capture(dir_ / "err.txt");
  log::info("ingested {} documents", 42);
  const std::string text = capture.finish();
  // 2026-11-29T08:30:00.123Z info  ingested 42 documents
  ASSERT_GE(text.size(), 25u);
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[10], 'T');
  EXPECT_EQ(text[23], 'Z');
  EXPECT_NE(text.find(" info  ingested 42 documents\n"), std::string::npos) << text;
}

TEST_F(LogTest, LevelsBelowTheThresholdAreDropped) {
  log::set_level(log::Level::kWarn);
  StderrCapture capture(dir_ / "err.txt");
  log::info("hidden");
  log::debug("hidden too");
  log::warn("shown");
  const std::string text = capture.finish();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("shown"), std::string::npos);
}

TEST_F(LogTest, JsonRecordsParseAndEscapeSpecialCharacters) {
  log::set_format(log::Format::kJson);
  StderrCapture capture(dir_ / "err.txt");
  log::error("name \"quoted\"; back\\slash\nnew line \x01 ünïcode");
  log::info("second");
  const std::string text = capture.finish();
  std::istringstream lines(text);
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line)) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["level"], "error");
  EXPECT_EQ(records[0]["msg"], "name \"quoted\"; back\\slash\nnew line \x01 ünïcode");
  EXPECT_EQ(records[1]["msg"], "second");
  EXPECT_TRUE(records[0]["ts"].get<std::string>().ends_with("Z"));
}

TEST_F(LogTest, ParsingRejectsUnknownNamesWithTheValidOnes) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::kDebug);
  EXPECT_EQ(log::parse_format("json"), log::Format::kJson);
  try {
    log::parse_format("xml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'xml'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("text or json"), std::string::npos);
  }
}

}  // namespace
}  // namespace grove
