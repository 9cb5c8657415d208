// The scheduled job: an inbox folder feeds new distributions to `grove tick`, which ingests them, runs their
// phase and exits; a second tick has nothing to do; concurrent schedulers are refused with the holder's pid.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/atomic_file.h"
#include "orchestrator/scheduler_lock.h"
#include "registry/schema_v1.h"
#include "tests/registry/raw_sql.h"
#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {

using testing::kTinyRun;
using testing::RunFixture;
namespace fs = std::filesystem;

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
  // Drops an item whose spec is `yaml` (corpus files, if any, are the caller's).
  std::filesystem::path drop_spec(const std::string& item, const std::string& yaml) {
    const auto folder = dir_ / "inbox" / item;
    std::filesystem::create_directories(folder);
    atomic_write_file(folder / "distribution.yaml", yaml);
    return folder;
  }
  // An empty registry, for tests of the inbox alone (no run, so no phase to train).
  void make_registry() const { registry::Database::open(registry_path(), registry::OpenMode::kReadWrite); }
  std::vector<std::string> tick_args() const {
    return {"tick", "--registry", registry_path().string(), "--inbox", (dir_ / "inbox").string()};
  }
  std::string failure_of(const std::string& item) const {
    const auto file = dir_ / "inbox" / ".failed" / item / "error.txt";
    return std::filesystem::exists(file) ? testing::read_file(file) : "(no " + file.string() + ")";
  }
};

// Whether any file under `folder` contains `text`.
bool any_file_contains(const std::filesystem::path& folder, const std::string& text) {
  if (!std::filesystem::exists(folder)) return false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file() && testing::read_file(entry.path()).find(text) != std::string::npos) return true;
  }
  return false;
}

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
    const auto run = registry::require_run(db, kTinyRun);
    const auto phases = registry::list_phases(db, run.id);
    ASSERT_EQ(phases.size(), 2u);
    EXPECT_EQ(phases[1].status, registry::PhaseStatus::kDone);
    EXPECT_EQ(registry::find_distribution(db, phases[1].distribution_id)->name, "de_computer");
  }

  result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("nothing to do"), std::string::npos) << result.out;
}

TEST_F(Scheduler, ASecondSchedulerIsRefusedWithTheHoldersPidAndTheNextTickWorks) {
  // Two ticks started together raced: on a loaded machine the first could finish its phase before the second began,
  // and both succeeded. Here a `grove watch` holds the lock for as long as it lives, so the tick is refused for sure.
  start_base_run();
  std::filesystem::create_directories(dir_ / "watch-inbox");
  testing::BackgroundProcess holder(testing::grove_binary(),
                                    {"watch", "--registry", registry_path().string(), "--inbox",
                                     (dir_ / "watch-inbox").string(), "--interval", "3600"},
                                    (dir_ / "watch").string());
  const auto lock_file = registry_path().string() + ".lock";  // SchedulerLock::lock_path_for
  const std::string record = "pid=" + std::to_string(holder.pid()) + "\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  bool held = false;
  while (!held && holder.running() && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(lock_file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    held = text.starts_with(record) && text.find("command=grove watch\n") != std::string::npos;
    if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!held) {
    holder.signal(SIGKILL);
    FAIL() << "grove watch did not take the lock: " << holder.wait().err;
  }

  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  const auto refused = grove(tick_args());
  EXPECT_EQ(refused.exit_code, orch::kLockBusyExitCode) << refused.err;
  EXPECT_NE(refused.err.find("another scheduler holds the lock"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("pid " + std::to_string(holder.pid())), std::string::npos) << refused.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "inbox" / "2026-12-02-de" / "distribution.yaml")) << "nothing was done";

  holder.signal(SIGTERM);
  const auto stopped = holder.wait();
  EXPECT_EQ(stopped.exit_code, 143) << stopped.err;
  const auto works = grove(tick_args());
  EXPECT_EQ(works.exit_code, 0) << works.err;
  EXPECT_NE(works.out.find("ingested 1 inbox item(s), ran 1 phase(s)"), std::string::npos) << works.out;
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

TEST_F(Scheduler, ARefusedRegistryOfAnyKindLeavesNoLockFileBesideIt) {
  // `grove run` took the scheduler lock before it opened the registry: a folder, random bytes or another program's
  // SQLite database was refused, with a stray "<registry>.lock" left beside it.
  const auto experiment = write_experiment();
  std::filesystem::create_directories(dir_ / "folder.db");
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>((i * 7919 + 13) % 251));
  testing::write_file(dir_ / "noise.db", noise);
  testing::raw_sql(dir_ / "other.db", "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);");
  for (const std::string name : {"folder.db", "noise.db", "other.db"}) {
    const auto registry = (dir_ / name).string();
    for (const auto& args : std::vector<std::vector<std::string>>{{"run", experiment.string(), "--registry", registry},
                                                                  {"tick", "--registry", registry}}) {
      const auto result = grove(args);
      EXPECT_EQ(result.exit_code, 2) << args[0] << " " << name << ": " << result.err;
      EXPECT_NE(result.err.find(registry), std::string::npos) << result.err;
      EXPECT_FALSE(std::filesystem::exists(registry + ".lock")) << args[0] << " " << name;
    }
  }
  EXPECT_EQ(testing::read_file(dir_ / "noise.db"), noise) << "a refused file is left untouched";
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

TEST_F(Scheduler, AnInboxItemMayReadOnlyInsideItsOwnFolderUnlessTheOperatorAllowsMore) {
  // An item's spec could name /etc/shadow, or ../../../../etc/passwd, and the tick copied the file into the
  // registry's documents.txt.
  make_registry();
  const std::string marker = "grove-private-marker-4711";
  std::string text;
  for (int i = 0; i < 40; ++i) text += marker + " line " + std::to_string(i) + "\n%\n";
  const auto secret = testing::write_file(dir_ / "private" / "secret.txt", text);
  const auto spec = [](const std::string& name, const std::string& path) {
    return "name: " + name + "\nsource: fortune\npaths: [\"" + path + "\"]\nholdout: 0.2\n";
  };
  drop_spec("2026-12-01-absolute", spec("absolute", secret.string()));
  drop_spec("2026-12-02-relative", spec("relative", "../../private/secret.txt"));
  drop_spec("2026-12-03-glob", spec("glob", "../../private/*.txt"));
  drop_spec("2026-12-04-system", spec("system", "../../../../../../../../../../etc/passwd"));
  const auto link_item = drop_spec("2026-12-05-link", spec("link", "corpus.txt"));
  std::filesystem::create_symlink(secret, link_item / "corpus.txt");
  const auto folder_link_item = drop_spec("2026-12-06-folder-link", spec("folder_link", "corpus"));
  std::filesystem::create_directory_symlink(dir_ / "private", folder_link_item / "corpus");
  // A spec that is itself a link out of the item (its own relative path would then be inside the target's folder).
  testing::write_file(dir_ / "private" / "spec.yaml", spec("spec_link", "secret.txt"));
  std::filesystem::create_directories(dir_ / "inbox" / "2026-12-07-spec-link");
  std::filesystem::create_symlink(dir_ / "private" / "spec.yaml",
                                  dir_ / "inbox" / "2026-12-07-spec-link" / "distribution.yaml");

  const std::vector<std::string> refused = {"2026-12-01-absolute", "2026-12-02-relative", "2026-12-03-glob",
                                            "2026-12-04-system",   "2026-12-05-link",     "2026-12-06-folder-link",
                                            "2026-12-07-spec-link"};
  auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.out.find("7 inbox item(s) failed"), std::string::npos) << result.out << result.err;
  for (const auto& item : refused) {
    EXPECT_NE(failure_of(item).find("outside"), std::string::npos) << item << ": " << failure_of(item);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "inbox" / item)) << item;
  }
  {
    auto db = open_registry();
    EXPECT_TRUE(registry::list_distributions(db, true).empty()) << "nothing registered";
  }
  EXPECT_FALSE(any_file_contains(dir_ / "grove-data", marker)) << "the private text was copied";
  EXPECT_FALSE(any_file_contains(dir_ / "grove-data", "root:x:0:0")) << "/etc/passwd was copied";

  // The operator allows the folder explicitly: the same spec is taken.
  drop_spec("2026-12-08-allowed", spec("allowed", secret.string()));
  auto args = tick_args();
  args.insert(args.end(), {"--allow-root", (dir_ / "private").string()});
  result = grove(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s)"), std::string::npos) << result.out;
  auto db = open_registry();
  EXPECT_TRUE(registry::find_current_distribution(db, "allowed").has_value());
  args.back() = (dir_ / "missing").string();
  EXPECT_EQ(grove(args).exit_code, 2) << "an --allow-root that is no folder is refused";
}

TEST_F(Scheduler, AnItemFolderThatIsASymlinkIsFollowedInsideTheInboxAndRefusedOutsideIt) {
  // An item folder that was a symlink was taken wherever it led (only its files' paths were checked, against the
  // link's own path), and one that led to a folder inside the inbox had every file refused as outside it.
  make_registry();
  const auto inbox = dir_ / "inbox";
  const auto stage = [&](const fs::path& folder, const std::string& name, const std::string& corpus_path) {
    fs::create_directories(folder);
    fs::copy_file("/usr/share/games/fortunes/de/computer", folder / "corpus.txt");
    atomic_write_file(folder / "distribution.yaml",
                      "name: " + name + "\nsource: fortune\npaths: [" + corpus_path + "]\nholdout: 0.1\n");
  };
  // Staged in a hidden folder of the inbox (not an item itself), then linked in: followed.
  stage(inbox / ".staging" / "de", "linked_inside", "corpus.txt");
  fs::create_directory_symlink(".staging/de", inbox / "2026-12-01-inside");
  // A link to a folder outside the inbox: refused, its folder left as it was.
  stage(dir_ / "elsewhere" / "de", "linked_outside", "corpus.txt");
  fs::create_directory_symlink(dir_ / "elsewhere" / "de", inbox / "2026-12-02-outside");
  // A link to the inbox itself (its folder would hold every other item).
  fs::create_directory_symlink(".", inbox / "2026-12-03-inbox");
  // A link inside the inbox whose spec names a file outside the folder the link resolves to (another staged folder).
  stage(inbox / ".staging" / "sneaky", "sneaky", "\"" + (inbox / ".staging" / "de" / "corpus.txt").string() + "\"");
  fs::create_directory_symlink(inbox / ".staging" / "sneaky", inbox / "2026-12-04-sneaky");

  const auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s), ran 0 phase(s), 3 item(s) failed"), std::string::npos)
      << result.out << result.err;
  const auto link_failure = [&](const std::string& item) {  // beside the link, not written through it
    const auto file = inbox / ".failed" / (item + ".error.txt");
    return fs::exists(file) ? testing::read_file(file) : "(no " + file.string() + ")";
  };
  EXPECT_NE(link_failure("2026-12-02-outside").find("a symlink to " + (dir_ / "elsewhere" / "de").string() +
                                                    ", outside the inbox"),
            std::string::npos)
      << link_failure("2026-12-02-outside");
  EXPECT_NE(link_failure("2026-12-03-inbox").find("outside the inbox"), std::string::npos)
      << link_failure("2026-12-03-inbox");
  EXPECT_NE(link_failure("2026-12-04-sneaky").find("outside the folders this ingest may read"), std::string::npos)
      << link_failure("2026-12-04-sneaky");
  EXPECT_TRUE(fs::is_symlink(inbox / ".processed" / "2026-12-01-inside")) << "the link is archived, not its folder";
  for (const auto& item : {"2026-12-01-inside", "2026-12-02-outside", "2026-12-03-inbox", "2026-12-04-sneaky"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(inbox / item))) << item << " is still in the inbox";
  }
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere" / "de" / "error.txt")) << "nothing written into the folder linked to";
  EXPECT_TRUE(fs::exists(dir_ / "elsewhere" / "de" / "distribution.yaml"));
  auto db = open_registry();
  EXPECT_TRUE(registry::find_current_distribution(db, "linked_inside").has_value());
  for (const auto* name : {"linked_outside", "sneaky"}) {
    EXPECT_FALSE(registry::find_current_distribution(db, name).has_value()) << name;
  }
}

TEST_F(Scheduler, SigtermWhileAnInboxItemIsIngestedStopsTheTickAndLeavesTheItemForTheNext) {
  // The tick went on ingesting to the end, and acted on the signal only once a phase trained.
  make_registry();
  drop("2026-12-01-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  testing::ProcessOptions options;
  options.env["GROVE_TEST_SIGTERM_AT"] = "ingest:de_computer";
  auto result = testing::run_grove(tick_args(), options);
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("ingesting distribution 'de_computer' stopped by SIGTERM"), std::string::npos)
      << result.err;
  EXPECT_TRUE(fs::exists(dir_ / "inbox" / "2026-12-01-de" / "distribution.yaml")) << "still waiting in the inbox";
  EXPECT_FALSE(fs::exists(dir_ / "inbox" / ".failed"));
  EXPECT_FALSE(fs::exists(dir_ / "inbox" / ".processed"));
  {
    auto db = open_registry();
    EXPECT_TRUE(registry::list_distributions(db, true).empty()) << "nothing of it registered";
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "grove-data" / "tmp")) << "no temporary left";
  result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s)"), std::string::npos) << result.out;
}

TEST_F(Scheduler, ASpecThatIsAFolderIsSetAsideWithTheReason) {
  // A distribution.yaml that was a folder kept its item in the inbox for ever, and nothing said why.
  make_registry();
  std::filesystem::create_directories(dir_ / "inbox" / "2026-12-01-folder" / "distribution.yaml");
  const auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(failure_of("2026-12-01-folder").find("distribution.yaml: is a folder"), std::string::npos)
      << failure_of("2026-12-01-folder");
  EXPECT_NE(result.err.find("is a folder"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "inbox" / "2026-12-01-folder"));
}

TEST_F(Scheduler, AnItemTooSmallForAHoldoutIsRefusedAndLaterTicksStillRun) {
  // A one-document distribution was registered and given a phase that could never be evaluated: every later tick
  // exited 2 with the same message.
  start_base_run();
  const auto folder =
      drop_spec("2026-12-01-one", "name: one_doc\nsource: fortune\npaths: [corpus.txt]\nholdout: 0.1\n");
  testing::write_file(folder / "corpus.txt", "The only document of this distribution.\n");
  drop("2026-12-02-de", "de_computer", "/usr/share/games/fortunes/de/computer");
  auto result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.out.find("ingested 1 inbox item(s), ran 1 phase(s), 1 item(s) failed"), std::string::npos)
      << result.out << result.err;
  EXPECT_NE(failure_of("2026-12-01-one").find("a phase needs at least one document"), std::string::npos)
      << failure_of("2026-12-01-one");
  {
    auto db = open_registry();
    EXPECT_FALSE(registry::find_current_distribution(db, "one_doc").has_value()) << "nothing registered";
  }
  result = grove(tick_args());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("nothing to do"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace grove
