// The background checkpoint writer: what it writes is the snapshot taken when the write started, whatever the
// training thread changes afterwards; at most one write is in flight; a failed write is rethrown by finish() and
// leaves no folder behind.
#include "orchestrator/background_checkpoint_writer.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model_config.h"

namespace grove::orch {
namespace {
namespace fs = std::filesystem;

TEST(BackgroundCheckpointWriter, WritesTheSnapshotNotTheLaterValuesOneWriteAtATimeAndRethrowsAFailure) {
  testing::TempDir dir;
  auto model = std::make_shared<model::MoeTransformer>(testing::tiny_config(3), std::vector<int64_t>{4},
                                                       /*initialise=*/true);
  const torch::Tensor moment = torch::randn({16});
  const torch::Tensor embed_then = model->embedding().detach().clone();
  BackgroundCheckpointWriter writer;
  const fs::path target = dir / "run" / "phase-0" / "step-0000005";
  writer.start(target, model::snapshot_checkpoint(*model, {{"m", moment}}, 5, {{"k", 1}}),
               model::BlobStore(dir / "run" / "blobs"));
  EXPECT_TRUE(writer.busy());
  {
    torch::NoGradGuard no_grad;  // the training thread goes on right away
    model->embedding().fill_(0.0f);
    moment.fill_(0.0f);
  }
  EXPECT_THROW(writer.start(target, model::snapshot_checkpoint(*model, {}, 6, {}), model::BlobStore(dir / "b")),
               std::logic_error);
  const auto written = writer.finish();
  ASSERT_TRUE(written.has_value());
  EXPECT_EQ(written->step, 5);
  EXPECT_EQ(written->dir, target);
  EXPECT_FALSE(writer.busy());
  EXPECT_FALSE(writer.finish().has_value());
  const auto loaded = model::load_checkpoint(target);
  EXPECT_TRUE(torch::equal(loaded.model->embedding(), embed_then));
  EXPECT_FALSE(torch::equal(loaded.extra_tensors.at("m"), moment));
  EXPECT_EQ(loaded.metadata.extra, nlohmann::json({{"k", 1}}));

  // A blob store that cannot be made (a file in its place): the error comes out of finish(), nothing is published.
  testing::write_file(dir / "blocked", "a file\n");
  const fs::path failing = dir / "run" / "phase-0" / "step-0000010";
  writer.start(failing, model::snapshot_checkpoint(*model, {}, 10, {}), model::BlobStore(dir / "blocked" / "blobs"));
  try {
    writer.finish();
    ADD_FAILURE() << "the write succeeded";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find((dir / "blocked" / "blobs").string()), std::string::npos) << error.what();
  }
  EXPECT_FALSE(writer.busy());
  EXPECT_FALSE(fs::exists(failing));
  for (const auto& entry : fs::directory_iterator(dir / "run" / "phase-0")) {
    EXPECT_EQ(entry.path().filename(), "step-0000005") << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace grove::orch
