#include "orchestrator/cli/registry_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "common/errors.h"
#include "common/progress.h"
#include "common/shell_word.h"
#include "model/checkpoint_disk_usage.h"
#include "orchestrator/cli/output_format.h"
#include "registry/registry.h"

namespace grove::cli {
namespace {
namespace reg = grove::registry;

struct QueryOptions {
  std::string registry;
  std::string run;
  std::string format = "table";
  bool all = false;              // distributions: retired versions too
  std::optional<int64_t> layer;  // experts, lineage
  std::optional<int64_t> slot;   // lineage
};

// What one query prints: a table, or (for forgetting) a table plus a JSON document and a note.
struct QueryResult {
  Table table;
  std::optional<nlohmann::ordered_json> json;  // replaces the table's JSON when set
  std::string note;                            // printed under the table in table format only
};

using Query = std::function<QueryResult(reg::Database&, const QueryOptions&)>;

template <typename T>
Value value_of(const std::optional<T>& v) {
  if (!v) return std::monostate{};
  if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(*v);
  } else {
    return *v;
  }
}

Value text(std::string_view s) { return std::string(s); }

// Column kinds: a timestamp never wraps; data-only columns (paths, hashes) are in JSON and CSV but not the table.
Column timestamp(std::string name, Show show = Show::kAll) { return {std::move(name), Overflow::kWrap, 20, show}; }
Column data_only(std::string name) { return {std::move(name), Overflow::kWrap, 8, Show::kDataOnly}; }

// The run named by --run, or the only run when there is exactly one.
reg::RunRow select_run(reg::Database& db, const QueryOptions& options) {
  if (!options.run.empty()) return reg::require_run(db, options.run);
  const auto runs = reg::list_runs(db);
  if (runs.size() == 1) return runs.front();
  if (runs.empty()) {
    throw RegistryError(fmt::format("registry {}: has no runs yet", db.path()), ExitCode::kBadInput);
  }
  std::string names;
  for (const auto& run : runs) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", run.name);
  throw RegistryError(fmt::format("registry {}: holds {} runs; choose one with --run NAME ({})", db.path(),
                                  runs.size(), names),
                      ExitCode::kBadInput);
}

std::map<int64_t, int64_t> phase_index(reg::Database& db, int64_t run_id) {
  std::map<int64_t, int64_t> index;
  for (const auto& phase : reg::list_phases(db, run_id)) index[phase.id] = phase.idx;
  return index;
}

Value phase_idx_of(const std::map<int64_t, int64_t>& index, std::optional<int64_t> phase_id) {
  if (!phase_id) return std::monostate{};
  const auto it = index.find(*phase_id);
  return it == index.end() ? Value{} : Value{it->second};
}

std::string distribution_name(reg::Database& db, int64_t id) {
  const auto row = reg::find_distribution(db, id);
  return row ? row->name : fmt::format("#{}", id);
}

QueryResult query_runs(reg::Database& db, const QueryOptions& options) {
  Table table({{"name"}, {"strategy"}, {"status"}, {"seed"}, {"phases"}, timestamp("created_at"),
               timestamp("updated_at", Show::kDataOnly), data_only("grove_version"), data_only("work_dir")});
  std::vector<reg::RunRow> runs;
  if (options.run.empty()) {
    runs = reg::list_runs(db);
  } else {
    runs.push_back(reg::require_run(db, options.run));
  }
  for (const auto& run : runs) {
    const auto phases = static_cast<int64_t>(reg::list_phases(db, run.id).size());
    table.add_row({run.name, run.strategy, text(reg::to_text(run.status)), run.seed, phases, run.created_at,
                   run.updated_at, run.grove_version, value_of(run.work_dir)});
  }
  return {std::move(table), std::nullopt, ""};
}

QueryResult query_distributions(reg::Database& db, const QueryOptions& options) {
  Table table({{"name"}, {"version"}, {"source"}, {"docs"}, {"bytes"}, {"tokens_train"}, {"tokens_holdout"},
               timestamp("ingested_at"), timestamp("retired_at", options.all ? Show::kAll : Show::kDataOnly),
               data_only("fingerprint"), data_only("shard_dir")});
  std::vector<reg::DistributionRow> rows;
  if (options.run.empty()) {
    rows = reg::list_distributions(db, options.all);
  } else {
    std::map<int64_t, bool> seen;
    for (const auto& phase : reg::list_phases(db, reg::require_run(db, options.run).id)) {
      if (!seen[phase.distribution_id]) rows.push_back(*reg::find_distribution(db, phase.distribution_id));
      seen[phase.distribution_id] = true;
    }
  }
  for (const auto& d : rows) {
    table.add_row({d.name, d.version, d.source_kind, value_of(d.n_docs), value_of(d.n_bytes),
                   value_of(d.n_tokens_train), value_of(d.n_tokens_holdout), d.ingested_at, value_of(d.retired_at),
                   d.fingerprint, d.shard_dir});
  }
  return {std::move(table), std::nullopt, ""};
}

QueryResult query_phases(reg::Database& db, const QueryOptions& options) {
  const auto run = select_run(db, options);
  Table table({{"phase"}, {"distribution"}, {"decision"}, {"experts_added"}, data_only("trained_group"),
               data_only("tokenizer"), {"status"},
               {"progress", Overflow::kWrap, 8, Show::kTableOnly}, data_only("steps_done"), data_only("steps_total"),
               data_only("disk_bytes"), timestamp("started_at", Show::kDataOnly), timestamp("finished_at"),
               {"reason", Overflow::kTruncate}, data_only("setup_s"), data_only("training_s"),
               data_only("checkpoint_s"), data_only("eval_s"), data_only("other_s"), data_only("wall_s"),
               data_only("train_tokens"), data_only("goodput_tokens_per_s")});
  // Disk: what the phase's checkpoints hold beyond earlier phases' (a blob shared with an earlier phase, such as a
  // frozen expert, counts for the phase that wrote it first). In JSON and CSV per row; under the table as a line.
  model::CheckpointDiskUsage disk;
  std::vector<std::string> disk_notes;
  uint64_t disk_total = 0;
  // Time: where each phase's wall time went (seconds) and its goodput. In JSON and CSV per row; under the table as
  // one line per phase, when any phase has it (registries before schema v3 have none).
  std::vector<std::string> time_notes;
  bool any_times = false;
  for (const auto& p : reg::list_phases(db, run.id)) {
    Value decision = p.decision ? text(reg::to_text(*p.decision)) : Value{};
    std::vector<std::filesystem::path> checkpoints;
    for (const auto& row : reg::list_checkpoints(db, run.id, p.id)) checkpoints.emplace_back(row.path);
    const uint64_t disk_bytes = disk.add(checkpoints);
    disk_total += disk_bytes;
    disk_notes.push_back(fmt::format("phase {} {}", p.idx, format_bytes(static_cast<double>(disk_bytes))));
    const auto times = reg::find_phase_times(db, p.id);
    any_times = any_times || times.has_value();
    const auto seconds = [&](double reg::PhaseTimes::*use) { return times ? Value{(*times).*use} : Value{}; };
    if (!times) {
      time_notes.push_back(fmt::format("  phase {}: not recorded", p.idx));
    } else {
      const auto goodput = times->goodput();
      time_notes.push_back(fmt::format("  phase {}: {:.1f} = {:.1f} + {:.1f} + {:.1f} + {:.1f} + {:.1f}; goodput {}",
                                       p.idx, times->wall_s(), times->setup_s, times->training_s,
                                       times->checkpoint_s, times->eval_s, times->other_s,
                                       goodput ? fmt::format("{:.0f} tokens/s", *goodput) : std::string("-")));
    }
    // The phase's own tokenizer (vocabulary growth) by hash, else the run's.
    const auto tokenizer_id = p.tokenizer_id ? p.tokenizer_id : run.tokenizer_id;
    const auto tokenizer = tokenizer_id ? reg::find_tokenizer(db, *tokenizer_id) : std::nullopt;
    table.add_row({p.idx, distribution_name(db, p.distribution_id), decision, p.experts_added,
                   value_of(p.trained_group), tokenizer ? text(tokenizer->hash) : Value{},
                   text(reg::to_text(p.status)), fmt::format("{}/{}", p.steps_done, p.steps_total), p.steps_done,
                   p.steps_total, static_cast<int64_t>(disk_bytes), value_of(p.started_at), value_of(p.finished_at),
                   value_of(p.decision_reason), seconds(&reg::PhaseTimes::setup_s),
                   seconds(&reg::PhaseTimes::training_s), seconds(&reg::PhaseTimes::checkpoint_s),
                   seconds(&reg::PhaseTimes::eval_s), seconds(&reg::PhaseTimes::other_s),
                   times ? Value{times->wall_s()} : Value{},
                   times ? Value{times->train_tokens} : Value{}, times ? value_of(times->goodput()) : Value{}});
  }
  std::string note;
  if (!disk_notes.empty()) {
    disk_notes.push_back(fmt::format("total {}", format_bytes(static_cast<double>(disk_total))));
    std::string line = "checkpoints on disk:";
    for (size_t i = 0; i < disk_notes.size(); ++i) {
      const std::string item = disk_notes[i] + (i + 1 < disk_notes.size() ? "," : "");
      if (line.size() + 1 + item.size() > 100) {
        note += line + "\n";
        line = " ";
      }
      line += " " + item;
    }
    note += line;
  }
  if (any_times) {
    note += std::string(note.empty() ? "" : "\n") +
            "time (s): wall = setup + training + checkpoint stalls + evaluation + other; goodput in tokens/s";
    for (const auto& line : time_notes) note += "\n" + line;
  }
  return {std::move(table), std::nullopt, note};
}

QueryResult query_experts(reg::Database& db, const QueryOptions& options) {
  const auto run = select_run(db, options);
  const auto phase_of = phase_index(db, run.id);
  Table table({{"layer"}, {"slot"}, {"group"}, {"init"}, {"parent_slot"}, {"born_phase"}, {"frozen_at_phase"},
               {"rank"}, {"n_params"}});
  const auto experts = reg::list_experts(db, run.id, options.layer);
  std::map<int64_t, int64_t> slot_of;
  for (const auto& e : experts) slot_of[e.id] = e.slot;
  for (const auto& e : experts) {
    Value parent;
    if (e.parent_expert_id) parent = slot_of.count(*e.parent_expert_id) ? slot_of[*e.parent_expert_id] : Value{};
    table.add_row({e.layer, e.slot, e.group_idx, text(reg::to_text(e.init)), parent,
                   phase_idx_of(phase_of, e.born_phase_id), phase_idx_of(phase_of, e.frozen_at_phase_id), e.rank,
                   value_of(e.n_params)});
  }
  return {std::move(table), std::nullopt, ""};
}

QueryResult query_lineage(reg::Database& db, const QueryOptions& options) {
  const auto run = select_run(db, options);
  const auto phase_of = phase_index(db, run.id);
  if (options.layer.has_value() != options.slot.has_value()) {
    throw ConfigError("registry lineage: give both --layer and --slot for one expert's ancestors, or neither for "
                      "the tree of every layer");
  }
  if (options.layer) {
    if (!reg::find_expert(db, run.id, *options.layer, *options.slot)) {
      throw RegistryError(fmt::format("registry {}: run '{}' has no expert at layer {} slot {}; `grove registry "
                                      "experts --run {}` lists its experts",
                                      db.path(), run.name, *options.layer, *options.slot, shell_word(run.name)),
                          ExitCode::kBadInput);
    }
    Table table({{"generation"}, {"layer"}, {"slot"}, {"group"}, {"init"}, {"born_phase"}, {"frozen_at_phase"}});
    int64_t generation = 0;
    for (const auto& e : reg::expert_ancestors(db, run.id, *options.layer, *options.slot)) {
      table.add_row({generation--, e.layer, e.slot, e.group_idx, text(reg::to_text(e.init)),
                     phase_idx_of(phase_of, e.born_phase_id), phase_idx_of(phase_of, e.frozen_at_phase_id)});
    }
    return {std::move(table), std::nullopt, "generation 0 is the expert itself, -1 its parent, and so on"};
  }
  // The tree: in table format the `expert` column draws it; JSON and CSV carry parent_slot and depth instead.
  const bool drawn = parse_output_format(options.format) == OutputFormat::kTable;
  Table table(drawn ? std::vector<Column>{{"layer"}, {"expert"}, {"group"}, {"init"}, {"born_phase"},
                                          {"frozen_at_phase"}}
                    : std::vector<Column>{{"layer"}, {"slot"}, {"parent_slot"}, {"depth"}, {"group"}, {"init"},
                                          {"born_phase"}, {"frozen_at_phase"}});
  std::function<void(const reg::LineageNode&, std::optional<int64_t>, int64_t, const std::string&, bool)> visit =
      [&](const reg::LineageNode& node, std::optional<int64_t> parent, int64_t depth, const std::string& prefix,
          bool last) {
        const auto& e = node.expert;
        const Value born = phase_idx_of(phase_of, e.born_phase_id);
        const Value frozen = phase_idx_of(phase_of, e.frozen_at_phase_id);
        if (drawn) {
          const std::string branch = depth == 0 ? "" : (last ? "└─ " : "├─ ");
          table.add_row({e.layer, prefix + branch + fmt::format("slot {}", e.slot), e.group_idx,
                         text(reg::to_text(e.init)), born, frozen});
        } else {
          table.add_row({e.layer, e.slot, value_of(parent), depth, e.group_idx, text(reg::to_text(e.init)), born,
                         frozen});
        }
        const std::string child_prefix = depth == 0 ? "" : prefix + (last ? "   " : "│  ");
        for (size_t c = 0; c < node.children.size(); ++c) {
          visit(node.children[c], e.slot, depth + 1, child_prefix, c + 1 == node.children.size());
        }
      };
  for (const auto& [layer, roots] : reg::expert_forest(db, run.id)) {
    for (const auto& root : roots) visit(root, std::nullopt, 0, "", true);
  }
  return {std::move(table), std::nullopt, ""};
}

QueryResult query_evals(reg::Database& db, const QueryOptions& options) {
  const auto run = select_run(db, options);
  Table table({{"phase"}, {"stage"}, {"distribution"}, {"split"}, {"bpb"}, {"loss"}, {"ppl"}, {"tokens"},
               {"bytes"}});
  for (const auto& e : reg::list_evals(db, run.id)) {
    table.add_row({e.phase_idx, text(reg::to_text(e.stage)), e.distribution, e.split, value_of(e.bpb),
                   value_of(e.loss), value_of(e.ppl), value_of(e.tokens), value_of(e.bytes)});
  }
  return {std::move(table), std::nullopt, ""};
}

nlohmann::ordered_json cells_json(const std::vector<reg::Cell>& cells) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& cell : cells) array.push_back(cell ? nlohmann::ordered_json(*cell) : nlohmann::ordered_json());
  return array;
}

QueryResult query_forgetting(reg::Database& db, const QueryOptions& options) {
  const auto run = select_run(db, options);
  const reg::EvalMatrix matrix = reg::eval_matrix(db, run.id);
  const reg::ForgettingMetrics metrics = reg::compute_forgetting_metrics(matrix);

  std::vector<Column> columns{{"row"}};
  for (const auto& name : matrix.distributions) columns.push_back({name});
  columns.push_back({"mean"});
  Table table(std::move(columns));
  auto add = [&](const std::string& label, const std::vector<reg::Cell>& cells, const reg::Cell& mean) {
    std::vector<Value> row{label};
    for (const auto& cell : cells) row.push_back(value_of(cell));
    row.push_back(value_of(mean));
    table.add_row(std::move(row));
  };
  add("R_init", matrix.init, std::nullopt);
  for (size_t i = 0; i < matrix.after.size(); ++i) add(fmt::format("after phase {}", i), matrix.after[i], std::nullopt);
  const std::pair<const char*, const reg::Metric*> named[] = {{"ACC", &metrics.acc},
                                                              {"BWT", &metrics.bwt},
                                                              {"FWT", &metrics.fwt},
                                                              {"forgetting", &metrics.forgetting},
                                                              {"max_forgetting", &metrics.max_forgetting}};
  nlohmann::ordered_json metrics_json = nlohmann::ordered_json::object();
  std::string missing;
  for (const auto& [name, metric] : named) {
    add(name, metric->terms, metric->value);
    metrics_json[name] = {{"value", metric->value ? nlohmann::ordered_json(*metric->value) : nlohmann::ordered_json()},
                          {"terms", cells_json(metric->terms)},
                          {"used", metric->used},
                          {"missing", metric->missing}};
    missing += fmt::format("{}{} {}", missing.empty() ? "" : ", ", name, metric->missing);
  }

  nlohmann::ordered_json json = {{"run", run.name}, {"metric", "bpb"}, {"split", "holdout"},
                                 {"distributions", matrix.distributions}, {"init", cells_json(matrix.init)}};
  json["after"] = nlohmann::ordered_json::array();
  for (const auto& row : matrix.after) json["after"].push_back(cells_json(row));
  json["metrics"] = std::move(metrics_json);

  // T is the last phase's index; a run with no phase row has none (not T = 0, which would mean one phase).
  const std::string last_phase = metrics.phases > 0 ? fmt::format("T = {}", metrics.phases - 1)
                                                    : std::string("no phases yet, so no T and no metric");
  const std::string note = fmt::format(
      "R[i][j]: holdout bits per byte of distribution j after phase i (lower is better); {}.\n"
      "ACC = mean R[T][j].  BWT = mean over j<T of R[j][j] - R[T][j] (negative: forgetting).\n"
      "FWT = mean over j>=1 of R_init[j] - R[j-1][j] (positive: earlier phases helped).\n"
      "forgetting = R[T][j] - R[j][j];  max_forgetting = R[T][j] - min over l<T of R[l][j].\n"
      "Missing cells are skipped, never read as 0 (docs/METRICS.md). Terms skipped:\n{}.",
      last_phase, missing);
  return {std::move(table), std::move(json), note};
}

void print_result(const QueryResult& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      fmt::print("{}", render_table(result.table));
      if (!result.note.empty()) fmt::print("\n{}\n", result.note);
      break;
    case OutputFormat::kJson:
      fmt::print("{}", render_json(result.json ? *result.json : table_to_json(result.table)));
      break;
    case OutputFormat::kCsv:
      fmt::print("{}", render_csv(result.table));
      break;
  }
}

struct Subcommand {
  const char* name;
  const char* summary;
  Query query;
};

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> all = {
      {"runs", "Every run with its strategy, status and number of phases", query_runs},
      {"distributions", "Ingested distributions (current versions; --all for retired ones, --run for a run's)",
       query_distributions},
      {"phases", "A run's phases: distribution, growth decision, status and progress", query_phases},
      {"experts", "A run's experts: group, init, parent, born and frozen phases, rank", query_experts},
      {"lineage", "An expert's ancestors (--layer L --slot S) or the expert tree of every layer", query_lineage},
      {"evals", "A run's evaluations: bits per byte, loss and perplexity per phase and distribution", query_evals},
      {"forgetting", "A run's forgetting matrix with ACC, BWT, FWT, forgetting and max-forgetting",
       query_forgetting},
  };
  return all;
}

}  // namespace

std::filesystem::path resolve_registry_path(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("GROVE_REGISTRY"); env != nullptr && *env != '\0') return env;
  return "grove.db";
}

Command registry_command() {
  return {"registry", "Query the experiment registry: runs, distributions, phases, experts, lineage, evals, forgetting",
          [](CLI::App& app) -> CommandRunner {
            auto options = std::make_shared<QueryOptions>();
            auto chosen = std::make_shared<const Subcommand*>(nullptr);
            app.require_subcommand(1);
            for (const Subcommand& sub : subcommands()) {
              CLI::App* query = app.add_subcommand(sub.name, sub.summary);
              query->add_option("--registry", options->registry,
                                "Registry file (default: $GROVE_REGISTRY, then ./grove.db); opened read-only");
              query->add_option("--run", options->run, "Run name (default: the only run, if there is one)");
              query->add_option("--format", options->format, "Output: table, json or csv")
                  ->check(CLI::IsMember({"table", "json", "csv"}));
              const std::string name = sub.name;
              if (name == "distributions") query->add_flag("--all", options->all, "Include retired versions");
              if (name == "experts" || name == "lineage") {
                query->add_option("--layer", options->layer, "MoE layer index")->check(CLI::NonNegativeNumber);
              }
              if (name == "lineage") {
                query->add_option("--slot", options->slot, "Expert slot within the layer")
                    ->check(CLI::NonNegativeNumber);
              }
              query->callback([chosen, &sub] { *chosen = &sub; });
            }
            return [options, chosen]() {
              const Subcommand* sub = *chosen;
              const OutputFormat format = parse_output_format(options->format);
              auto db = reg::Database::open(resolve_registry_path(options->registry), reg::OpenMode::kReadOnly);
              QueryResult result = [&] {
                reg::ReadSnapshot snapshot(db);  // every row of one answer from the same commit
                return sub->query(db, *options);
              }();
              print_result(result, format);
              return static_cast<int>(ExitCode::kSuccess);
            };
          }};
}

}  // namespace grove::cli
