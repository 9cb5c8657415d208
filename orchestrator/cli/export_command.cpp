// `grove export hf`: write a Hugging Face Mixtral checkpoint (config.json, model.safetensors, tokenizer files) from a
// Grove checkpoint folder, loadable with transformers' MixtralForCausalLM.
#include <fmt/format.h>

#include <memory>

#include "model/hf_export.h"
#include "orchestrator/cli/command.h"

namespace grove::cli {
namespace {

struct ExportHfArgs {
  std::string checkpoint;
  std::string tokenizer;
  std::string out;
  std::string dtype = "float32";
};

int run_export_hf(const ExportHfArgs& args) {
  model::HfExportOptions options;
  options.dtype = args.dtype;
  const model::HfExportSummary summary = model::export_hf_checkpoint(args.checkpoint, args.tokenizer, args.out, options);
  fmt::print("exported {} tensors ({} experts per layer, {:.1f} MB, {}) to {}\n", summary.n_tensors, summary.n_experts,
             static_cast<double>(summary.bytes) / 1e6, args.dtype, args.out);
  return 0;
}

}  // namespace

Command export_command() {
  return {"export", "Export a checkpoint to another format (hf: a Hugging Face Mixtral checkpoint)",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<ExportHfArgs>();
            app.require_subcommand(1);
            CLI::App* hf = app.add_subcommand(
                "hf", "Write config.json, model.safetensors (Mixtral tensor names) and the tokenizer for transformers");
            hf->add_option("--checkpoint", args->checkpoint, "Grove checkpoint folder (holds metadata.json)")
                ->required();
            hf->add_option("--tokenizer", args->tokenizer, "The run's SentencePiece model file (tokenizer.model)")
                ->required();
            hf->add_option("--out", args->out, "Output folder: new, empty, or an earlier export (which is replaced); anything else is refused")->required();
            hf->add_option("--dtype", args->dtype, "Stored tensor type: float32 (default) or bfloat16")
                ->check(CLI::IsMember({"float32", "bfloat16"}));
            return [args, hf]() { return hf->parsed() ? run_export_hf(*args) : 2; };
          }};
}

}  // namespace grove::cli
