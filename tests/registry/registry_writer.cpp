// A registry writer for the concurrency test: appends phases with their state transitions, training metrics and
// evaluations to an existing run, one transaction per step, as fast as it can until STOP_FILE exists (or at most
// SECONDS). Usage: grove_registry_writer REGISTRY RUN SECONDS STOP_FILE. Prints "phases N stopped" (or
// "phases N deadline") and exits 0; any error exits 1.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "registry/registry.h"

using namespace grove::registry;

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: {} REGISTRY RUN SECONDS STOP_FILE\n", argv[0]);
    return 2;
  }
  try {
    Database db = Database::open(argv[1]);
    const RunRow run = require_run(db, argv[2]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::stod(argv[3]));
    std::vector<int64_t> distributions;
    for (const auto& d : list_distributions(db)) distributions.push_back(d.id);
    int64_t idx = static_cast<int64_t>(list_phases(db, run.id).size());
    int64_t written = 0;
    const std::filesystem::path stop_file = argv[4];
    bool stopped = false;
    while (std::chrono::steady_clock::now() < deadline && !(stopped = std::filesystem::exists(stop_file))) {
      const int64_t distribution = distributions[static_cast<size_t>(idx) % distributions.size()];
      int64_t phase = 0;
      {
        Transaction tx(db);
        phase = create_phase(db, {run.id, idx, distribution, 10, GrowthDecision::kGrow, "writer", 2});
        transition_phase(db, phase, PhaseStatus::kTraining);
        tx.commit();
      }
      for (int64_t step = 1; step <= 10; ++step) {
        Transaction tx(db);
        record_train_metrics(db, {{run.id, phase, step, 3.0 / static_cast<double>(step), 0.01, 0.0, 1e-4, 1.0,
                                   1000.0, ""}});
        set_phase_progress(db, phase, step);
        tx.commit();
      }
      {
        Transaction tx(db);
        transition_phase(db, phase, PhaseStatus::kEvaluating);
        for (int64_t d : distributions) {
          upsert_eval(db, {run.id, phase, EvalStage::kAfter, d, "holdout", 2.0 + 0.01 * static_cast<double>(idx),
                           1.4, 4.0, 1000, 4000});
        }
        transition_phase(db, phase, PhaseStatus::kDone);
        record_event(db, {run.id, phase, grove::log::Level::kInfo, "phase_done", fmt::format("phase {}", idx)});
        tx.commit();
      }
      ++idx;
      ++written;
    }
    fmt::print("phases {} {}\n", written, stopped ? "stopped" : "deadline");
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "grove_registry_writer: {}\n", e.what());
    return 1;
  }
}
