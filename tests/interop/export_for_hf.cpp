// Interop driver: builds a small grown Grove model (three expert groups, perturbed norms, GQA or tied embeddings),
// exports it with export_hf, and writes the tokens and Grove's fp32 CPU logits beside it for
// check_hf_mixtral.py, which loads the export with transformers and compares logits.
//   grove_interop_export --out DIR --tokenizer FILE [--variant gqa|tied]
// (the tokenizer comes from grove_test_spm: SentencePiece cannot share this process with LibTorch, see spm_tool.cpp)
// Writes DIR/hf/ (the Hugging Face folder) and DIR/reference.safetensors (tokens I64 [B, T], logits F32 [B, T, V]).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "model/growth.h"
#include "model/hf_export.h"
#include "model/moe_transformer.h"
#include "model/seeded_init.h"
#include "model/sentencepiece_model.h"
#include "model/tensor_io.h"

namespace fs = std::filesystem;
using namespace grove::model;

namespace {

ModelConfig variant_config(const std::string& variant, int64_t vocab) {
  ModelConfig config;
  config.vocab_size = vocab;
  config.d_model = 64;
  config.n_layers = 3;
  config.n_heads = 4;
  config.head_dim = 16;
  config.d_expert = 96;
  config.n_experts = 4;
  config.max_seq_len = 64;
  config.rope_theta = 20000.0;  // not transformers' Mixtral default (1e6): the export must carry it
  config.norm_eps = 1e-6;
  config.init_std = 0.08;
  config.seed = 1234;
  if (variant == "gqa") {
    config.n_kv_heads = 2;
    config.top_k = 2;
  } else {
    config.n_kv_heads = 4;
    config.top_k = 1;
    config.tie_embeddings = true;
    config.router_bias = true;  // stays zero: exportable
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Export a small grown Grove model to Hugging Face format with reference logits"};
  std::string out, tokenizer_arg, variant = "gqa";
  app.add_option("--out", out, "Output folder")->required();
  app.add_option("--tokenizer", tokenizer_arg, "SentencePiece model to export with the model")->required();
  app.add_option("--variant", variant, "gqa (untied, 2 KV heads, top-2) or tied (tied embeddings, top-1)")
      ->check(CLI::IsMember({"gqa", "tied"}));
  CLI11_PARSE(app, argc, argv);
  try {
    fs::create_directories(out);
    const fs::path tokenizer = tokenizer_arg;
    const int64_t vocab = read_sentencepiece_model(tokenizer).vocab_size();

    MoeTransformer model(variant_config(variant, vocab));
    ForwardOptions pre_pass;
    pre_pass.collect_routing = true;
    GrowthOptions growth;
    growth.n_per_layer = 2;
    growth.init = GrowthInit::kCopy;
    growth.noise_std = 0.5;
    growth.seed = 1;
    growth.parent_routing_counts = model.forward(torch::randint(vocab, {2, 32}, cpu_generator(5)), pre_pass).routing_counts;
    grow(model, growth);
    growth.n_per_layer = 1;
    growth.init = GrowthInit::kRandom;
    growth.seed = 2;
    grow(model, growth);
    {
      // Norm weights away from 1 so swapped norms would show in the logits.
      torch::NoGradGuard no_grad;
      for (auto& item : model.named_parameters()) {
        if (item.key().ends_with("_norm")) item.value().copy_(1.0 + seeded_normal(item.value().sizes(), 0.2, derive_seed(9, item.key())));
      }
    }
    model.eval();
    const torch::Tensor tokens = torch::randint(vocab, {2, 48}, cpu_generator(6), torch::TensorOptions().dtype(torch::kLong));
    ForwardOptions options;
    options.backend = ExpertBackend::kLoop;
    const torch::Tensor logits = model.forward(tokens, options).logits.contiguous();

    const HfExportSummary summary = export_hf(model, tokenizer, fs::path(out) / "hf");
    write_tensors(fs::path(out) / "reference.safetensors", {{"tokens", tokens}, {"logits", logits}});
    fmt::print("variant {}: {} layers x {} experts (groups {}), vocab {}, {} tensors exported to {}\n", variant,
               model.n_layers(), summary.n_experts, model.group_sizes().size(), vocab, summary.n_tensors,
               (fs::path(out) / "hf").string());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "grove_interop_export: error: {}\n", e.what());
    return 1;
  }
}
