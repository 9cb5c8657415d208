// `grove tokenizer train|list`: train a SentencePiece tokenizer on ingested distributions (stored by hash and
// registered), optionally tokenizing every current distribution with it; list the registered tokenizers.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "common/errors.h"
#include "common/file_permissions.h"
#include "data_streams/tokenize.h"
#include "data_streams/tokenizer_registry.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/output_format.h"
#include "orchestrator/cli/registry_command.h"
#include "orchestrator/stop_signal.h"
#include "registry/distributions.h"
#include "registry/tokenizers.h"

namespace grove::cli {
namespace {

struct TokenizerArgs {
  std::vector<std::string> on;
  uint32_t vocab_size = 8000;
  std::string kind = "unigram";
  double sample_mb = 4.0;
  uint64_t seed = 0;
  bool tokenize_all = false;
  std::string format = "table";
  std::string registry;
};

int run_train(const TokenizerArgs& args) {
  const auto registry_path = resolve_registry_path(args.registry);
  // The model (pieces of the corpora) and shards are no more readable than the registry's folder; SIGTERM/SIGINT
  // stop the training (SentencePiece is left behind, nothing registered) or the tokenizing between chunks.
  narrow_umask_to_folder(std::filesystem::absolute(registry_path).parent_path());
  orch::install_stop_signal_handlers();
  auto db = registry::Database::open(registry_path, registry::OpenMode::kReadWrite);
  data::TokenizerSpec spec;
  spec.kind = registry::parse_tokenizer_kind(args.kind);
  spec.vocab_size = args.vocab_size;
  spec.train_on = args.on;
  if (!(args.sample_mb > 0)) throw ConfigError("grove tokenizer train: --sample-mb must be positive");
  spec.sample_bytes_per_distribution = static_cast<uint64_t>(args.sample_mb * 1e6);
  spec.seed = args.seed;
  const data::TrainedTokenizer trained = data::train_tokenizer(db, spec);
  fmt::print("tokenizer {} ({} {}, {} pieces) trained on {} documents, {:.1f} MB of {} in {:.1f} s; model {}\n",
             trained.hash, args.kind, "sentencepiece", trained.vocab_size, trained.sample_docs,
             static_cast<double>(trained.sample_bytes) / 1e6, fmt::join(args.on, ", "), trained.seconds,
             trained.model_path);
  if (args.tokenize_all) {
    for (const auto& distribution : registry::list_distributions(db)) {
      const auto report = data::ensure_tokenized(db, distribution.id, trained.id);
      fmt::print("  {}: {} train + {} holdout tokens{}\n", distribution.name, report.train_tokens,
                 report.holdout_tokens, report.already_done ? " (already tokenized)" : "");
    }
  }
  return 0;
}

int run_list(const TokenizerArgs& args) {
  auto db = registry::Database::open(resolve_registry_path(args.registry), registry::OpenMode::kReadOnly);
  Table table({{"id"}, {"hash", Overflow::kWrap, 16}, {"kind"}, {"vocab_size"}, {"trained_on"}, {"sample_bytes"},
               {"model"}, {"model_path", Overflow::kWrap, 8, Show::kDataOnly}, {"created_at", Overflow::kWrap, 20}});
  std::vector<std::string> problems;  // a model file that is missing or corrupt, named on stderr
  for (const auto& row : registry::list_tokenizers(db)) {
    const auto optional = [](const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); };
    const auto model = data::check_registered_model(db, row);
    if (!model.ok()) problems.push_back(model.problem);
    table.add_row({row.id, row.hash, std::string(registry::to_text(row.kind)), optional(row.vocab_size),
                   fmt::format("{}", fmt::join(row.trained_on, ", ")), optional(row.sample_bytes), model.state,
                   row.model_path, row.created_at});
  }
  fmt::print("{}", render(table, parse_output_format(args.format)));
  for (const auto& problem : problems) {
    fmt::print(stderr, "grove: warning: {}; runs that use it cannot resume or export: restore it from a backup, or "
                       "train it again with the same settings (`grove tokenizer train`)\n",
               problem);
  }
  return problems.empty() ? 0 : static_cast<int>(ExitCode::kRuntime);
}

}  // namespace

Command tokenizer_command() {
  return {"tokenizer", "Train a SentencePiece tokenizer on ingested distributions, or list tokenizers",
          [](CLI::App& app) -> CommandRunner {
            auto args = std::make_shared<TokenizerArgs>();
            app.require_subcommand(1);
            CLI::App* train = app.add_subcommand("train", "Train, store by hash and register a tokenizer");
            train->add_option("--on", args->on, "Distribution names to sample from")->required();
            train->add_option("--vocab-size", args->vocab_size, "Vocabulary size (default 8000)");
            train->add_option("--kind", args->kind, "bpe or unigram (default unigram)")
                ->check(CLI::IsMember({"bpe", "unigram"}));
            train->add_option("--sample-mb", args->sample_mb, "Megabytes of text sampled per distribution (default 4)");
            train->add_option("--seed", args->seed, "Seed of the document sample (default 0)");
            train->add_flag("--tokenize-all", args->tokenize_all, "Then tokenize every current distribution with it");
            train->add_option("--registry", args->registry, "Registry file (default $GROVE_REGISTRY, then ./grove.db)");
            CLI::App* list = app.add_subcommand("list", "List registered tokenizers");
            list->add_option("--format", args->format, "table, json or csv")
                ->check(CLI::IsMember({"table", "json", "csv"}));
            list->add_option("--registry", args->registry, "Registry file (default $GROVE_REGISTRY, then ./grove.db)");
            return [args, train] { return train->parsed() ? run_train(*args) : run_list(*args); };
          }};
}

}  // namespace grove::cli
