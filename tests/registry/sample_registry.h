// A small but complete registry for tests: one run of three phases over three distributions, with a tokenizer,
// shards, experts that grow and freeze, checkpoints, routing, training metrics, phase times (phases 0 and 1) and
// the evaluation matrix of tests/registry/forgetting_metrics_test.cpp (hand-computed metrics). Names are
// caller-chosen so tests can use awkward ones (quotes, semicolons, newlines, non-ASCII).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/database.h"

namespace grove::testing {

struct SampleRun {
  int64_t run_id = 0;
  std::vector<int64_t> distribution_ids;  // one per phase
  std::vector<int64_t> phase_ids;
};

// R_init and R of the sample run (rows: after phase i; columns: distribution of phase j), bits per byte.
inline const std::vector<double> kSampleInit = {5.0, 5.2, 5.6};
inline const std::vector<std::vector<double>> kSampleAfter = {{2.0, 4.0, 4.5}, {1.8, 2.2, 4.2}, {2.9, 2.6, 2.1}};

// Records the run `run_name` on distributions `distribution_names` (three names), all phases done.
SampleRun populate_sample_run(registry::Database& db, const std::string& run_name,
                              const std::vector<std::string>& distribution_names);

}  // namespace grove::testing
