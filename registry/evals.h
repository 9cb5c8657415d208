// The `evals` table and the forgetting matrix assembled from it. Keys: (run, phase, stage, distribution, split);
// writing the same key again replaces the row. stage 'after' of phase i is row i of R; stage 'before' of phase 0
// holds R_init (the untrained model); stage 'before' of phase j > 0 holds the forward-transfer cell R[j-1][j].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database.h"
#include "registry/forgetting_metrics.h"

namespace grove::registry {

enum class EvalStage { kBefore, kAfter };
std::string_view to_text(EvalStage stage);  // "before" | "after"
EvalStage parse_eval_stage(std::string_view text);

struct NewEval {
  int64_t run_id = 0;
  int64_t after_phase_id = 0;
  EvalStage stage = EvalStage::kAfter;
  int64_t distribution_id = 0;
  std::string split = "holdout";
  std::optional<double> bpb;   // bits per byte
  std::optional<double> loss;  // mean NLL per token, nats
  std::optional<double> ppl;   // exp(loss)
  std::optional<int64_t> tokens;
  std::optional<int64_t> bytes;
};

struct EvalRow : NewEval {
  int64_t id = 0;
  std::string created_at;
};

// Inserts or replaces the row with the same key; returns its id.
int64_t upsert_eval(Database& db, const NewEval& eval);

// One eval with the names a reader wants: phase index and distribution name.
struct EvalView : EvalRow {
  int64_t phase_idx = 0;
  std::string distribution;
};

// The run's evals, by phase index, stage (before first), distribution's phase, split.
std::vector<EvalView> list_evals(Database& db, int64_t run_id);

// R for `split` (bits per byte): columns are the run's phases' distributions, rows the phases up to the last
// one with any 'after' evaluation. R[j-1][j] falls back to stage 'before' of phase j when no 'after' row of
// phase j-1 holds it. Missing cells stay empty.
EvalMatrix eval_matrix(Database& db, int64_t run_id, std::string_view split = "holdout");

}  // namespace grove::registry
