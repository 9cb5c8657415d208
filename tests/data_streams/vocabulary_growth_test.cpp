// Vocabulary growth at the tokenizer level: a tokenizer trained on English fortunes, extended by the pieces of one
// trained on Russian fortunes, keeps every old id's piece, appends only pieces it lacked, encodes Russian text in far
// fewer tokens while English text takes no more tokens (almost every document encodes exactly as before),
// round-trips every document, and is the same bytes every time.
// The new pieces' spellings under the old tokenizer decode to the pieces' own text.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/errors.h"
#include "data_streams/compressed_file.h"
#include "data_streams/document_splitters.h"
#include "data_streams/model_proto_pieces.h"
#include "data_streams/tokenizer.h"
#include "data_streams/tokenizer_training.h"
#include "data_streams/vocabulary_growth.h"
#include "tests/data_streams/test_corpora.h"

namespace grove::data {
namespace {

std::vector<std::string> fortunes(const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> docs;
  for (const auto& file : files) {
    split_fortunes(read_corpus_file(file), [&](std::string_view doc) { docs.emplace_back(doc); });
  }
  return docs;
}

std::string train(const std::vector<std::string>& docs, uint32_t vocab_size) {
  TokenizerSpec spec;
  spec.kind = TokenizerKind::kBpe;
  spec.vocab_size = vocab_size;
  std::vector<std::string_view> views(docs.begin(), docs.end());
  return train_sentencepiece(views, spec);
}

class VocabularyGrowthTest : public ::testing::Test {
 protected:
  void SetUp() override { GROVE_SKIP_WITHOUT_DEBIAN_CORPORA(); }
  static void SetUpTestSuite() {
    if (!testing::have_debian_corpora()) return;
    english_ = new std::vector<std::string>(fortunes({testing::debian_fortune("cookie")}));
    std::vector<std::filesystem::path> russian_files;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/share/games/fortunes/ru")) {
      if (entry.path().extension() == ".u8") russian_files.push_back(entry.path());
    }
    std::sort(russian_files.begin(), russian_files.end());
    russian_files.resize(std::min<size_t>(russian_files.size(), 3));
    russian_ = new std::vector<std::string>(fortunes(russian_files));
    base_ = new std::string(train(*english_, 600));
    own_ = new std::string(train(*russian_, 700));
  }
  static void TearDownTestSuite() {
    delete english_;
    delete russian_;
    delete base_;
    delete own_;
  }
  static size_t tokens(const Tokenizer& tokenizer, const std::vector<std::string>& docs) {
    size_t total = 0;
    for (const auto& doc : docs) total += tokenizer.encode(doc).size();
    return total;
  }
  static std::vector<std::string>* english_;
  static std::vector<std::string>* russian_;
  static std::string* base_;
  static std::string* own_;
};
std::vector<std::string>* VocabularyGrowthTest::english_ = nullptr;
std::vector<std::string>* VocabularyGrowthTest::russian_ = nullptr;
std::string* VocabularyGrowthTest::base_ = nullptr;
std::string* VocabularyGrowthTest::own_ = nullptr;

TEST_F(VocabularyGrowthTest, OldIdsKeepTheirPiecesAndOnlyMissingPiecesAreAppendedBelowEveryOldScore) {
  const auto extended = extend_model(*base_, *own_, "test");
  const auto base_pieces = read_model_pieces(*base_, "base");
  const auto grown_pieces = read_model_pieces(extended.bytes, "grown");
  ASSERT_FALSE(extended.added.empty());
  ASSERT_EQ(grown_pieces.size(), base_pieces.size() + extended.added.size());
  float lowest_old = 0;
  for (size_t id = 0; id < base_pieces.size(); ++id) {
    EXPECT_EQ(grown_pieces[id].text, base_pieces[id].text) << "id " << id;
    EXPECT_EQ(grown_pieces[id].type, base_pieces[id].type) << "id " << id;
    if (base_pieces[id].type == ModelPiece::Type::kNormal) lowest_old = std::min(lowest_old, base_pieces[id].score);
  }
  for (size_t i = 0; i < extended.added.size(); ++i) {
    const auto& piece = grown_pieces[base_pieces.size() + i];
    EXPECT_EQ(piece.text, extended.added[i]);
    EXPECT_EQ(piece.type, ModelPiece::Type::kNormal);
    EXPECT_LT(piece.score, lowest_old) << piece.text;
    EXPECT_TRUE(std::none_of(base_pieces.begin(), base_pieces.end(),
                             [&](const ModelPiece& old) { return old.text == piece.text; }))
        << piece.text << " was already in the base vocabulary";
  }
  const Tokenizer grown = Tokenizer::from_model_bytes(extended.bytes, "grown");
  EXPECT_EQ(grown.vocab_size(), grown_pieces.size());
}

TEST_F(VocabularyGrowthTest, RussianTakesFarFewerTokensEnglishNoMoreAndEverythingRoundTrips) {
  const Tokenizer base = Tokenizer::from_model_bytes(*base_, "base");
  const Tokenizer grown = Tokenizer::from_model_bytes(extend_model(*base_, *own_, "test").bytes, "grown");
  const size_t russian_before = tokens(base, *russian_);
  const size_t russian_after = tokens(grown, *russian_);
  EXPECT_LT(russian_after * 2, russian_before) << "base " << russian_before << ", grown " << russian_after;
  // Old merges still come first; the new ones can only join what they leave: never more tokens than before.
  size_t unchanged = 0;
  for (const auto& doc : *english_) {
    const auto before = base.encode(doc), after = grown.encode(doc);
    ASSERT_LE(after.size(), before.size()) << doc;
    unchanged += after == before ? 1 : 0;
  }
  EXPECT_GT(unchanged * 10, english_->size() * 9) << unchanged << " of " << english_->size() << " unchanged";
  for (const auto* docs : {english_, russian_}) {
    for (const auto& doc : *docs) {
      const auto ids = grown.encode(doc);
      ASSERT_EQ(grown.decode(ids), doc);
    }
  }
}

TEST_F(VocabularyGrowthTest, ExtendingIsDeterministicAndAddsNothingToAModelThatHasEveryPiece) {
  const auto once = extend_model(*base_, *own_, "test");
  EXPECT_EQ(extend_model(*base_, *own_, "test").bytes, once.bytes);
  const auto again = extend_model(once.bytes, *own_, "test");
  EXPECT_TRUE(again.added.empty());
  EXPECT_EQ(again.bytes, once.bytes);
}

TEST_F(VocabularyGrowthTest, AnAlignedVocabularyIsAMultipleAndKeepsTheCharactersOfWhatItKeeps) {
  const auto full = extend_model(*base_, *own_, "test");
  const auto aligned = extend_model(*base_, *own_, "test", 64);
  const auto base_pieces = read_model_pieces(*base_, "base");
  const auto pieces = read_model_pieces(aligned.bytes, "aligned");
  EXPECT_EQ(pieces.size() % 64, 0u);
  EXPECT_LE(aligned.added.size(), full.added.size());
  EXPECT_GT(aligned.added.size() + 64, full.added.size()) << "more left out than alignment needs";
  std::set<std::string> known;
  for (const auto& piece : pieces) known.insert(piece.text);
  for (const auto& piece : aligned.added) {
    for (size_t i = 0; i < piece.size();) {
      size_t length = 1;
      while (i + length < piece.size() && (static_cast<unsigned char>(piece[i + length]) & 0xC0) == 0x80) ++length;
      const std::string character = piece.substr(i, length);
      EXPECT_TRUE(known.contains(character) || character == "\u2581") << character << " of " << piece;
      i += length;
    }
  }
  const Tokenizer base = Tokenizer::from_model_bytes(*base_, "base");
  const Tokenizer grown = Tokenizer::from_model_bytes(aligned.bytes, "aligned");
  EXPECT_LT(tokens(grown, *russian_) * 2, tokens(base, *russian_));
}

TEST_F(VocabularyGrowthTest, EachNewPiecesSpellingDecodesToItsText) {
  const Tokenizer base = Tokenizer::from_model_bytes(*base_, "base");
  const auto extended = extend_model(*base_, *own_, "test");
  const auto spellings = spell_pieces(base, extended.added);
  ASSERT_EQ(spellings.size(), extended.added.size());
  for (size_t i = 0; i < spellings.size(); ++i) {
    ASSERT_FALSE(spellings[i].empty());
    std::vector<TokenId> ids(spellings[i].begin(), spellings[i].end());
    // The piece's text with each "▁" (U+2581, three bytes) read as a space.
    std::string expected;
    const std::string& piece = extended.added[i];
    for (size_t at = 0; at < piece.size();) {
      const bool mark = piece.compare(at, 3, "\u2581") == 0;
      expected += mark ? ' ' : piece[at];
      at += mark ? 3 : 1;
    }
    EXPECT_EQ(base.decode(ids), expected);
    EXPECT_TRUE(std::all_of(spellings[i].begin(), spellings[i].end(),
                            [&](int64_t id) { return id >= 0 && id < static_cast<int64_t>(base.vocab_size()); }));
  }
}

TEST(ModelProtoPieces, BytesThatAreNotAModelAreADataErrorNamingThem) {
  EXPECT_THROW(
      {
        try {
          read_model_pieces("\x08\x01", "bad.model");
        } catch (const DataError& e) {
          EXPECT_NE(std::string(e.what()).find("bad.model"), std::string::npos) << e.what();
          throw;
        }
      },
      DataError);
}

}  // namespace
}  // namespace grove::data
