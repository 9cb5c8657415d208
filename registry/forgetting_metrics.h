// Continual-learning metrics on the evaluation matrix R, for a loss-like metric (bits per byte: lower is better).
// R[i][j] is the value on distribution j (the one introduced by phase j) after phase i; R_init[j] is the untrained
// model's. With T the last phase (T = n - 1), exactly as docs/METRICS.md writes them:
//   ACC                = mean_{j<=T} R[T][j]
//   BWT                = mean_{j<T}  (R[j][j] - R[T][j])              negative: forgetting
//   FWT                = mean_{1<=j<=T} (R_init[j] - R[j-1][j])       positive: earlier phases helped
//   forgetting_j       = R[T][j] - R[j][j]                 (j < T)     positive: forgetting   (Avalanche)
//   max_forgetting_j   = R[T][j] - min_{l<T} R[l][j]       (j < T)     positive: forgetting   (Chaudhry et al.)
// Cells are optional. A term that needs a missing cell is skipped and counted; a metric with no term left is
// empty (std::nullopt). A missing cell is never read as zero.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace grove::registry {

using Cell = std::optional<double>;

struct EvalMatrix {
  std::vector<std::string> distributions;  // column j: the distribution introduced by phase j (n names)
  std::vector<Cell> init;                  // R_init[j], n cells (may be all missing)
  std::vector<std::vector<Cell>> after;    // R[i][j], n rows of n cells
};

// One averaged metric with the per-distribution terms it averaged.
struct Metric {
  std::optional<double> value;    // mean of the present terms; empty when none is present
  std::vector<Cell> terms;        // one per distribution j; empty where j is outside the metric's range or missing
  int used = 0;                   // terms averaged
  int missing = 0;                // terms in range skipped because a cell they need is missing
};

struct ForgettingMetrics {
  int phases = 0;  // n = T + 1
  Metric acc;
  Metric bwt;
  Metric fwt;
  Metric forgetting;
  Metric max_forgetting;
};

// Throws std::invalid_argument when the matrix is not n x n with n names and n init cells (a caller bug).
ForgettingMetrics compute_forgetting_metrics(const EvalMatrix& matrix);

}  // namespace grove::registry
