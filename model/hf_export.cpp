#include "model/hf_export.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/replaceable_folder.h"
#include "model/checkpoint.h"
#include "model/moe_transformer.h"
#include "model/sentencepiece_model.h"
#include "model/temp_folder.h"
#include "model/tensor_io.h"

namespace grove::model {
namespace fs = std::filesystem;
namespace {

torch::ScalarType export_dtype(const std::string& name) {
  if (name == "float32") return torch::kFloat;
  if (name == "bfloat16") return torch::kBFloat16;
  throw ConfigError(fmt::format("export hf: dtype '{}' is not one of float32, bfloat16", name));
}

nlohmann::json token_or_null(const SentencePieceModelInfo& tokenizer, int id) {
  return id < 0 ? nlohmann::json(nullptr) : nlohmann::json(tokenizer.piece(id));
}

nlohmann::json id_or_null(int id) { return id < 0 ? nlohmann::json(nullptr) : nlohmann::json(id); }

// Mixtral's router has no bias: a Grove router bias can only be dropped when it is exactly zero.
void check_router_bias(const MoeTransformer& model) {
  for (int64_t layer = 0; layer < model.n_layers(); ++layer) {
    const MoeLayerImpl& moe = model.layer(layer).moe();
    for (size_t g = 0; g < moe.n_groups(); ++g) {
      if (!moe.group(g).has_gate_bias()) continue;
      const double largest = moe.group(g).gate_bias().abs().max().item<double>();
      if (largest != 0.0) {
        throw ConfigError(fmt::format(
            "export hf: layers.{}.moe.groups.{}.gate_bias is non-zero (max |b| = {:.3g}); Mixtral's router has no "
            "bias, so the exported model would route tokens differently. Models trained with router_bias: true "
            "cannot be exported to the Mixtral format.",
            layer, g, largest));
      }
    }
  }
}

// Mixtral tensor names, in file order, mapped onto Grove's parameters (views, no copies except the gate rows).
std::vector<std::pair<std::string, torch::Tensor>> mixtral_tensors(const MoeTransformer& model) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  tensors.emplace_back("model.embed_tokens.weight", model.embedding());
  for (int64_t i = 0; i < model.n_layers(); ++i) {
    const DecoderLayerImpl& layer = model.layer(i);
    const std::string prefix = fmt::format("model.layers.{}.", i);
    tensors.emplace_back(prefix + "input_layernorm.weight", layer.attn_norm());
    tensors.emplace_back(prefix + "self_attn.q_proj.weight", layer.attention().q_proj());
    tensors.emplace_back(prefix + "self_attn.k_proj.weight", layer.attention().k_proj());
    tensors.emplace_back(prefix + "self_attn.v_proj.weight", layer.attention().v_proj());
    tensors.emplace_back(prefix + "self_attn.o_proj.weight", layer.attention().o_proj());
    tensors.emplace_back(prefix + "post_attention_layernorm.weight", layer.moe_norm());
    const MoeLayerImpl& moe = layer.moe();
    std::vector<torch::Tensor> gate_rows;
    for (size_t g = 0; g < moe.n_groups(); ++g) gate_rows.push_back(moe.group(g).gate_weight());
    tensors.emplace_back(prefix + "block_sparse_moe.gate.weight", torch::cat(gate_rows, 0));
    int64_t slot = 0;
    for (size_t g = 0; g < moe.n_groups(); ++g) {
      const ExpertGroupImpl& group = moe.group(g);
      for (int64_t j = 0; j < group.n_experts(); ++j, ++slot) {
        const std::string expert = fmt::format("{}block_sparse_moe.experts.{}.", prefix, slot);
        tensors.emplace_back(expert + "w1.weight", group.w1()[j]);
        tensors.emplace_back(expert + "w2.weight", group.w2()[j]);
        tensors.emplace_back(expert + "w3.weight", group.w3()[j]);
      }
    }
  }
  tensors.emplace_back("model.norm.weight", model.final_norm());
  if (!model.config().tie_embeddings) tensors.emplace_back("lm_head.weight", model.lm_head());
  return tensors;
}

nlohmann::json tokenizer_config(const SentencePieceModelInfo& tokenizer, const ModelConfig& config) {
  return {{"tokenizer_class", "LlamaTokenizer"},
          {"model_max_length", config.max_seq_len},
          {"bos_token", token_or_null(tokenizer, tokenizer.bos_id)},
          {"eos_token", token_or_null(tokenizer, tokenizer.eos_id)},
          {"unk_token", token_or_null(tokenizer, tokenizer.unk_id)},
          {"pad_token", token_or_null(tokenizer, tokenizer.pad_id)},
          {"add_bos_token", tokenizer.bos_id >= 0},
          {"add_eos_token", false},
          {"clean_up_tokenization_spaces", false},
          {"legacy", false},
          {"sp_model_kwargs", nlohmann::json::object()}};
}

nlohmann::json special_tokens_map(const SentencePieceModelInfo& tokenizer) {
  nlohmann::json map = nlohmann::json::object();
  if (tokenizer.bos_id >= 0) map["bos_token"] = tokenizer.piece(tokenizer.bos_id);
  if (tokenizer.eos_id >= 0) map["eos_token"] = tokenizer.piece(tokenizer.eos_id);
  if (tokenizer.unk_id >= 0) map["unk_token"] = tokenizer.piece(tokenizer.unk_id);
  if (tokenizer.pad_id >= 0) map["pad_token"] = tokenizer.piece(tokenizer.pad_id);
  return map;
}

// What an export writes: `--out` may name a folder that holds these and nothing else, which is replaced.
const ReplaceableFolder& hf_export_folder() {
  static const ReplaceableFolder kind{"export hf",
                                      "a Hugging Face export",
                                      {"model.safetensors", "config.json", "tokenizer.model", "tokenizer_config.json",
                                       "special_tokens_map.json"}};
  return kind;
}

}  // namespace

nlohmann::json hf_mixtral_config(const ModelConfig& config, int64_t n_experts, const SentencePieceModelInfo& tokenizer,
                                 const std::string& dtype) {
  return {{"architectures", {"MixtralForCausalLM"}},
          {"model_type", "mixtral"},
          {"vocab_size", config.vocab_size},
          {"hidden_size", config.d_model},
          {"intermediate_size", config.d_expert},
          {"num_hidden_layers", config.n_layers},
          {"num_attention_heads", config.n_heads},
          {"num_key_value_heads", config.n_kv_heads},
          {"head_dim", config.head_dim},
          {"hidden_act", "silu"},
          {"max_position_embeddings", config.max_seq_len},
          {"initializer_range", config.init_std},
          {"rms_norm_eps", config.norm_eps},
          {"use_cache", true},
          {"bos_token_id", id_or_null(tokenizer.bos_id)},
          {"eos_token_id", id_or_null(tokenizer.eos_id)},
          {"pad_token_id", id_or_null(tokenizer.pad_id)},
          {"tie_word_embeddings", config.tie_embeddings},
          // transformers 4.x reads rope_theta; 5.x reads rope_parameters (and would default theta to 1e6 without it).
          {"rope_theta", config.rope_theta},
          {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", config.rope_theta}}},
          {"sliding_window", nullptr},
          {"attention_dropout", 0.0},
          {"num_experts_per_tok", config.top_k},
          {"num_local_experts", n_experts},
          {"output_router_logits", false},
          {"router_aux_loss_coef", config.load_balance_weight},
          {"router_jitter_noise", 0.0},
          {"dtype", dtype}};
}

HfExportSummary export_hf(const MoeTransformer& model, const fs::path& tokenizer_model, const fs::path& out,
                          const HfExportOptions& options) {
  const fs::path out_dir = normalised_output_folder(out, hf_export_folder());
  check_replaceable(out_dir, hf_export_folder());
  const torch::ScalarType dtype = export_dtype(options.dtype);
  const SentencePieceModelInfo tokenizer = read_sentencepiece_model(tokenizer_model);
  const ModelConfig& config = model.config();
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw ConfigError(fmt::format("export hf: tokenizer {} has {} pieces but the model's vocab_size is {}",
                                  tokenizer_model.string(), tokenizer.vocab_size(), config.vocab_size));
  }
  check_router_bias(model);

  TempFolder temp(out_dir);
  HfExportSummary summary;
  summary.n_experts = model.n_experts_per_layer();
  const auto tensors = mixtral_tensors(model);
  summary.n_tensors = static_cast<int64_t>(tensors.size());
  log::info("export hf: writing {} tensors ({} layers x {} experts) as {} to {}", tensors.size(), config.n_layers,
            summary.n_experts, options.dtype, out_dir.string());
  summary.bytes = write_tensors(temp / "model.safetensors", tensors, {{"format", "pt"}}, dtype);
  atomic_write_file(temp / "config.json",
                    hf_mixtral_config(config, summary.n_experts, tokenizer, options.dtype).dump(2) + "\n");
  fs::copy_file(tokenizer_model, temp / "tokenizer.model");
  atomic_write_file(temp / "tokenizer_config.json", tokenizer_config(tokenizer, config).dump(2) + "\n");
  atomic_write_file(temp / "special_tokens_map.json", special_tokens_map(tokenizer).dump(2) + "\n");
  publish_folder(temp.path(), out_dir);
  temp.release();
  log::info("export hf: {} written ({} bytes of tensors)", out_dir.string(), summary.bytes);
  return summary;
}

HfExportSummary export_hf_checkpoint(const fs::path& checkpoint_dir, const fs::path& tokenizer_model,
                                     const fs::path& out_dir, const HfExportOptions& options) {
  check_replaceable(normalised_output_folder(out_dir, hf_export_folder()), hf_export_folder());  // before the load
  log::info("export hf: loading checkpoint {}", checkpoint_dir.string());
  const LoadedCheckpoint loaded = load_checkpoint(checkpoint_dir);
  return export_hf(*loaded.model, tokenizer_model, out_dir, options);
}

}  // namespace grove::model
