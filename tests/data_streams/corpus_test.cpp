// Reading corpora as a user points at them: specs parsed strictly, globs and folders expanded, symlink duplicates
// read once, documents cut per source kind, compressed files read transparently, and every bad input a DataError or
// ConfigError that names the file (and the line).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/errors.h"
#include "common/strict_yaml.h"
#include "data_streams/corpus_files.h"
#include "data_streams/corpus_probe.h"
#include "data_streams/corpus_reader.h"
#include "data_streams/corpus_spec.h"
#include "tests/data_streams/test_corpora.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

std::vector<std::string> read_all(const DistributionSpec& spec, CorpusStats* stats_out = nullptr) {
  std::vector<std::string> docs;
  const CorpusStats stats =
      read_corpus(spec, list_corpus_files(spec), [&](std::string_view doc) { docs.emplace_back(doc); });
  if (stats_out) *stats_out = stats;
  return docs;
}

DistributionSpec spec_of(SourceKind source, std::vector<std::string> paths) {
  DistributionSpec spec;
  spec.name = "test";
  spec.source = source;
  spec.paths = std::move(paths);
  return spec;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CorpusSpec, ParsesAndResolvesRelativePathsAgainstTheSpecFolder) {
  TempDir dir;
  const auto file = write_file(dir / "specs/news.yaml",
                               "name: news\nsource: jsonl\npaths: [data/*.jsonl]\nfield: body\nholdout: 0.1\n"
                               "split_seed: 7\nmin_chars: 20\nexclude: [data/bad.jsonl, \"*.tmp\"]\n");
  const DistributionSpec spec = load_distribution_spec(file);
  EXPECT_EQ(spec.name, "news");
  EXPECT_EQ(spec.source, SourceKind::kJsonl);
  EXPECT_EQ(spec.field, "body");
  EXPECT_DOUBLE_EQ(spec.holdout, 0.1);
  EXPECT_EQ(spec.split_seed, 7u);
  EXPECT_EQ(spec.min_chars, 20u);
  ASSERT_EQ(spec.paths.size(), 1u);
  EXPECT_EQ(spec.paths[0], (dir.path() / "specs/data/*.jsonl").string());
  // An exclude with a folder is a path like `paths`; a file-name exclude matches in every folder, so it stays.
  EXPECT_EQ(spec.exclude, (std::vector<std::string>{(dir.path() / "specs/data/bad.jsonl").string(), "*.tmp"}));
  // The canonical YAML parses back to the same spec.
  const auto again = parse_distribution_spec(load_yaml_string(to_yaml(spec), "stored"), "stored", "/");
  EXPECT_EQ(to_yaml(again), to_yaml(spec));
}

TEST(CorpusSpec, UnknownKeyNamesFileLineAndClosestKey) {
  TempDir dir;
  const auto file = write_file(dir / "x.yaml", "name: x\nsource: text\npaths: [a]\nholdot: 0.1\n");
  const std::string message = error_of([&] { load_distribution_spec(file); });
  EXPECT_NE(message.find(file.string() + ":4"), std::string::npos) << message;
  EXPECT_NE(message.find("holdout"), std::string::npos) << message;
}

TEST(CorpusSpec, BadValuesAreConfigErrorsNamingTheKey) {
  const auto parse = [](const std::string& yaml) {
    return error_of([&] { parse_distribution_spec(load_yaml_string(yaml, "s.yaml"), "s.yaml", "/"); });
  };
  EXPECT_NE(parse("name: x\nsource: csv\npaths: [a]\n").find("source 'csv'"), std::string::npos);
  EXPECT_NE(parse("name: x\nsource: text\npaths: [a]\nholdout: 0.9\n").find("holdout"), std::string::npos);
  EXPECT_NE(parse("name: X Y\nsource: text\npaths: [a]\n").find("name 'X Y'"), std::string::npos);
  EXPECT_NE(parse("name: x\nsource: fortune\npaths: [a]\nfield: t\n").find("field applies to source jsonl"),
            std::string::npos);
  EXPECT_NE(parse("name: x\nsource: text\n").find("paths"), std::string::npos);
}

TEST(CorpusFiles, GlobsMatchPerSegmentAndDoubleStarAtAnyDepth) {
  EXPECT_TRUE(glob_matches("/a/*.txt", "/a/b.txt"));
  EXPECT_FALSE(glob_matches("/a/*.txt", "/a/c/b.txt"));
  EXPECT_TRUE(glob_matches("/a/**/*.txt", "/a/b.txt"));
  EXPECT_TRUE(glob_matches("/a/**/*.txt", "/a/c/d/b.txt"));
  EXPECT_TRUE(glob_matches("/a/de/**", "/a/de/x"));
  EXPECT_FALSE(glob_matches("/a/*", "/a/.hidden"));
  EXPECT_TRUE(glob_matches("/a/[bc]?", "/a/cz"));
}

TEST(CorpusFiles, FoldersRecurseSymlinkDuplicatesAndDatFilesAreSkipped) {
  TempDir dir;
  write_file(dir / "f/art", "one\n%\ntwo\n");
  write_file(dir / "f/art.dat", std::string("\0\0\0\x02", 4));
  fs::create_symlink("art", dir / "f/art.u8");
  write_file(dir / "f/sub/more", "three\n");
  fs::create_symlink(dir / "f/sub/more", dir / "f/link-to-more");
  const auto files = list_corpus_files(spec_of(SourceKind::kFortune, {(dir / "f").string()}));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, dir / "f/art");
  EXPECT_EQ(files[1].path, dir / "f/link-to-more");  // sorted by path; sub/more is the same real file
  auto spec = spec_of(SourceKind::kFortune, {(dir / "f/*").string()});
  spec.exclude = {(dir / "f/sub/**").string()};  // excludes by resolved path too
  const auto kept = list_corpus_files(spec);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].path, dir / "f/art");
}

TEST(CorpusFiles, AGlobReadsNoHiddenFolderAsAFolderReadWholeDoesNot) {
  // As a path to match (an exclude), `**` still spans hidden folders: `/home/u/**` excludes /home/u/.local/x too.
  EXPECT_TRUE(glob_matches("/a/**/*.md", "/a/.trash/b.md"));
  TempDir dir;
  write_file(dir / "notes/a.md", "Real note.\n");
  write_file(dir / "notes/sub/b.md", "Sub note.\n");
  write_file(dir / "notes/.ipynb_checkpoints/a-checkpoint.md", "Checkpoint copy.\n");
  write_file(dir / "notes/sub/.trash/gone.md", "Deleted.\n");
  const auto by_folder = list_corpus_files(spec_of(SourceKind::kText, {(dir / "notes").string()}));
  const auto by_glob = list_corpus_files(spec_of(SourceKind::kText, {(dir / "notes/**/*.md").string()}));
  ASSERT_EQ(by_folder.size(), 2u);
  ASSERT_EQ(by_glob.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(by_glob[i].path, by_folder[i].path);
  // A pattern that names a hidden folder reads it.
  const auto named = list_corpus_files(spec_of(SourceKind::kText, {(dir / "notes/**/.trash/*.md").string()}));
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].path, dir / "notes/sub/.trash/gone.md");
}

TEST(CorpusFiles, AFileNameExcludeMatchesInEveryFolder) {
  TempDir dir;
  write_file(dir / "notes/a.md", "Note.\n");
  write_file(dir / "notes/sub/b.md", "Sub note.\n");
  write_file(dir / "notes/sub/keep.txt", "Kept.\n");
  auto spec = spec_of(SourceKind::kText, {(dir / "notes").string()});
  spec.exclude = {"*.md"};
  const auto kept = list_corpus_files(spec);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].path, dir / "notes/sub/keep.txt");
  // A pattern with a folder in it is matched against whole paths, as before.
  spec.exclude = {(dir / "notes/sub/*").string()};
  const auto top = list_corpus_files(spec);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].path, dir / "notes/a.md");
}

TEST(CorpusFiles, ASymlinkToAFolderAboveIsReadOnceNotFollowedForever) {
  // `ln -s .. parent` inside a corpus made std::filesystem recurse until ELOOP and throw its own error, which
  // stopped every later `grove tick` on the inbox item (found by a review).
  TempDir dir;
  write_file(dir / "corpus/sub/doc.txt", "A document.\n");
  fs::create_symlink("..", dir / "corpus/sub/parent");
  fs::create_symlink(dir / "corpus", dir / "corpus/sub/again");
  for (const std::string& path : {(dir / "corpus").string(), (dir / "corpus/**/*.txt").string()}) {
    std::vector<CorpusFile> files;
    ASSERT_NO_THROW(files = list_corpus_files(spec_of(SourceKind::kText, {path}))) << path;
    ASSERT_EQ(files.size(), 1u) << path;
    EXPECT_EQ(files[0].real_path, fs::canonical(dir / "corpus/sub/doc.txt")) << path;
  }
}

TEST(CorpusFiles, LinksBesideAFolderAndDanglingHiddenLinksTakeNothingAway) {
  // A first version entered each real folder once, so a link listed before the folder itself (readdir order) or a
  // second link to it dropped the folder's files; a dangling link (an editor's `.#file` lock) stopped the listing.
  TempDir dir;
  write_file(dir / "notes/data/a.txt", "A.\n");
  write_file(dir / "notes/data/b.txt", "B.\n");
  fs::create_symlink("data", dir / "notes/.hidden-link");
  fs::create_symlink("data", dir / "notes/alias");
  fs::create_symlink("data", dir / "notes/zz-alias");
  fs::create_symlink("user@host.1234:1", dir / "notes/.#a.txt");
  for (const std::string& path : {(dir / "notes").string(), (dir / "notes/*/*.txt").string()}) {
    std::vector<CorpusFile> files;
    ASSERT_NO_THROW(files = list_corpus_files(spec_of(SourceKind::kText, {path}))) << path;
    ASSERT_EQ(files.size(), 2u) << path;  // each real file once, whichever link reached it first
    std::set<fs::path> real{files[0].real_path, files[1].real_path};
    EXPECT_EQ(real, (std::set<fs::path>{fs::canonical(dir / "notes/data/a.txt"), fs::canonical(dir / "notes/data/b.txt")}))
        << path;
  }
  auto spec = spec_of(SourceKind::kText, {(dir / "notes").string()});
  spec.exclude = {(dir / "notes/alias/**").string()};  // one link excluded: the files are still there by another
  EXPECT_EQ(list_corpus_files(spec).size(), 2u);
  // A dangling link that is not hidden is named.
  fs::create_symlink("nowhere", dir / "notes/broken");
  const std::string message = error_of([&] { list_corpus_files(spec_of(SourceKind::kText, {(dir / "notes").string()})); });
  EXPECT_NE(message.find((dir / "notes/broken").string() + ": cannot resolve"), std::string::npos) << message;
}

TEST(CorpusFiles, AFileWhoseNameLooksLikeAGlobIsReadAsItselfAndSpecialFilesAreNamed) {
  TempDir dir;
  write_file(dir / "notes[1].txt", "First.\n");
  const auto files = list_corpus_files(spec_of(SourceKind::kText, {(dir / "notes[1].txt").string()}));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, dir / "notes[1].txt");
  // "no corpus files left after exclusions" when nothing was excluded: it now says what was left out and why.
  const std::string message = error_of([&] { list_corpus_files(spec_of(SourceKind::kText, {"/dev/null"})); });
  EXPECT_NE(message.find("no corpus files left (0 excluded, 1 not regular files (/dev/null)"), std::string::npos)
      << message;
}

TEST(CorpusFiles, MissingPathAndEmptyGlobNameThePath) {
  TempDir dir;
  const std::string missing = (dir / "nope.txt").string();
  EXPECT_NE(error_of([&] { list_corpus_files(spec_of(SourceKind::kText, {missing})); }).find(missing + ": no such"),
            std::string::npos);
  const std::string glob = (dir / "*.txt").string();
  EXPECT_NE(error_of([&] { list_corpus_files(spec_of(SourceKind::kText, {glob})); }).find(glob), std::string::npos);
}

// The shipped English fortunes (the spec file and the demo's inline spec) name their files one by one: a glob over the
// fortunes folder would take in whatever another package installs there later (another language's folder, links into
// it) and silently change what "English" means. The files are the 43 that Debian's fortunes and fortunes-min install.
TEST(ShippedSpecs, EnglishFortunesNameTheirFilesOneByOneAndTheSameInTheDemo) {
  const fs::path source(testing::source_dir());
  const DistributionSpec spec = load_distribution_spec(source / "data_streams/specs/en_fortunes.yaml");
  const YAML::Node demo = load_yaml_file((source / "experiments/demo.yaml").string());
  ASSERT_EQ(demo["distributions"][0]["name"].as<std::string>(), "en_fortunes");
  const DistributionSpec inline_spec =
      parse_distribution_spec(demo["distributions"][0], "demo.yaml", source / "experiments", "distributions[0]");
  for (const DistributionSpec* s : {&spec, &inline_spec}) {
    EXPECT_TRUE(s->exclude.empty());
    ASSERT_EQ(s->paths.size(), 43u);
    for (const auto& path : s->paths) {
      EXPECT_EQ(path.find_first_of("*?["), std::string::npos) << path << " is a glob";
      EXPECT_EQ(fs::path(path).parent_path(), "/usr/share/games/fortunes") << path;
    }
  }
  EXPECT_EQ(inline_spec.paths, spec.paths);
  GROVE_SKIP_WITHOUT_DEBIAN_CORPORA();
  // Each named path is a fortune file of its own (no link into a language folder, no folder), none read twice.
  const auto files = list_corpus_files(spec);
  ASSERT_EQ(files.size(), 43u);
  for (const auto& file : files) EXPECT_EQ(file.real_path, file.path) << file.path;
}

TEST(CorpusReader, FortunesParagraphsFilesAndJsonl) {
  TempDir dir;
  write_file(dir / "f/a", "First\nfortune.\n%\n\n%\nSecond one.\n%\nB\bBo\bol\bld\n");
  EXPECT_EQ(read_all(spec_of(SourceKind::kFortune, {(dir / "f").string()})),
            (std::vector<std::string>{"First\nfortune.", "Second one.", "Bold"}));
  write_file(dir / "t/p.txt", "Para one\nline two\n\n \n  Indented para\n\n\nlast");
  auto paragraphs = spec_of(SourceKind::kText, {(dir / "t").string()});
  paragraphs.doc_per = DocPer::kParagraph;
  EXPECT_EQ(read_all(paragraphs), (std::vector<std::string>{"Para one\nline two", "  Indented para", "last"}));
  EXPECT_EQ(read_all(spec_of(SourceKind::kText, {(dir / "t").string()})).size(), 1u);
  write_file(dir / "j/d.jsonl", "{\"text\": \"alpha\\nbeta\", \"id\": 1}\n\n{\"text\": \"gamma\"}\n");
  EXPECT_EQ(read_all(spec_of(SourceKind::kJsonl, {(dir / "j").string()})),
            (std::vector<std::string>{"alpha\nbeta", "gamma"}));
}

TEST(CorpusReader, CompressedFilesReadLikePlainOnes) {
  TempDir dir;
  const auto docs = testing::synthetic_documents(50, 3);
  const std::string text = testing::as_fortune_file(docs);
  write_file(dir / "plain/f", text);
  write_file(dir / "gz/f.gz", testing::gzip_bytes(text));
  write_file(dir / "zst/f.zst", testing::zstd_bytes(text));
  const auto plain = read_all(spec_of(SourceKind::kFortune, {(dir / "plain").string()}));
  EXPECT_EQ(plain, docs);
  EXPECT_EQ(read_all(spec_of(SourceKind::kFortune, {(dir / "gz").string()})), plain);
  EXPECT_EQ(read_all(spec_of(SourceKind::kFortune, {(dir / "zst").string()})), plain);
}

TEST(CorpusReader, TruncatedCompressedFilesAreErrorsNamingTheFile) {
  TempDir dir;
  const std::string text = testing::as_fortune_file(testing::synthetic_documents(400, 4));
  const std::string gz = testing::gzip_bytes(text);
  const std::string zst = testing::zstd_bytes(text);
  const auto gz_path = write_file(dir / "a/f.gz", gz.substr(0, gz.size() / 2));
  const auto zst_path = write_file(dir / "b/f.zst", zst.substr(0, zst.size() / 2));
  const std::string gz_error = error_of([&] { read_all(spec_of(SourceKind::kFortune, {(dir / "a").string()})); });
  EXPECT_NE(gz_error.find(gz_path.string() + ": truncated gzip"), std::string::npos) << gz_error;
  const std::string zst_error = error_of([&] { read_all(spec_of(SourceKind::kFortune, {(dir / "b").string()})); });
  EXPECT_NE(zst_error.find(zst_path.string() + ": truncated zstd"), std::string::npos) << zst_error;
}

TEST(CorpusReader, MalformedJsonlNamesFileAndLine) {
  TempDir dir;
  const auto file = write_file(dir / "d.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"broken\n{\"text\": 3}\n");
  const std::string message = error_of([&] { read_all(spec_of(SourceKind::kJsonl, {file.string()})); });
  EXPECT_NE(message.find(file.string() + ":2: malformed JSON"), std::string::npos) << message;
  const auto typed = write_file(dir / "e.jsonl", "{\"text\": \"ok\"}\n{\"text\": 3}\n");
  const std::string type_message = error_of([&] { read_all(spec_of(SourceKind::kJsonl, {typed.string()})); });
  EXPECT_NE(type_message.find(typed.string() + ":2: field 'text' is number"), std::string::npos) << type_message;
}

TEST(CorpusReader, BinaryFileAndEmptyCorpusAreErrorsNamingThem) {
  TempDir dir;
  const auto binary = write_file(dir / "b/image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  const std::string message = error_of([&] { read_all(spec_of(SourceKind::kText, {(dir / "b").string()})); });
  EXPECT_NE(message.find(binary.string() + ": looks like a binary file"), std::string::npos) << message;
  // Control bytes are judged on the first 64 KiB; a NUL byte is refused wherever it is.
  std::string late_nul(100'000, 'x');
  late_nul += std::string("\0tail", 5);
  const auto late = write_file(dir / "late/text.txt", late_nul);
  const std::string late_message = error_of([&] { read_all(spec_of(SourceKind::kText, {(dir / "late").string()})); });
  EXPECT_NE(late_message.find(late.string() + ": a NUL byte at byte 100000 of 100005"), std::string::npos)
      << late_message;
  write_file(dir / "e/empty.txt", "\n\n   \n");
  const std::string empty = error_of([&] { read_all(spec_of(SourceKind::kText, {(dir / "e").string()})); });
  EXPECT_NE(empty.find("empty corpus"), std::string::npos) << empty;
  EXPECT_NE(empty.find((dir / "e").string()), std::string::npos) << empty;
}

TEST(CorpusReader, FiltersAndRepairsAreCounted) {
  TempDir dir;
  write_file(dir / "f/a", "ok document\n%\nx\n%\n" + std::string(200, 'y') + "\n%\nbad \xFF byte here, mostly fine\n%\n"
                          "\xFF\xFE\xFD\n%\n");
  auto spec = spec_of(SourceKind::kFortune, {(dir / "f").string()});
  spec.min_chars = 2;
  spec.max_chars = 100;
  spec.max_invalid_fraction = 0.2;
  CorpusStats stats;
  const auto docs = read_all(spec, &stats);
  EXPECT_EQ(docs, (std::vector<std::string>{"ok document", "bad \uFFFD byte here, mostly fine"}));
  EXPECT_EQ(stats.skipped_too_short, 1u);
  EXPECT_EQ(stats.skipped_too_long, 1u);
  EXPECT_EQ(stats.skipped_invalid_utf8, 1u);
  EXPECT_EQ(stats.repaired, 1u);
  EXPECT_EQ(stats.docs, 2u);
}

TEST(CorpusProbe, BinaryEmptyAndTruncatedFilesAreFoundFromTheirFirstBytesCompressedOrNot) {
  TempDir dir;
  const std::string text = testing::as_fortune_file(testing::synthetic_documents(2000, 5));  // over 64 KiB
  const std::string binary = std::string("\177ELF\2\1\1\0\0", 8) + std::string(3000, '\1');
  write_file(dir / "ok/text.txt", text);
  write_file(dir / "ok/text.gz", testing::gzip_bytes(text));
  write_file(dir / "ok/text.zst", testing::zstd_bytes(text));
  write_file(dir / "ok/blank.txt", " \n\n");  // blank beside text: ingest skips it, so does the probe
  write_file(dir / "empty/a.txt", "");
  write_file(dir / "empty/b.gz", testing::gzip_bytes("\n\n"));
  write_file(dir / "bin/blob.gz", testing::gzip_bytes(binary));
  write_file(dir / "bin/blob.zst", testing::zstd_bytes(binary));
  const std::string small = testing::zstd_bytes("a small text\n");
  write_file(dir / "cut/small.zst", small.substr(0, small.size() - 4));

  const auto probe = [&](const std::string& folder) {
    const auto spec = spec_of(SourceKind::kText, {(dir / folder).string()});
    return error_of([&] { probe_corpus_files(spec, list_corpus_files(spec)); });
  };
  EXPECT_EQ(probe("ok"), "(no error)");
  EXPECT_NE(probe("empty").find("distribution 'test': empty corpus: every one of its files is empty or blank"),
            std::string::npos)
      << probe("empty");
  EXPECT_NE(probe("bin").find((dir / "bin/blob.gz").string() + ": looks like a binary file"), std::string::npos)
      << probe("bin");
  EXPECT_NE(probe("cut").find((dir / "cut/small.zst").string() + ": truncated zstd file"), std::string::npos)
      << probe("cut");
  fs::remove(dir / "bin/blob.gz");
  EXPECT_NE(probe("bin").find((dir / "bin/blob.zst").string() + ": looks like a binary file"), std::string::npos)
      << probe("bin");
}

}  // namespace
}  // namespace grove::data
