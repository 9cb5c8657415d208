// `grove ingest` and `grove tokenizer` as a user runs them, on small corpora made in a temporary folder: a second
// identical ingest does nothing, tokenizing is deterministic, changed content needs --replace and keeps the old
// version, and every kind of bad input exits 2 naming the file while registering nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "common/errors.h"
#include "data_streams/data_layout.h"
#include "data_streams/shard_reader.h"
#include "data_streams/tokenize.h"
#include "data_streams/tokenizer_registry.h"
#include "registry/distributions.h"
#include "registry/shards.h"
#include "registry/tokenizers.h"
#include "tests/data_streams/test_corpora.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

namespace fs = std::filesystem;
using testing::run_grove;
using testing::TempDir;
using testing::write_file;

// What must not change when nothing should happen: every registry row of ours, every data file with size and mtime
// (the tmp/ scratch folder aside).
std::string snapshot(const fs::path& registry_path) {
  std::string out;
  auto db = registry::Database::open(registry_path, registry::OpenMode::kReadOnly);
  for (const auto& d : registry::list_distributions(db, true)) {
    out += fmt::format("dist {} v{} {} {} {} {} {}\n", d.name, d.version, d.fingerprint, d.n_docs.value_or(-1),
                       d.n_tokens_train.value_or(-1), d.ingested_at, d.retired_at.value_or("-"));
  }
  for (const auto& s : registry::list_shards(db)) {
    out += fmt::format("shard {} {} {} {}\n", s.path, s.xxh3, s.n_tokens, s.created_at);
  }
  for (const auto& t : registry::list_tokenizers(db)) out += fmt::format("tok {} {}\n", t.hash, t.created_at);
  const fs::path data = registry_path.parent_path() / "grove-data";
  if (fs::exists(data)) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(data)) {
      if (entry.path().string().starts_with((data / "tmp").string())) continue;  // scratch space
      const auto time = entry.last_write_time().time_since_epoch().count();
      files.push_back(fmt::format("{} {} {}", entry.path().string(),
                                  entry.is_regular_file() ? entry.file_size() : 0, time));
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) out += f + "\n";
  }
  return out;
}

size_t distribution_count(const fs::path& registry_path) {
  if (!fs::exists(registry_path)) return 0;
  auto db = registry::Database::open(registry_path, registry::OpenMode::kReadOnly);
  return registry::list_distributions(db, true).size();
}

struct Workspace {
  TempDir dir{"grove-ingest"};
  fs::path registry() const { return dir / "reg/grove.db"; }
  testing::ProcessResult grove(std::vector<std::string> args) const {
    fs::create_directories(dir / "reg");
    args.push_back("--registry");
    args.push_back(registry().string());
    return run_grove(args);
  }
  // A fortune corpus of synthetic documents plus a real Debian fortune file (enough text for a tokenizer).
  fs::path corpus(const std::string& name, size_t docs, uint64_t seed) const {
    const fs::path folder = dir / name;
    write_file(folder / "synthetic", testing::as_fortune_file(testing::synthetic_documents(docs, seed)));
    fs::copy_file(testing::debian_fortune("computers"), folder / "computers", fs::copy_options::overwrite_existing);
    return folder;
  }
};

TEST(IngestCli, SecondIdenticalIngestReportsUnchangedAndTouchesNothing) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 300, 1);
  const auto first = ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("notes version 1 (ingested)"), std::string::npos) << first.out;
  const std::string before = snapshot(ws.registry());
  const auto second = ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("notes version 1 (unchanged)"), std::string::npos) << second.out;
  EXPECT_EQ(snapshot(ws.registry()), before);
  EXPECT_TRUE(fs::is_empty(ws.registry().parent_path() / "grove-data/tmp"));
}

TEST(IngestCli, TokenizingIsDeterministicAndLaterIngestsTokenizeRightAway) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace a, b;
  for (const Workspace* ws : {&a, &b}) {
    const fs::path corpus = ws->corpus("c", 200, 2);
    ASSERT_EQ(ws->grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()}).exit_code, 0);
    const auto trained = ws->grove({"tokenizer", "train", "--on", "notes", "--vocab-size", "600", "--tokenize-all"});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    EXPECT_NE(trained.out.find("notes:"), std::string::npos) << trained.out;
  }
  auto db_a = registry::Database::open(a.registry(), registry::OpenMode::kReadOnly);
  auto db_b = registry::Database::open(b.registry(), registry::OpenMode::kReadOnly);
  const auto dist_a = registry::find_current_distribution(db_a, "notes");
  const auto dist_b = registry::find_current_distribution(db_b, "notes");
  ASSERT_TRUE(dist_a && dist_b);
  EXPECT_EQ(dist_a->fingerprint, dist_b->fingerprint);
  EXPECT_GT(dist_a->n_tokens_train.value_or(0), 0);
  const auto shards_a = registry::list_shards(db_a, dist_a->id);
  const auto shards_b = registry::list_shards(db_b, dist_b->id);
  ASSERT_EQ(shards_a.size(), 2u);
  ASSERT_EQ(shards_b.size(), 2u);
  const DataLayout layout_a(a.registry().parent_path()), layout_b(b.registry().parent_path());
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(shards_a[i].xxh3, shards_b[i].xxh3);
    for (const char* ext : {".tokens", ".index"}) {
      fs::path pa = layout_a.resolve(shards_a[i].path), pb = layout_b.resolve(shards_b[i].path);
      pa.replace_extension(ext);
      pb.replace_extension(ext);
      EXPECT_EQ(testing::read_file(pa), testing::read_file(pb)) << pa;
    }
  }
  // A distribution ingested after the tokenizer exists is tokenized right away.
  const fs::path more = a.corpus("more", 150, 3);
  const auto later = a.grove({"ingest", "more", "--source", "fortune", "--path", more.string()});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_NE(later.out.find("tokens per byte"), std::string::npos) << later.out;
  const auto list = a.grove({"tokenizer", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"trained_on\""), std::string::npos) << list.out;
}

TEST(IngestCli, EnsureTokenizedIsIdempotentAndShardChecksumsAreVerified) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 100, 4);
  ASSERT_EQ(ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()}).exit_code, 0);
  ASSERT_EQ(ws.grove({"tokenizer", "train", "--on", "notes", "--vocab-size", "500", "--tokenize-all"}).exit_code, 0);
  auto db = registry::Database::open(ws.registry());
  const auto dist = registry::find_current_distribution(db, "notes");
  const auto tokenizer = newest_tokenizer(db);
  ASSERT_TRUE(dist && tokenizer);
  const std::string before = snapshot(ws.registry());
  const TokenizeReport again = ensure_tokenized(db, dist->id, tokenizer->id, 0, ProgressOptions::Mode::kSilent);
  EXPECT_TRUE(again.already_done);
  EXPECT_EQ(snapshot(ws.registry()), before);
  EXPECT_GT(open_registered_shard(db, dist->id, tokenizer->id, registry::Split::kTrain)->tokens(), 0u);
  const auto shard = registry::find_shard(db, dist->id, tokenizer->id, registry::Split::kTrain);
  ASSERT_TRUE(shard);
  fs::path tokens = DataLayout(ws.registry().parent_path()).resolve(shard->path);
  tokens.replace_extension(".tokens");
  std::string bytes = testing::read_file(tokens);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x11);
  fs::permissions(tokens, fs::perms::owner_write, fs::perm_options::add);
  write_file(tokens, bytes);
  try {
    open_registered_shard(db, dist->id, tokenizer->id, registry::Split::kTrain);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(tokens.string() + ": checksum mismatch"), std::string::npos) << e.what();
  }
}

TEST(IngestCli, ChangedContentNeedsReplaceWhichKeepsTheOldVersion) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 100, 5);
  ASSERT_EQ(ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()}).exit_code, 0);
  write_file(corpus / "extra", testing::as_fortune_file(testing::synthetic_documents(20, 6)));
  const std::string before = snapshot(ws.registry());
  const auto refused = ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--replace"), std::string::npos) << refused.err;
  EXPECT_EQ(snapshot(ws.registry()), before);
  const auto replaced = ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string(), "--replace"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_NE(replaced.out.find("notes version 2 (replaced)"), std::string::npos) << replaced.out;
  auto db = registry::Database::open(ws.registry(), registry::OpenMode::kReadOnly);
  const auto versions = registry::list_distributions(db, true);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_FALSE(versions[0].current());
  EXPECT_TRUE(versions[1].current());
  const DataLayout layout(ws.registry().parent_path());
  EXPECT_TRUE(fs::exists(layout.resolve(versions[0].shard_dir) / "documents.txt"));  // old version's files stay
  EXPECT_NE(versions[0].shard_dir, versions[1].shard_dir);
}

TEST(IngestCli, AFileNameExcludeLeavesThoseFilesOutInEveryFolder) {
  // --exclude '*.md' was made absolute against the working folder, so it matched nothing and excluded nothing.
  Workspace ws;
  write_file(ws.dir / "notes/a.md", "A markdown note.\n");
  write_file(ws.dir / "notes/sub/b.md", "Another markdown note.\n");
  write_file(ws.dir / "notes/sub/keep.txt", "A plain note.\n");
  const auto result = ws.grove({"ingest", "notes", "--source", "text", "--path", (ws.dir / "notes").string(),
                                "--exclude", "*.md", "--no-tokenize"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("documents: 1 "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("in 1 files"), std::string::npos) << result.out;
}

TEST(IngestCli, ADamagedTokenizerModelStopsAnIngestBeforeItRegistersAnything) {
  // The model was loaded only after the new distribution was committed: exit 2, yet registered.
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  ASSERT_EQ(ws.grove({"ingest", "notes", "--source", "fortune", "--path", ws.corpus("c", 100, 4).string()}).exit_code,
            0);
  ASSERT_EQ(ws.grove({"tokenizer", "train", "--on", "notes", "--vocab-size", "500"}).exit_code, 0);
  auto tokenizer_model = [&] {
    auto db = registry::Database::open(ws.registry(), registry::OpenMode::kReadOnly);
    return DataLayout(ws.registry().parent_path()).resolve(newest_tokenizer(db)->model_path);
  }();
  write_file(tokenizer_model, "garbage\n");
  const std::string before = snapshot(ws.registry());
  const auto result = ws.grove({"ingest", "more", "--source", "fortune", "--path", ws.corpus("d", 50, 5).string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(tokenizer_model.string()), std::string::npos) << result.err;
  EXPECT_EQ(snapshot(ws.registry()), before) << "nothing registered, nothing written";
}

TEST(IngestCli, AFolderLeftInTmpByAKilledIngestIsRemovedByTheNextOne) {
  // A killed ingest runs no destructor, so its copy of the corpus stayed in grove-data/tmp/ for good.
  Workspace ws;
  const fs::path tmp = ws.registry().parent_path() / "grove-data" / "tmp";
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const auto left = [&](const std::string& name, const std::string& owner) {
    write_file(tmp / name / "documents.txt", "a partial copy\n");
    write_file(tmp / (name + ".owner"), owner);
  };
  // What decides is the lock on an owner file, which a live owner holds: the pid is only for the message.
  left("ingest-killed-1-aa", fmt::format("{} 4242\n", host));                         // this host, not locked
  left("ingest-running-2-bb", fmt::format("{} 4243\n", host));                        // its owner file locked:
  const int running = ::open((tmp / "ingest-running-2-bb.owner").c_str(), O_RDONLY);   // a process at work
  ASSERT_GE(running, 0);
  ASSERT_EQ(::flock(running, LOCK_EX), 0);
  left("ingest-elsewhere-3-cc", fmt::format("{}-other 4244\n", host));               // another host's
  write_file(tmp / "no-owner" / "documents.txt", "kept\n");
  write_file(ws.dir / "notes" / "a.txt", "A first note.\n\nA second note.\n");
  const auto result = ws.grove({"ingest", "notes", "--source", "text", "--path", (ws.dir / "notes").string(),
                                "--no-tokenize"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("left by process 4242 that stopped"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("tokens: not tokenized by this ingest (not asked to)"), std::string::npos)
      << "not 'no tokenizer in the registry yet':\n" << result.out;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(tmp)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"ingest-elsewhere-3-cc", "ingest-elsewhere-3-cc.owner",
                                             "ingest-running-2-bb", "ingest-running-2-bb.owner", "no-owner"}))
      << "the killed ingest's folder and owner file go, and the finished ingest leaves nothing of its own";
  ::close(running);
}

TEST(IngestCli, BadInputExitsTwoNamingTheFileAndRegistersNothing) {
  Workspace ws;
  const fs::path d = ws.dir.path();
  const std::string text = testing::as_fortune_file(testing::synthetic_documents(500, 7));
  const std::string gz = testing::gzip_bytes(text), zst = testing::zstd_bytes(text);
  write_file(d / "gz/part.gz", gz.substr(0, gz.size() - 40));
  write_file(d / "zst/part.zst", zst.substr(0, zst.size() - 40));
  write_file(d / "bin/ok.txt", "fine text\n");
  write_file(d / "bin/blob.bin", std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16));
  write_file(d / "empty/a.txt", "\n \n");
  write_file(d / "json/d.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"}\n{\"text\" \"three\"}\n");
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases{
      {{"--source", "text", "--path", (d / "missing").string()}, (d / "missing").string() + ": no such file"},
      {{"--source", "text", "--path", (d / "empty").string()}, "empty corpus"},
      {{"--source", "text", "--path", (d / "bin").string()}, (d / "bin/blob.bin").string() + ": looks like a binary"},
      {{"--source", "fortune", "--path", (d / "gz").string()}, (d / "gz/part.gz").string() + ": truncated gzip"},
      {{"--source", "fortune", "--path", (d / "zst").string()}, (d / "zst/part.zst").string() + ": truncated zstd"},
      {{"--source", "jsonl", "--path", (d / "json").string()}, (d / "json/d.jsonl").string() + ":3: malformed JSON"},
      {{"--source", "text", "--path", (d / "bin/ok.txt").string(), "--holdout", "0.9"}, "holdout 0.9"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"ingest", "bad"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto result = ws.grove(args);
    EXPECT_EQ(result.exit_code, 2) << c.expected << "\n" << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_EQ(distribution_count(ws.registry()), 0u) << c.expected;
  }
  const fs::path data = ws.registry().parent_path() / "grove-data";
  EXPECT_FALSE(fs::exists(data / "distributions")) << "a failed ingest left files behind";
  if (fs::exists(data / "tmp")) {
    EXPECT_TRUE(fs::is_empty(data / "tmp"));
  }
}

TEST(IngestCli, AnEmptyOrBinaryFileOfTheLastSpecIsRefusedBeforeTheFirstIsIngested) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path good = ws.corpus("good", 50, 3);
  write_file(ws.dir / "good.yaml", fmt::format("name: good\nsource: fortune\npaths: [{}]\n", good.string()));
  write_file(ws.dir / "bad/empty.txt", "");
  write_file(ws.dir / "bad/blob.txt", std::string("\177ELF\2\1\1\0\0\0\0", 11) + std::string(2000, '\1'));
  const std::vector<std::pair<std::string, std::string>> cases{
      {"empty.txt", "distribution 'bad': empty corpus: its only file is empty or blank"},
      {"blob.txt", "distribution 'bad': " + (ws.dir / "bad/blob.txt").string() + ": looks like a binary file"},
  };
  for (const auto& [file, expected] : cases) {
    write_file(ws.dir / "bad.yaml",
               fmt::format("name: bad\nsource: text\npaths: [{}]\n", (ws.dir / "bad" / file).string()));
    const auto result = ws.grove({"ingest", "--spec", (ws.dir / "good.yaml").string(), "--spec",
                                  (ws.dir / "bad.yaml").string(), "--no-tokenize"});
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
    EXPECT_EQ(distribution_count(ws.registry()), 0u) << file << ": the first spec was ingested";
  }
}

TEST(IngestCli, FilesMadeFromACorpusAreNoMoreReadableThanTheRegistryFolder) {
  // documents.txt, the shards and the tokenizer model were made 0644 whatever the registry folder allowed.
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 200, 4);
  const fs::path folder = ws.registry().parent_path();
  fs::create_directories(folder);
  fs::permissions(folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);  // 0750
  ASSERT_EQ(ws.grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string()}).exit_code, 0);
  const auto trained = ws.grove({"tokenizer", "train", "--on", "notes", "--vocab-size", "600", "--tokenize-all"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder / "grove-data")) {
    if (!entry.is_regular_file()) continue;
    const fs::perms perms = entry.status().permissions();
    EXPECT_EQ(perms & (fs::perms::group_write | fs::perms::others_all), fs::perms::none)
        << entry.path() << " is wider than its registry folder (0750)";
    ++files;
  }
  EXPECT_GE(files, 7u) << "documents.{txt,idx}, {train,holdout}.{tokens,index} and the tokenizer model";
}

TEST(IngestCli, ARegistryInAFolderThatDoesNotExistYetIsCreatedAsRunCreatesIt) {
  // "unable to open database file (SQLite code 14)" while `grove run` makes the folder.
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 50, 9);
  const fs::path registry = ws.dir / "new" / "sub" / "grove.db";
  const auto result = run_grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string(), "--no-tokenize",
                                 "--registry", registry.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(distribution_count(registry), 1u);
  write_file(ws.dir / "a-file", "x");
  const auto blocked = run_grove({"ingest", "notes", "--source", "fortune", "--path", corpus.string(), "--no-tokenize",
                                  "--registry", (ws.dir / "a-file" / "grove.db").string()});
  EXPECT_EQ(blocked.exit_code, 2) << blocked.err;
  EXPECT_NE(blocked.err.find("cannot create its folder"), std::string::npos) << blocked.err;
}

TEST(IngestCli, SpecFilesAreParsedStrictly) {
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  Workspace ws;
  const fs::path corpus = ws.corpus("c", 50, 8);
  const auto good = write_file(ws.dir / "specs/notes.yaml", "name: notes\nsource: fortune\npaths: [../c]\n");
  const auto ok = ws.grove({"ingest", "--spec", good.string(), "--no-tokenize"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto bad = write_file(ws.dir / "specs/typo.yaml", "name: typo\nsource: fortune\npaths: [../c]\nmin_char: 3\n");
  const auto result = ws.grove({"ingest", "--spec", bad.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find(bad.string() + ":4"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("min_chars"), std::string::npos) << result.err;
  const auto help = run_grove({"ingest", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--replace"), std::string::npos);
  EXPECT_EQ(run_grove({"tokenizer", "train", "--help"}).exit_code, 0);
}

}  // namespace
}  // namespace grove::data
