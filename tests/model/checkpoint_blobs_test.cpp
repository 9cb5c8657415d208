// Checkpoints over a blob store: tensors that did not change between two checkpoints (frozen expert groups, frozen
// shared weights) are written once and shared; every byte loaded is still checked; a damaged blob is rejected naming
// it and rewritten by the next save that holds its content; removing unreferenced blobs keeps what checkpoints need;
// temporaries of dead writers are found by their pid and removed, those of living ones kept.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/errors.h"
#include "model/abandoned_writes.h"
#include "model/blob_store.h"
#include "model/checkpoint.h"
#include "model/tensor_manifest.h"
#include "tests/model/model_test_util.h"
#include "tests/support/temp_dir.h"

namespace grove::model {
namespace {
namespace fs = std::filesystem;
using grove::testing::flip_byte;
using grove::testing::TempDir;
using testing::tiny_config;

std::string blob_of(const fs::path& checkpoint, const std::string& tensor) {
  for (const auto& entry : read_tensor_manifest(checkpoint).model) {
    if (entry.name == tensor) return entry.blob;
  }
  ADD_FAILURE() << "no tensor " << tensor;
  return "";
}

size_t blob_files(const fs::path& store) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(store)) n += entry.path().extension() == ".safetensors" ? 1 : 0;
  return n;
}

// A grown model whose old group (0) and shared weights are frozen, as a grove phase trains it, "trained" one step:
// only the new group's tensors and the optimizer state change.
void train_new_group(MoeTransformer& model, float by) {
  torch::NoGradGuard no_grad;
  for (int64_t layer = 0; layer < model.config().n_layers; ++layer) {
    model.layer(layer).moe().group(1).w1().add_(by);
    model.layer(layer).moe().group(1).w2().add_(by);
  }
}

TEST(CheckpointBlobs, LaterCheckpointsShareTheFrozenTensorsBytesAndWriteOnlyWhatChanged) {
  TempDir dir;
  auto model = testing::grown_random_model(tiny_config(5), 2, 9);
  BlobStore store(dir / "blobs");
  const std::map<std::string, torch::Tensor> moments{{"optim.m", torch::randn({64})}};
  const CheckpointSummary first = save_checkpoint(dir / "phase-0" / "step-1", *model, moments, 1, {}, &store);
  train_new_group(*model, 0.5f);
  const std::map<std::string, torch::Tensor> moments2{{"optim.m", torch::randn({64})}};
  const CheckpointSummary second = save_checkpoint(dir / "phase-0" / "step-2", *model, moments2, 2, {}, &store);

  EXPECT_EQ(first.tensor_bytes, second.tensor_bytes);
  EXPECT_GE(first.bytes, first.tensor_bytes) << "the first checkpoint writes every tensor";
  // The second writes the changed tensors (two per layer, the moments) and its three small files only.
  const uint64_t changed = 2 * 2 * model->layer(0).moe().group(1).w1().numel() * 4 + 64 * 4;
  EXPECT_LT(second.bytes, changed + 20000) << "second checkpoint wrote " << second.bytes << " bytes";
  EXPECT_LT(second.bytes * 3, first.bytes);
  for (const auto& name : checkpoint_tensor_names(dir / "phase-0" / "step-1")) {
    const bool trained = name.find("groups.1.w1") != std::string::npos || name.find("groups.1.w2") != std::string::npos;
    const std::string a = blob_of(dir / "phase-0" / "step-1", name), b = blob_of(dir / "phase-0" / "step-2", name);
    if (trained) {
      EXPECT_NE(a, b) << name;
    } else {
      EXPECT_EQ(a, b) << name << ": unchanged, so one blob for both checkpoints";
    }
  }
  EXPECT_EQ(blob_files(store.dir()), first.blobs.size() + 2 * 2 + 1);
  // The checkpoint folders hold no tensor file of their own.
  EXPECT_FALSE(fs::exists(dir / "phase-0" / "step-2" / kModelTensorsFile));

  // Both load, bit-exactly, from their own blobs.
  const LoadedCheckpoint loaded = load_checkpoint(dir / "phase-0" / "step-2");
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(torch::equal(loaded.model->named_parameters()[item.key()], item.value())) << item.key();
  }
  EXPECT_TRUE(torch::equal(loaded.extra_tensors.at("optim.m"), moments2.at("optim.m")));
  EXPECT_EQ(load_checkpoint(dir / "phase-0" / "step-1").metadata.step, 1);
}

TEST(CheckpointBlobs, ADamagedBlobIsRejectedNamingItAndTheNextSaveOfItsContentRepairsIt) {
  TempDir dir;
  auto model = testing::grown_random_model(tiny_config(6), 2, 3);
  BlobStore store(dir / "blobs");
  save_checkpoint(dir / "run" / "a", *model, {}, 1, {}, &store);
  const fs::path embed = store.path_of(blob_of(dir / "run" / "a", "embed"));
  const auto expect_rejected = [&](const std::string& what) {
    try {
      load_checkpoint(dir / "run" / "a");
      ADD_FAILURE() << what << ": loaded";
    } catch (const CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find(embed.string()), std::string::npos) << what << ": " << e.what();
    }
  };
  flip_byte(embed, fs::file_size(embed) - 7);
  expect_rejected("a flipped byte");
  // Without checksum verification too: a blob is checked whenever it is read.
  LoadOptions unchecked;
  unchecked.verify_checksums = false;
  EXPECT_THROW(load_checkpoint(dir / "run" / "a", unchecked), CheckpointError);

  save_checkpoint(dir / "run" / "b", *model, {}, 2, {}, &store);  // holds the same embedding: rewritten intact
  EXPECT_NO_THROW(load_checkpoint(dir / "run" / "a"));
  fs::resize_file(embed, fs::file_size(embed) - 100);
  expect_rejected("a truncated blob");
  fs::remove(embed);
  expect_rejected("a missing blob");
}

TEST(CheckpointBlobs, ATensorListAlteredOrNotCoveredByTheChecksumsIsRefused) {
  TempDir dir;
  auto model = testing::grown_random_model(tiny_config(8), 2, 5);
  BlobStore store(dir / "blobs");
  save_checkpoint(dir / "run" / "a", *model, {}, 1, {}, &store);
  const fs::path manifest = dir / "run" / "a" / kTensorManifestFile;
  const std::string original = grove::testing::read_file(manifest);
  // Two tensors' blobs swapped: every blob is intact; the checksums catch the edit before any blob is read.
  nlohmann::json edited = nlohmann::json::parse(original);
  std::swap(edited["model"][0]["blob"], edited["model"][1]["blob"]);
  grove::testing::write_file(manifest, edited.dump(1));
  try {
    load_checkpoint(dir / "run" / "a");
    ADD_FAILURE() << "loaded";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find(manifest.string() + ": xxh3"), std::string::npos) << e.what();
  }
  // Checksums that no longer list tensors.json do not make it trusted.
  grove::testing::write_file(manifest, original);
  nlohmann::json checksums = nlohmann::json::parse(grove::testing::read_file(dir / "run" / "a" / kChecksumsFile));
  checksums.erase(kTensorManifestFile);
  grove::testing::write_file(dir / "run" / "a" / kChecksumsFile, checksums.dump());
  try {
    load_checkpoint(dir / "run" / "a");
    ADD_FAILURE() << "loaded";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("no checksum for 'tensors.json'"), std::string::npos) << e.what();
  }
}

TEST(CheckpointBlobs, RemovingUnreferencedBlobsKeepsEveryBlobAKeptCheckpointReferences) {
  TempDir dir;
  auto model = testing::grown_random_model(tiny_config(7), 2, 4);
  BlobStore store(dir / "blobs");
  for (int step = 1; step <= 3; ++step) {
    train_new_group(*model, 0.25f);
    save_checkpoint(dir / "run" / fmt::format("step-{}", step), *model, {{"m", torch::full({8}, step)}}, step, {},
                    &store);
  }
  fs::remove_all(dir / "run" / "step-1");
  fs::remove_all(dir / "run" / "step-2");
  const auto kept = checkpoint_blobs(dir / "run" / "step-3");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(fs::weakly_canonical(kept->store), fs::weakly_canonical(store.dir()));
  const size_t before = blob_files(store.dir());
  EXPECT_GT(store.remove_unreferenced(kept->blobs), 0u);
  EXPECT_EQ(blob_files(store.dir()), kept->blobs.size());
  EXPECT_LT(blob_files(store.dir()), before);
  EXPECT_NO_THROW(load_checkpoint(dir / "run" / "step-3"));
}

TEST(CheckpointBlobs, TemporariesOfDeadWritersAreRemovedAndThoseOfLivingOnesKept) {
  EXPECT_EQ(temporary_writer_pid("step-0000005.tmp-4242-0a1b2c3d"), 4242);
  EXPECT_EQ(temporary_writer_pid("0123456789abcdef.safetensors.tmp-17-deadbeef"), 17);
  EXPECT_FALSE(temporary_writer_pid("step-0000005").has_value());
  EXPECT_FALSE(temporary_writer_pid("final.tmp-12-xyz").has_value());
  EXPECT_FALSE(temporary_writer_pid("final.tmp--0a1b2c3d").has_value());

  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // reaped: its pid names no process now
  TempDir dir;
  const auto make = [&](const std::string& name) {
    fs::create_directories(dir / name);
    std::ofstream(dir / name / "model.safetensors") << "partial";
  };
  const std::string dead = fmt::format("step-0000010.tmp-{}-0a1b2c3d", child);
  const std::string living = fmt::format("step-0000015.tmp-{}-0a1b2c3d", ::getpid());
  make(dead);
  make(living);
  make("step-0000005");
  std::ofstream(dir / fmt::format("0123456789abcdef.safetensors.tmp-{}-00000001", child)) << "half a blob";
  const auto removed = remove_abandoned_temporaries(dir.path());
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_FALSE(fs::exists(dir / dead));
  EXPECT_TRUE(fs::exists(dir / living)) << "this process is alive";
  EXPECT_TRUE(fs::exists(dir / "step-0000005"));
  EXPECT_EQ(remove_abandoned_temporaries(dir / "absent").size(), 0u);
}

}  // namespace
}  // namespace grove::model
