// The scheduled job: an inbox folder feeds new distributions to `grove tick`, which ingests them, runs their
// phase and exits; a second tick has nothing to do; concurrent schedulers are refused with the holder's pid.
#include <gtest/gtest.h>

#include "common/atomic_file.h"
#include "orchestrator/scheduler_lock.h"
#include "registry/schema_v1.h"
#include "tests/registry/raw_sql.h"
#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::RunFixture;

class Scheduler : public RunFixture {
 protected:
  // A base-only run (the first distribution), so the timeline grows through the inbox.
  void start_base_run() {
    const auto experiment = write_experiment();
    const auto result = grove({"run", experiment.string(), "--set", "distributions=[{name: en_science, source: "
                                                                    "fortune, paths: [/usr/share/games/fortunes/science], holdout: 0.1}]",
                               "--set", "tokenizer.train_on=[en_science]"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  // Drops a distribution folder into the inbox the way producers should: corpus first, spec last and atomically.
  void drop(const std::string& item, const std::string& name, const std::string& corpus) {
    const auto folder = dir_ / "inbox" / item;
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(corpus, folder / "corpus.txt");
    atomic_write_file(folder / "distribution.yaml",
                      "name: " + name + "\nsource: fortune\npaths: [corpus.txt]\nholdout: 0.1\n");
  }
  std::vector<std::string> tick_args() const {
    return {"tick", "--registry", registry_path().string(), "--inbox", (dir_ / "inbox").string()};
  }
};

TEST_F(Scheduler, TickIngestsAnInboxItemRunsItsPhaseAndASecondTickDoesNothing) {
  start_base_run();
  std::filesystem::create_directories(dir_ / "inbox" / "2026-12-01-not-ready");  // no spec yet: not ready
  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");

  auto result = grove(tick_args());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s), ran 1 phase(s)"), std::string::npos) << result.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / ".processed" / "2026-12-02-de" / "distribution.yaml"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / "2026-12-01-not-ready")) << "an unready item stays";
  {
    auto db = open_registry();
    const auto run = registry::require_run(db, "tiny");
    const auto phases = registry::list_phases(db, run.id);
    ASSERT_EQ(phases.size(), 2u);
    EXPECT_EQ(phases[1].status, registry::PhaseStatus::kDone);
    EXPECT_EQ(registry::find_distribution(db, phases[1].distribution_id)->name, "de_computer");
  }

  result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("nothing to do"), std::string::npos) << result.out;
}

TEST_F(Scheduler, TwoConcurrentTicksOneWorksOneReportsTheLockHolder) {
  start_base_run();
  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  testing::BackgroundProcess first(testing::grove_binary(), tick_args(), (dir_ / "tick1").string());
  testing::BackgroundProcess second(testing::grove_binary(), tick_args(), (dir_ / "tick2").string());
  const auto a = first.wait();
  const auto b = second.wait();
  const bool a_won = a.exit_code == 0;
  const auto& winner = a_won ? a : b;
  const auto& loser = a_won ? b : a;
  EXPECT_EQ(winner.exit_code, 0) << winner.err;
  EXPECT_NE(winner.out.find("ran 1 phase(s)"), std::string::npos) << winner.out;
  EXPECT_EQ(loser.exit_code, orch::kLockBusyExitCode) << loser.err;
  EXPECT_NE(loser.err.find("another scheduler holds the lock"), std::string::npos) << loser.err;
  EXPECT_NE(loser.err.find("pid " + std::to_string(a_won ? first.pid() : second.pid())), std::string::npos)
      << loser.err;
}

TEST_F(Scheduler, ABadInboxItemIsSetAsideWithItsErrorAndTheTickSaysSo) {
  start_base_run();
  const auto folder = dir_ / "inbox" / "broken";
  std::filesystem::create_directories(folder);
  atomic_write_file(folder / "distribution.yaml", "name: broken\nsource: fortune\npaths: [missing.txt]\n");
  const auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("missing.txt"), std::string::npos) << result.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / ".failed" / "broken" / "error.txt"));
  auto db = open_registry();
  EXPECT_FALSE(registry::find_current_distribution(db, "broken").has_value()) << "nothing registered";
}

TEST_F(Scheduler, NewContentUnderAnExistingNameIsSetAsideWithAdviceTheInboxCanFollow) {
  // The message said "pass --replace", which no inbox item can do.
  start_base_run();
  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  ASSERT_EQ(grove(tick_args()).exit_code, 0);
  drop("2026-12-03-de", "de_computer", "/usr/share/games/fortunes/de/anekdoten");
  const auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("an inbox item does not replace a distribution"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("pass --replace"), std::string::npos) << result.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / ".failed" / "2026-12-03-de" / "error.txt"));
}

TEST_F(Scheduler, AFileThatIsNoRegistryIsRefusedWithoutALockFileBesideIt) {
  const auto text = testing::write_file(dir_ / "notes.db", "not a registry\n");
  const auto result = grove({"tick", "--registry", text.string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("not a SQLite database"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "notes.db.lock"));
  EXPECT_EQ(testing::read_file(text), "not a registry\n");
}

TEST_F(Scheduler, AnOlderRegistryIsMigratedNotRefused) {
  // The check above first opened the registry read-only, which refuses a registry that needs migrating: after an
  // upgrade every scheduled tick failed.
  const auto path = dir_ / "v1.db";
  testing::raw_sql(path, std::string(registry::kSchemaV1) + "PRAGMA application_id = 1196576598; PRAGMA user_version = 1;");
  const auto result = grove({"tick", "--registry", path.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("nothing to do"), std::string::npos) << result.out;
  EXPECT_NO_THROW(registry::Database::open(path, registry::OpenMode::kReadOnly));  // migrated: read-only opens it
}

TEST_F(Scheduler, AnItemWhosePathTheSystemRefusesIsSetAsideAndTheNextOneStillRuns) {
  // A name longer than the system allows made std::filesystem throw its own error, not Grove's bad-input one; the
  // item then stayed in the inbox and stopped this and every later tick before the good item behind it.
  start_base_run();
  const auto folder = dir_ / "inbox" / "2026-12-01-long";
  std::filesystem::create_directories(folder);
  atomic_write_file(folder / "distribution.yaml",
                    "name: long\nsource: text\npaths: [" + std::string(5000, 'n') + "]\n");
  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  const auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s), ran 1 phase(s), 1 item(s) failed"), std::string::npos)
      << result.out << result.err;
  const auto error_file = dir_ / "inbox" / ".failed" / "2026-12-01-long" / "error.txt";
  ASSERT_TRUE(std::filesystem::exists(error_file));
  EXPECT_NE(testing::read_file(error_file).find("File name too long"), std::string::npos)
      << testing::read_file(error_file);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / ".processed" / "2026-12-02-de"));
}

}  // namespace
}  // namespace grove
