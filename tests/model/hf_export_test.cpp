// Hugging Face export: the SentencePiece model reader against the SentencePiece library, Mixtral tensor names,
// shapes and values, config.json, refusals (router bias, tokenizer larger than the vocabulary), and the
// `grove export hf` command.
#include "model/hf_export.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/errors.h"
#include "model/checkpoint.h"
#include "model/moe_transformer.h"
#include "model/safetensors.h"
#include "model/sentencepiece_model.h"
#include "model/tensor_io.h"
#include "tests/model/model_test_util.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::model {
namespace {
namespace fs = std::filesystem;
using grove::testing::TempDir;

constexpr int kVocab = 400;

// One tokenizer for the whole suite: training takes a moment.
const fs::path& tokenizer_path() {
  static TempDir dir("grove-hf-export");
  static const fs::path path = testing::train_fortune_tokenizer(dir.path(), kVocab);
  return path;
}

std::shared_ptr<MoeTransformer> grown_model(bool tie = false) {
  ModelConfig config = testing::tiny_config(3);
  config.vocab_size = kVocab;
  config.tie_embeddings = tie;
  return testing::grown_random_model(config, 2, 9);
}

nlohmann::json read_json(const fs::path& path) { return nlohmann::json::parse(std::ifstream(path)); }

TEST(SentencePieceModel, ReaderAgreesWithTheSentencePieceLibrary) {
  const SentencePieceModelInfo info = read_sentencepiece_model(tokenizer_path());
  std::istringstream library(testing::dump_sentencepiece_model(tokenizer_path()));
  std::string word;
  int unk = 0, bos = 0, eos = 0, pad = 0;
  library >> word >> unk >> bos >> eos >> pad;
  ASSERT_EQ(word, "ids");
  EXPECT_EQ(info.unk_id, unk);
  EXPECT_EQ(info.bos_id, bos);
  EXPECT_EQ(info.eos_id, eos);
  EXPECT_EQ(info.pad_id, pad);
  EXPECT_TRUE(info.byte_fallback);
  const std::map<SentencePieceModelInfo::PieceType, std::string> names{
      {SentencePieceModelInfo::PieceType::kNormal, "normal"}, {SentencePieceModelInfo::PieceType::kUnknown, "unknown"},
      {SentencePieceModelInfo::PieceType::kControl, "control"}, {SentencePieceModelInfo::PieceType::kByte, "byte"},
      {SentencePieceModelInfo::PieceType::kUnused, "unused"}, {SentencePieceModelInfo::PieceType::kUserDefined, "normal"}};
  library.ignore(1);
  std::string line;
  int64_t count = 0;
  while (std::getline(library, line)) {
    const size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    const int id = std::stoi(line.substr(0, tab1));
    ASSERT_EQ(id, count);
    EXPECT_EQ(names.at(info.types[static_cast<size_t>(id)]), line.substr(tab1 + 1, tab2 - tab1 - 1)) << id;
    EXPECT_EQ(info.pieces[static_cast<size_t>(id)], line.substr(tab2 + 1)) << id;
    ++count;
  }
  EXPECT_EQ(count, kVocab);
  EXPECT_EQ(info.vocab_size(), kVocab);
}

TEST(SentencePieceModel, GarbageIsRejectedNamingTheFile) {
  TempDir dir;
  const fs::path path = grove::testing::write_file(dir / "tokenizer.model", "\x0a\xff\xff\xff\x0f not a model");
  try {
    read_sentencepiece_model(path);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_sentencepiece_model(dir / "missing.model"), DataError);
}

TEST(HfExport, WritesMixtralNamesShapesValuesAndConfig) {
  TempDir dir;
  const auto model = grown_model();
  const ModelConfig& c = model->config();
  const HfExportSummary summary = export_hf(*model, tokenizer_path(), dir / "hf");
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json",
                           "special_tokens_map.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / "hf" / file)) << file;
  }
  const int64_t experts = 6;
  EXPECT_EQ(summary.n_experts, experts);

  // Expected names and shapes, written out from transformers' Mixtral layout.
  std::map<std::string, std::vector<int64_t>> expected{{"model.embed_tokens.weight", {kVocab, 32}},
                                                       {"model.norm.weight", {32}},
                                                       {"lm_head.weight", {kVocab, 32}}};
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    expected[p + "input_layernorm.weight"] = {32};
    expected[p + "post_attention_layernorm.weight"] = {32};
    expected[p + "self_attn.q_proj.weight"] = {4 * 8, 32};
    expected[p + "self_attn.k_proj.weight"] = {2 * 8, 32};
    expected[p + "self_attn.v_proj.weight"] = {2 * 8, 32};
    expected[p + "self_attn.o_proj.weight"] = {32, 4 * 8};
    expected[p + "block_sparse_moe.gate.weight"] = {experts, 32};
    for (int e = 0; e < experts; ++e) {
      const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
      expected[x + "w1.weight"] = {48, 32};
      expected[x + "w3.weight"] = {48, 32};
      expected[x + "w2.weight"] = {32, 48};
    }
  }
  SafetensorsReader reader(dir / "hf" / "model.safetensors");
  EXPECT_EQ(reader.metadata().at("format"), "pt") << "transformers refuses safetensors without format=pt";
  std::map<std::string, std::vector<int64_t>> written;
  for (const TensorInfo& info : reader.tensors()) {
    written[info.name] = info.shape;
    EXPECT_EQ(info.dtype, DType::kF32) << info.name;
  }
  EXPECT_EQ(written, expected);
  EXPECT_EQ(summary.n_tensors, static_cast<int64_t>(expected.size()));

  // Values: slot 5 of layer 1 is expert 1 of the grown group; the gate stacks both groups' rows.
  const MoeLayerImpl& moe = model->layer(1).moe();
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.layers.1.block_sparse_moe.experts.5.w2.weight"),
                           moe.group(1).w2()[1]));
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.layers.1.block_sparse_moe.experts.2.w1.weight"),
                           moe.group(0).w1()[2]));
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.layers.1.block_sparse_moe.gate.weight"),
                           torch::cat({moe.group(0).gate_weight(), moe.group(1).gate_weight()})));
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.layers.0.self_attn.k_proj.weight"),
                           model->layer(0).attention().k_proj()));
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.layers.0.post_attention_layernorm.weight"),
                           model->layer(0).moe_norm()));

  const nlohmann::json config = read_json(dir / "hf" / "config.json");
  EXPECT_EQ(config["architectures"][0], "MixtralForCausalLM");
  EXPECT_EQ(config["model_type"], "mixtral");
  EXPECT_EQ(config["hidden_size"], c.d_model);
  EXPECT_EQ(config["intermediate_size"], c.d_expert);
  EXPECT_EQ(config["num_local_experts"], experts);
  EXPECT_EQ(config["num_experts_per_tok"], c.top_k);
  EXPECT_EQ(config["num_key_value_heads"], 2);
  EXPECT_EQ(config["head_dim"], 8);
  EXPECT_EQ(config["rms_norm_eps"], c.norm_eps);
  EXPECT_EQ(config["rope_theta"], c.rope_theta);
  EXPECT_EQ(config["rope_parameters"]["rope_theta"], c.rope_theta);
  EXPECT_TRUE(config["sliding_window"].is_null());
  EXPECT_EQ(config["bos_token_id"], 1);
  EXPECT_EQ(config["eos_token_id"], 2);
  EXPECT_EQ(config["tie_word_embeddings"], false);
  const nlohmann::json tokenizer = read_json(dir / "hf" / "tokenizer_config.json");
  EXPECT_EQ(tokenizer["bos_token"], "<s>");
  EXPECT_EQ(tokenizer["unk_token"], "<unk>");
  EXPECT_EQ(fs::file_size(dir / "hf" / "tokenizer.model"), fs::file_size(tokenizer_path()));
}

TEST(HfExport, TiedEmbeddingsAndBf16) {
  TempDir dir;
  const auto model = grown_model(/*tie=*/true);
  HfExportOptions options;
  options.dtype = "bfloat16";
  export_hf(*model, tokenizer_path(), dir / "hf", options);
  SafetensorsReader reader(dir / "hf" / "model.safetensors");
  EXPECT_FALSE(reader.contains("lm_head.weight")) << "transformers ties lm_head to the embedding itself";
  EXPECT_EQ(reader.info("model.embed_tokens.weight").dtype, DType::kBF16);
  EXPECT_TRUE(torch::equal(read_tensor(reader, "model.embed_tokens.weight"), model->embedding().to(torch::kBFloat16)));
  const nlohmann::json config = read_json(dir / "hf" / "config.json");
  EXPECT_EQ(config["tie_word_embeddings"], true);
  EXPECT_EQ(config["dtype"], "bfloat16");
}

TEST(HfExport, RefusesANonZeroRouterBiasAndATokenizerLargerThanTheVocabulary) {
  TempDir dir;
  ModelConfig config = testing::tiny_config(3);
  config.vocab_size = kVocab;
  config.router_bias = true;
  MoeTransformer biased(config);
  EXPECT_NO_THROW(export_hf(biased, tokenizer_path(), dir / "zero_bias")) << "an all-zero bias is exactly Mixtral";
  {
    torch::NoGradGuard no_grad;
    biased.layer(1).moe().group(0).gate_bias()[2].fill_(0.5);
  }
  try {
    export_hf(biased, tokenizer_path(), dir / "biased");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layers.1.moe.groups.0.gate_bias"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Mixtral's router has no bias"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "biased"));

  ModelConfig small = testing::tiny_config(3);
  small.vocab_size = kVocab - 1;
  try {
    export_hf(MoeTransformer(small), tokenizer_path(), dir / "small");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string expected = fmt::format("{} pieces but the model's vocab_size is {}", kVocab, kVocab - 1);
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "zero_bias") << "failed exports leave nothing behind";
  }
}

TEST(HfExport, CommandExportsACheckpointAndReportsBadInput) {
  TempDir dir;
  save_checkpoint(dir / "ckpt", *grown_model(), {}, 5);
  const auto ok = grove::testing::run_grove({"export", "hf", "--checkpoint", (dir / "ckpt").string(), "--tokenizer",
                                             tokenizer_path().string(), "--out", (dir / "hf").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("exported"), std::string::npos) << ok.out;
  EXPECT_TRUE(fs::is_regular_file(dir / "hf" / "model.safetensors"));
  EXPECT_EQ(read_json(dir / "hf" / "config.json")["num_local_experts"], 6);

  const auto missing = grove::testing::run_grove({"export", "hf", "--checkpoint", (dir / "nope").string(),
                                                  "--tokenizer", tokenizer_path().string(), "--out",
                                                  (dir / "hf2").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find((dir / "nope").string()), std::string::npos) << missing.err;

  const auto help = grove::testing::run_grove({"export", "hf", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--tokenizer"), std::string::npos) << help.out;
}

TEST(HfExport, OutMustBeNewEmptyOrAnEarlierExportAndATrailingSlashIsTheSameFolder) {
  // It replaced whatever --out named, files and the run's checkpoints included, and "hf/" staged inside itself.
  TempDir dir;
  save_checkpoint(dir / "ckpt", *grown_model(), {}, 5);
  auto export_to = [&](const fs::path& out) {
    return grove::testing::run_grove({"export", "hf", "--checkpoint", (dir / "ckpt").string(), "--tokenizer",
                                      tokenizer_path().string(), "--out", out.string()});
  };
  const auto slash = export_to(dir.path().string() + "/hf/");
  ASSERT_EQ(slash.exit_code, 0) << slash.err;
  EXPECT_TRUE(fs::is_regular_file(dir / "hf" / "model.safetensors"));
  const auto again = export_to(dir / "hf");  // an earlier export is replaced
  EXPECT_EQ(again.exit_code, 0) << again.err;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"ckpt", "hf"})) << "no staging folder or set-aside copy left";

  fs::create_directories(dir / "thesis");
  grove::testing::write_file(dir / "thesis" / "chapter1.tex", "precious\n");
  grove::testing::write_file(dir / "weights.bin", "important\n");
  const std::vector<std::pair<fs::path, std::string>> refused = {
      {dir / "thesis", "holds 'chapter1.tex', which is not part of a Hugging Face export"},
      {dir / "weights.bin", "exists and is not a folder"},
      {dir / "ckpt", "which is not part of a Hugging Face export"},  // the checkpoint being exported
      {"", "--out is empty"}};
  for (const auto& [out, expected] : refused) {
    const auto result = export_to(out);
    EXPECT_EQ(result.exit_code, 2) << out;
    EXPECT_NE(result.err.find(expected), std::string::npos) << out << ": " << result.err;
  }
  EXPECT_EQ(grove::testing::read_file(dir / "thesis" / "chapter1.tex"), "precious\n");
  EXPECT_EQ(grove::testing::read_file(dir / "weights.bin"), "important\n");
  EXPECT_NO_THROW(load_checkpoint(dir / "ckpt")) << "the checkpoint is still there";
}

}  // namespace
}  // namespace grove::model
