// The SentencePiece tokenizer as Grove uses it: training is deterministic for a sample, every document decodes back
// to itself byte for byte (whitespace, newlines, any script, even U+2581), documents start with BOS, and the
// parallel batch encoder equals the sequential one.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "data_streams/compressed_file.h"
#include "data_streams/document_splitters.h"
#include "data_streams/document_store.h"
#include "data_streams/model_proto_check.h"
#include "data_streams/tokenizer.h"
#include "data_streams/tokenizer_training.h"
#include "tests/data_streams/test_corpora.h"
#include "tests/support/temp_dir.h"

namespace grove::data {
namespace {

std::vector<std::string> fortune_documents() {
  std::vector<std::string> docs;
  for (const char* name : {"cookie", "computers"}) {
    const std::string text = read_corpus_file(testing::debian_fortune(name));
    split_fortunes(text, [&](std::string_view doc) { docs.emplace_back(doc); });
  }
  return docs;
}

class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override { GROVE_SKIP_WITHOUT_DEBIAN_CORPORA(); }
  static void SetUpTestSuite() {
    if (!testing::have_debian_corpora()) return;
    documents_ = new std::vector<std::string>(fortune_documents());
    TokenizerSpec spec;
    spec.kind = TokenizerKind::kUnigram;
    spec.vocab_size = 1000;
    std::vector<std::string_view> views(documents_->begin(), documents_->end());
    model_ = new std::string(train_sentencepiece(views, spec));
  }
  static void TearDownTestSuite() {
    delete documents_;
    delete model_;
  }
  static std::vector<std::string>* documents_;
  static std::string* model_;
};
std::vector<std::string>* TokenizerTest::documents_ = nullptr;
std::string* TokenizerTest::model_ = nullptr;

TEST_F(TokenizerTest, SpecialIdsAndBosFirst) {
  const Tokenizer tokenizer = Tokenizer::from_model_bytes(*model_, "test");
  EXPECT_EQ(tokenizer.vocab_size(), 1000u);
  EXPECT_EQ(tokenizer.unk_id(), kUnkId);
  EXPECT_EQ(tokenizer.bos_id(), kBosId);
  EXPECT_EQ(tokenizer.eos_id(), kEosId);
  EXPECT_EQ(tokenizer.pad_id(), kPadId);
  const auto ids = tokenizer.encode("Hello world");
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], kBosId);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), kBosId), 1);
  EXPECT_EQ(tokenizer.hash().size(), 16u);
}

TEST_F(TokenizerTest, EveryTrainingDocumentAndHardCasesRoundTrip) {
  const Tokenizer tokenizer = Tokenizer::from_model_bytes(*model_, "test");
  for (const auto& doc : *documents_) ASSERT_EQ(tokenizer.decode(tokenizer.encode(doc)), doc);
  const std::vector<std::string> hard{
      "  leading spaces\tand tabs\n\n\ntrailing  ", "Grüße aus Köln", "Привет, мир", "日本語のテキスト 🙂",
      "a literal \xE2\x96\x81 meta space\xE2\x96\x81", "\x01\x7f control", "\xEF\xBF\xBD replacement",
      std::string(3000, 'x'), "\r\nwindows\r\n"};
  for (const auto& doc : hard) EXPECT_EQ(tokenizer.decode(tokenizer.encode(doc)), doc) << doc;
}

TEST_F(TokenizerTest, ParallelEncodingEqualsSequential) {
  const Tokenizer tokenizer = Tokenizer::from_model_bytes(*model_, "test");
  std::vector<std::string_view> views(documents_->begin(), documents_->begin() + 500);
  const auto parallel = tokenizer.encode_all(views, 4);
  ASSERT_EQ(parallel.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) EXPECT_EQ(parallel[i], tokenizer.encode(views[i])) << i;
}

TEST_F(TokenizerTest, TrainingIsDeterministicAndKindMatters) {
  std::vector<std::string_view> views(documents_->begin(), documents_->end());
  TokenizerSpec spec;
  spec.kind = TokenizerKind::kUnigram;
  spec.vocab_size = 1000;
  EXPECT_EQ(train_sentencepiece(views, spec), *model_);
  spec.kind = TokenizerKind::kBpe;
  const std::string bpe = train_sentencepiece(views, spec);
  EXPECT_NE(bpe, *model_);
  const Tokenizer tokenizer = Tokenizer::from_model_bytes(bpe, "bpe");
  for (size_t i = 0; i < documents_->size(); i += 7) {
    ASSERT_EQ(tokenizer.decode(tokenizer.encode((*documents_)[i])), (*documents_)[i]);
  }
}

TEST(Tokenizer, NotAModelIsADataErrorNamingIt) {
  try {
    Tokenizer::from_model_bytes("definitely not a protobuf", "/x/bad.model");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/x/bad.model: not a SentencePiece model"), std::string::npos) << e.what();
  }
  // The right shape but no usable model: the library's own refusal (or the special-id check) is a DataError too.
  EXPECT_THROW(Tokenizer::from_model_bytes(std::string("\x0a\x00", 2), "/x/empty-piece.model"), DataError);
}

TEST(ModelProtoCheck, TopLevelShapeOfAModelProto) {
  EXPECT_EQ(model_proto_problem(std::string("\x0a\x03" "abc" "\x12\x00", 7)), std::nullopt) << "pieces + trainer_spec";
  EXPECT_EQ(model_proto_problem(std::string("\x0a\x00\xc2\x0c\x01x", 6)), std::nullopt) << "extension field 200";
  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "empty"},
      {"definitely", "field 12"},
      {std::string("\x0a\x05" "ab", 4), "longer than the 2 bytes left"},
      {std::string("\x08\x01", 2), "wire type 0"},
      {std::string("\x32\x00", 2), "field 6"},
      {std::string("\x12\x00", 2), "no vocabulary pieces"},
      {std::string("\x0a\xff\xff", 3), "longer than"},
      {std::string("\x8a", 1), "runs past the end"},
  };
  for (const auto& [bytes, expected] : bad) {
    const auto problem = model_proto_problem(bytes);
    ASSERT_TRUE(problem.has_value()) << "accepted: " << bytes;
    EXPECT_NE(problem->find(expected), std::string::npos) << *problem;
  }
}

TEST(Tokenizer, VocabularyTooLargeForTheSampleIsAConfigErrorSayingTheLargestItSupports) {
  TokenizerSpec spec;
  spec.vocab_size = 50000;
  const std::vector<std::string_view> tiny{"just a few words", "and a few more"};
  try {
    train_sentencepiece(tiny, spec);
    FAIL() << "trained";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("a unigram vocabulary of 50000 pieces is more than its training sample supports"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("lower tokenizer.vocab_size (--vocab-size) to "), std::string::npos) << message;
    EXPECT_EQ(message.find(".cc("), std::string::npos) << "SentencePiece's source location: " << message;
  }
}

TEST(TokenizerSample, OneDocumentLargerThanTheSampleIsCutToItAtALineEnd) {
  testing::TempDir dir;
  std::string huge;
  while (huge.size() < 3'000'000) huge += "a line of the one huge document, with a word or two: \u00e9t\u00e9\n";
  {
    DocumentStoreWriter writer(dir / "store");
    writer.add(huge, /*holdout=*/false);
    writer.add("a small holdout document\n", /*holdout=*/true);
    writer.finish(1);
  }
  const auto store = DocumentStore::open(dir / "store");
  const auto sample = sample_documents(store, 1'000'000, 0);
  ASSERT_EQ(sample.size(), 1u);
  EXPECT_LE(sample[0].size(), 1'000'000u) << "the sample size is honoured within one document";
  EXPECT_GT(sample[0].size(), 999'000u);
  EXPECT_EQ(sample[0].back(), '\n') << "cut at a line end";
  EXPECT_EQ(huge.substr(0, sample[0].size()), sample[0]);
  // A budget larger than the document takes it whole, as before.
  EXPECT_EQ(sample_documents(store, 4'000'000, 0).front().size(), huge.size());
}

}  // namespace
}  // namespace grove::data
