// One writer process appending phases and evaluations while four processes run `grove registry` queries on the
// same file for several seconds: every query succeeds, its JSON parses, and "database is locked" never reaches
// a user (WAL readers, busy timeout and retries).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
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

  std::atomic<bool> writing{true};
  testing::ProcessResult writer;
  std::thread writer_thread([&] {
    writer = testing::run_process(GROVE_REGISTRY_WRITER_PATH, {path, "live", "8"});
    writing = false;
  });

  const std::vector<std::string> queries = {"phases", "evals", "forgetting", "runs"};
  std::vector<int> succeeded(queries.size(), 0);
  std::vector<std::string> failures(queries.size());
  std::vector<std::thread> readers;
  for (size_t r = 0; r < queries.size(); ++r) {
    readers.emplace_back([&, r] {
      while (writing) {
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
  writer_thread.join();
  for (auto& reader : readers) reader.join();

  EXPECT_EQ(writer.exit_code, 0) << writer.err;
  EXPECT_EQ(writer.err.find("locked"), std::string::npos) << writer.err;
  int total = 0;
  for (size_t r = 0; r < queries.size(); ++r) {
    EXPECT_TRUE(failures[r].empty()) << queries[r] << ":\n" << failures[r];
    EXPECT_GE(succeeded[r], 2) << queries[r] << ": too few queries overlapped the writer to show anything";
    total += succeeded[r];
  }
  int phases = 0;
  EXPECT_EQ(std::sscanf(writer.out.c_str(), "phases %d", &phases), 1) << writer.out;
  EXPECT_GE(phases, 5) << writer.out;

  auto db = registry::Database::open(path, registry::OpenMode::kReadOnly);
  const auto run = registry::require_run(db, "live");
  EXPECT_EQ(static_cast<int>(registry::list_phases(db, run.id).size()), phases);
  RecordProperty("queries", total);
  RecordProperty("phases_written", phases);
  std::printf("concurrency: %d queries succeeded while the writer recorded %d phases\n", total, phases);
}

}  // namespace
}  // namespace grove
