// Checkpoints: exact round trip of a grown model with optimizer-like extras and caller metadata; damaged files are
// rejected naming the file; a config or shape mismatch names the key or the tensor; saving is all-or-nothing.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.h"
#include "common/hashing.h"
#include "tests/model/model_test_util.h"
#include "tests/support/temp_dir.h"

namespace grove::model {
namespace {
namespace fs = std::filesystem;
using grove::testing::flip_byte;
using grove::testing::TempDir;
using testing::random_tokens;
using testing::tiny_config;

std::shared_ptr<MoeTransformer> grown_model() {
  ModelConfig config = tiny_config(21);
  config.router_bias = true;
  return testing::grown_random_model(config, 3, 4);
}

std::string load_error(const fs::path& dir, const LoadOptions& options = {}) {
  try {
    load_checkpoint(dir, options);
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    return e.what();
  }
  return "(loaded)";
}

// Rewrites checksums.json for the current files, as a careless tool editing a checkpoint would.
void rewrite_checksums(const fs::path& dir) {
  nlohmann::json checksums;
  for (const char* name : {kModelTensorsFile, kExtraTensorsFile, kMetadataFile}) {
    checksums[name] = hash_hex(xxh3_file(dir / name));
  }
  std::ofstream(dir / kChecksumsFile) << checksums.dump(2);
}

TEST(Checkpoint, RoundTripIsBitExactForTensorsConfigGroupsAndMetadata) {
  TempDir dir;
  const auto model = grown_model();
  {
    torch::NoGradGuard no_grad;
    model->layer(1).moe().group(1).gate_bias().normal_();
  }
  const std::map<std::string, torch::Tensor> extra{
      {"adam.exp_avg.layers.0.moe.groups.1.w1", torch::randn({3, 48, 32})},
      {"adam.step", torch::tensor({int64_t{17}})},
      {"rng.state", torch::randint(255, {64}, torch::kByte)},
      {"half.values", torch::randn({5}).to(torch::kBFloat16)}};
  const nlohmann::json metadata{{"training_state", {{"phase", 2}, {"cursor", 12345}}}};
  const CheckpointSummary summary = save_checkpoint(dir / "ckpt", *model, extra, 42, metadata);
  EXPECT_EQ(summary.file_xxh3.size(), 4u);
  EXPECT_EQ(summary.xxh3, hash_hex(xxh3_file(dir / "ckpt" / kChecksumsFile)));
  EXPECT_EQ(summary.file_xxh3.at(kModelTensorsFile), hash_hex(xxh3_file(dir / "ckpt" / kModelTensorsFile)));
  uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir / "ckpt")) bytes += entry.file_size();
  EXPECT_EQ(summary.bytes, bytes);

  const LoadedCheckpoint loaded = load_checkpoint(dir / "ckpt");
  EXPECT_EQ(loaded.model->config(), model->config());
  EXPECT_EQ(loaded.model->group_sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(loaded.metadata.step, 42);
  EXPECT_EQ(loaded.metadata.extra, metadata);
  const auto original = model->named_parameters();
  ASSERT_EQ(loaded.model->named_parameters().size(), original.size());
  for (const auto& item : loaded.model->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), original[item.key()])) << item.key();
  }
  ASSERT_EQ(loaded.extra_tensors.size(), extra.size());
  for (const auto& [name, tensor] : extra) {
    EXPECT_EQ(loaded.extra_tensors.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(loaded.extra_tensors.at(name), tensor)) << name;
  }
  const torch::Tensor tokens = random_tokens(2, 8, 96, 3);
  EXPECT_TRUE(torch::equal(loaded.model->forward(tokens).logits, model->forward(tokens).logits));

  // Resume path: into an existing model of the same layout, keeping its requires_grad flags.
  auto target = std::make_shared<MoeTransformer>(model->config(), model->group_sizes(), /*initialise=*/true);
  target->apply_trainable_policy({});
  const LoadedCheckpoint into = load_checkpoint_into(dir / "ckpt", *target);
  EXPECT_TRUE(torch::equal(target->layer(0).moe().group(1).w3(), model->layer(0).moe().group(1).w3()));
  EXPECT_FALSE(target->embedding().requires_grad());
  EXPECT_EQ(into.extra_tensors.size(), 4u);
}

TEST(Checkpoint, SavingReplacesAtomicallyAndLeavesNoTemporaryFolders) {
  TempDir dir;
  const auto model = grown_model();
  save_checkpoint(dir / "ckpt", *model, {}, 1);
  save_checkpoint(dir / "ckpt", *model, {}, 2);
  EXPECT_EQ(read_checkpoint_metadata(dir / "ckpt").step, 2);
  // A save that fails part-way (a tensor type safetensors cannot hold) leaves the previous checkpoint untouched.
  const std::map<std::string, torch::Tensor> unsupported{{"complex", torch::zeros({2}, torch::kComplexFloat)}};
  EXPECT_ANY_THROW(save_checkpoint(dir / "ckpt", *model, unsupported, 3));
  EXPECT_EQ(read_checkpoint_metadata(dir / "ckpt").step, 2);
  EXPECT_EQ(load_error(dir / "ckpt"), "(loaded)");
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "ckpt");
  }
  EXPECT_EQ(entries, 1u);
}

TEST(Checkpoint, TruncatedOrAlteredFilesAreRejectedNamingThem) {
  TempDir dir;
  const auto model = grown_model();
  save_checkpoint(dir / "ckpt", *model, {{"m", torch::ones({4})}}, 7);
  const fs::path tensors = dir / "ckpt" / kModelTensorsFile;

  fs::copy(dir / "ckpt", dir / "altered", fs::copy_options::recursive);
  flip_byte(dir / "altered" / kModelTensorsFile, fs::file_size(tensors) - 10);
  std::string message = load_error(dir / "altered");
  EXPECT_NE(message.find((dir / "altered" / kModelTensorsFile).string()), std::string::npos) << message;
  EXPECT_NE(message.find("altered or truncated"), std::string::npos) << message;

  fs::copy(dir / "ckpt", dir / "truncated", fs::copy_options::recursive);
  fs::resize_file(dir / "truncated" / kModelTensorsFile, fs::file_size(tensors) - 100);
  message = load_error(dir / "truncated");
  EXPECT_NE(message.find((dir / "truncated" / kModelTensorsFile).string()), std::string::npos) << message;
  // Without checksum verification the safetensors reader itself catches the truncation.
  LoadOptions unchecked;
  unchecked.verify_checksums = false;
  message = load_error(dir / "truncated", unchecked);
  EXPECT_NE(message.find((dir / "truncated" / kModelTensorsFile).string()), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  fs::copy(dir / "ckpt", dir / "no_metadata", fs::copy_options::recursive);
  fs::remove(dir / "no_metadata" / kMetadataFile);
  message = load_error(dir / "no_metadata");
  EXPECT_NE(message.find((dir / "no_metadata" / kMetadataFile).string()), std::string::npos) << message;

  fs::copy(dir / "ckpt", dir / "bad_json", fs::copy_options::recursive);
  std::ofstream(dir / "bad_json" / kMetadataFile) << "{\"format\": \"grove-checkpoint\", ";
  message = load_error(dir / "bad_json");
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;

  EXPECT_NE(load_error(dir / "absent").find("checkpoint folder not found"), std::string::npos);
}

TEST(Checkpoint, ShapeMismatchNamesTheFirstTensorAndConfigMismatchNamesTheKey) {
  TempDir dir;
  const auto model = grown_model();
  save_checkpoint(dir / "ckpt", *model, {}, 7);
  // Metadata edited to a different expert width (checksums regenerated): the tensors no longer fit.
  nlohmann::json metadata = nlohmann::json::parse(std::ifstream(dir / "ckpt" / kMetadataFile));
  metadata["config"]["d_expert"] = 40;
  std::ofstream(dir / "ckpt" / kMetadataFile) << metadata.dump(2);
  rewrite_checksums(dir / "ckpt");
  const std::string message = load_error(dir / "ckpt");
  EXPECT_NE(message.find("tensor 'layers.0.moe.groups.0.w1' has shape [4, 48, 32], the model expects [4, 40, 32]"),
            std::string::npos)
      << message;

  // Group layout edited: a tensor the checkpoint has is missing from the layout it describes.
  metadata["config"]["d_expert"] = 48;
  metadata["group_sizes"] = {4};
  std::ofstream(dir / "ckpt" / kMetadataFile) << metadata.dump(2);
  rewrite_checksums(dir / "ckpt");
  EXPECT_NE(load_error(dir / "ckpt").find("'layers.0.moe.groups.1.w1' is not a parameter"), std::string::npos);

  // Resuming into a model of another config names the differing key.
  metadata["group_sizes"] = {4, 3};
  std::ofstream(dir / "ckpt" / kMetadataFile) << metadata.dump(2);
  rewrite_checksums(dir / "ckpt");
  ModelConfig other = model->config();
  other.d_model = 64;
  other.head_dim = 16;
  MoeTransformer different(other, {4, 3}, /*initialise=*/false);
  try {
    load_checkpoint_into(dir / "ckpt", different);
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("model.d_model: checkpoint 32, model 64"), std::string::npos) << e.what();
  }
  MoeTransformer fewer(model->config(), {4}, /*initialise=*/false);
  EXPECT_THROW(load_checkpoint_into(dir / "ckpt", fewer), CheckpointError);
}

}  // namespace
}  // namespace grove::model
