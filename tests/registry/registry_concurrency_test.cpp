// One writer process appending phases and evaluations while four processes run `grove registry` queries on the
// same file for several seconds: every query succeeds, its JSON parses, and "database is locked" never reaches
// a user (WAL readers, busy timeout and retries).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

#include "registry/registry.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove {
namespace {

TEST(RegistryConcurrency, FourReadersAndOneWriterNeverSeeALockedDatabase) {
  testing::TempDir dir("grove-registry-concurrency");
  const std::string path = (dir / "grove.db").string();
  {
    auto db = registry::Database::open(path);
    registry::create_run(db, {"live", "grove", "", 1, std::nullopt, std::nullopt});
    registry::insert_distribution(db, {"en", "", "fp-en", "text", 1, 1, 0, 0, "/s/en"});
    registry::insert_distribution(db, {"de", "", "fp-de", "text", 1, 1, 0, 0, "/s/de"});
  }

  // The writer runs until every reader has finished its queries (the stop file), so each query overlaps writes
  // however slowly the grove binary starts on a loaded machine.
  const std::string stop_file = (dir / "stop").string();
  testing::ProcessResult writer;
  std::thread writer_thread(
      [&] { writer = testing::run_process(GROVE_REGISTRY_WRITER_PATH, {path, "live", "300", stop_file}); });
  {
    auto db = registry::Database::open(path, registry::OpenMode::kReadOnly);
    const auto run = registry::require_run(db, "live");
    while (registry::list_phases(db, run.id).empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  constexpr int kQueriesPerReader = 3;

  const std::vector<std::string> queries = {"phases", "evals", "forgetting", "runs"};
  std::vector<int> succeeded(queries.size(), 0);
  std::vector<std::string> failures(queries.size());
  std::vector<std::thread> readers;
  for (size_t r = 0; r < queries.size(); ++r) {
    readers.emplace_back([&, r] {
      for (int q = 0; q < kQueriesPerReader; ++q) {
        const auto result =
            testing::run_grove({"registry", queries[r], "--run", "live", "--format", "json", "--registry", path});
        const bool parses = nlohmann::json::accept(result.out);
        if (result.exit_code != 0 || !parses || result.err.find("locked") != std::string::npos) {
          failures[r] += "exit " + std::to_string(result.exit_code) + ": " + result.err + "\n";
        } else {
          ++succeeded[r];
        }
      }
    });
  }
  for (auto& reader : readers) reader.join();
  testing::write_file(stop_file, "");
  writer_thread.join();

  EXPECT_EQ(writer.exit_code, 0) << writer.err;
  EXPECT_EQ(writer.err.find("locked"), std::string::npos) << writer.err;
  int total = 0;
  for (size_t r = 0; r < queries.size(); ++r) {
    EXPECT_TRUE(failures[r].empty()) << queries[r] << ":\n" << failures[r];
    EXPECT_EQ(succeeded[r], kQueriesPerReader) << queries[r];
    total += succeeded[r];
  }
  int phases = 0;
  EXPECT_EQ(std::sscanf(writer.out.c_str(), "phases %d", &phases), 1) << writer.out;
  EXPECT_NE(writer.out.find("stopped"), std::string::npos) << "the writer must outlast the readers: " << writer.out;
  EXPECT_GE(phases, 2) << writer.out;

  auto db = registry::Database::open(path, registry::OpenMode::kReadOnly);
  const auto run = registry::require_run(db, "live");
  EXPECT_EQ(static_cast<int>(registry::list_phases(db, run.id).size()), phases);
  RecordProperty("queries", total);
  RecordProperty("phases_written", phases);
  std::printf("concurrency: %d queries succeeded while the writer recorded %d phases\n", total, phases);
}

}  // namespace
}  // namespace grove
