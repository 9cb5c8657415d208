// Export to a Hugging Face Mixtral checkpoint (MixtralForCausalLM): config.json, model.safetensors with Mixtral's
// per-expert tensor names, the SentencePiece model as tokenizer.model, tokenizer_config.json and
// special_tokens_map.json. The folder is written to a temporary sibling and renamed into place.
// Grove's layout maps one to one (RoPE in rotate-half layout, RMSNorm as Mixtral's, router softmax over the top-k),
// so no tensor is permuted; each layer's expert groups are concatenated in slot order. No LibTorch in this header:
// the CLI includes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace grove::model {

class MoeTransformer;
struct ModelConfig;
struct SentencePieceModelInfo;

struct HfExportOptions {
  std::string dtype = "float32";  // "float32" or "bfloat16": the stored tensor type and config.json's dtype
};

struct HfExportSummary {
  int64_t n_tensors = 0;
  int64_t n_experts = 0;  // per layer
  uint64_t bytes = 0;     // model.safetensors
};

// ConfigError (exit 2) when the model cannot be expressed as Mixtral: a non-zero router bias, or a tokenizer with
// more pieces than the model's vocabulary; DataError when the tokenizer file is not a SentencePiece model.
// `out_dir` ("hf/" is "hf") may be new, empty or an earlier export, which is replaced; a file, a symlink or a folder
// holding anything else is a ConfigError, checked before any work (common/replaceable_folder.h).
HfExportSummary export_hf(const MoeTransformer& model, const std::filesystem::path& tokenizer_model,
                          const std::filesystem::path& out_dir, const HfExportOptions& options = {});

// Loads the checkpoint folder (verifying checksums) on the CPU, then export_hf.
HfExportSummary export_hf_checkpoint(const std::filesystem::path& checkpoint_dir,
                                     const std::filesystem::path& tokenizer_model,
                                     const std::filesystem::path& out_dir, const HfExportOptions& options = {});

// config.json's content for `config` with `n_experts` experts per layer.
nlohmann::json hf_mixtral_config(const ModelConfig& config, int64_t n_experts, const SentencePieceModelInfo& tokenizer,
                                 const std::string& dtype);

}  // namespace grove::model
