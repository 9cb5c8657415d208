// The model's half of vocabulary growth: old rows stay bit-identical, a new piece's embedding is the mean of its
// spelling's embeddings and its LM-head row the mean of every old head row, the grown model reads and predicts the
// new ids, survives a checkpoint round trip, and a teacher limited to the old outputs gives the new ids exactly zero
// probability. Bad spellings are refused before anything changes.
#include "model/vocabulary_growth.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "model/checkpoint.h"
#include "tests/model/model_test_util.h"
#include "tests/support/temp_dir.h"

namespace grove::model {
namespace {

TEST(VocabularyGrowth, OldRowsStayNewRowsStartFromTheirSpellingAndTheMeanHeadRow) {
  MoeTransformer model(testing::tiny_config());
  const int64_t old_vocab = model.config().vocab_size;
  const auto embed_before = model.embedding().clone();
  const auto head_before = model.lm_head().clone();
  grow_vocabulary(model, {{5, 7}, {11}, {3, 3, 40}});

  EXPECT_EQ(model.config().vocab_size, old_vocab + 3);
  ASSERT_EQ(model.embedding().size(0), old_vocab + 3);
  ASSERT_EQ(model.lm_head().size(0), old_vocab + 3);
  EXPECT_TRUE(torch::equal(model.embedding().narrow(0, 0, old_vocab), embed_before));
  EXPECT_TRUE(torch::equal(model.lm_head().narrow(0, 0, old_vocab), head_before));
  const auto rows = model.embedding().narrow(0, old_vocab, 3);
  EXPECT_TRUE(torch::allclose(rows[0], (embed_before[5] + embed_before[7]) / 2, 1e-6, 1e-7));
  EXPECT_TRUE(torch::equal(rows[1], embed_before[11]));
  EXPECT_TRUE(torch::allclose(rows[2], (2 * embed_before[3] + embed_before[40]) / 3, 1e-6, 1e-7));
  const auto mean_head = head_before.mean(0);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::allclose(model.lm_head()[old_vocab + i], mean_head, 1e-5, 1e-7));
  }
  EXPECT_TRUE(model.embedding().requires_grad()) << "the parameter keeps its identity and flags";
  EXPECT_EQ(model.parameters().front().size(0), old_vocab + 3) << "the registered parameter is the grown one";

  const auto tokens = torch::tensor({{1L, old_vocab, old_vocab + 2, 4L}});
  const auto logits = model.forward(tokens).logits;
  EXPECT_EQ(logits.size(-1), old_vocab + 3);
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(VocabularyGrowth, AGrownModelRoundTripsThroughACheckpoint) {
  MoeTransformer model(testing::tiny_config());
  grow_vocabulary(model, {{1, 2}, {9}});
  grove::testing::TempDir dir;
  save_checkpoint(dir.path() / "ckpt", model, {}, 3);
  const auto loaded = load_checkpoint(dir.path() / "ckpt");
  EXPECT_EQ(loaded.metadata.config.vocab_size, model.config().vocab_size);
  EXPECT_TRUE(torch::equal(loaded.model->embedding(), model.embedding()));
  EXPECT_TRUE(torch::equal(loaded.model->lm_head(), model.lm_head()));
}

TEST(VocabularyGrowth, ALimitedTeacherReadsNewIdsButGivesThemZeroProbability) {
  MoeTransformer model(testing::tiny_config());
  const int64_t old_vocab = model.config().vocab_size;
  grow_vocabulary(model, {{1, 2}, {9}});
  model.limit_output_vocabulary(old_vocab);
  const auto probabilities = torch::softmax(model.forward(torch::tensor({{1L, old_vocab + 1}})).logits, -1);
  EXPECT_EQ(probabilities.narrow(-1, old_vocab, 2).max().item<float>(), 0.0f);
  EXPECT_NEAR(probabilities.narrow(-1, 0, old_vocab).sum(-1).min().item<float>(), 1.0f, 1e-5);
  auto copy = model.clone_model();
  EXPECT_TRUE(torch::equal(copy->forward(torch::tensor({{3L}})).logits, model.forward(torch::tensor({{3L}})).logits))
      << "a clone keeps the limit";
}

TEST(VocabularyGrowth, SpellingsOutsideTheVocabularyOrEmptyAreRefusedBeforeAnythingGrows) {
  MoeTransformer model(testing::tiny_config());
  const int64_t old_vocab = model.config().vocab_size;
  EXPECT_THROW(grow_vocabulary(model, {{1}, {old_vocab}}), ConfigError);
  EXPECT_THROW(grow_vocabulary(model, {{}}), ConfigError);
  EXPECT_THROW(grow_vocabulary(model, {{-1}}), ConfigError);
  EXPECT_EQ(model.config().vocab_size, old_vocab);
  EXPECT_EQ(model.embedding().size(0), old_vocab);
}

}  // namespace
}  // namespace grove::model
