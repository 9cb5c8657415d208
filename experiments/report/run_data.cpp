#include "experiments/report/run_data.h"

#include <fmt/format.h>

#include "registry/distributions.h"

namespace grove::experiments::report {
namespace reg = grove::registry;

std::optional<size_t> RunData::phase_position(int64_t phase_id) const {
  for (size_t i = 0; i < phases.size(); ++i) {
    if (phases[i].row.id == phase_id) return i;
  }
  return std::nullopt;
}

std::string RunData::phase_label(size_t position) const {
  if (position >= phases.size()) return fmt::format("phase {}", position);
  return fmt::format("phase {} · {}", phases[position].row.idx, phases[position].distribution);
}

std::string RunData::phase_label_of(std::optional<int64_t> phase_id) const {
  if (!phase_id) return "";
  const auto position = phase_position(*phase_id);
  return position ? phase_label(*position) : fmt::format("phase #{}", *phase_id);
}

RunData load_run_data(reg::Database& db, std::string_view name) {
  RunData data;
  data.run = reg::require_run(db, name);
  const int64_t run_id = data.run.id;
  auto name_of = [&](int64_t distribution_id) -> const std::string& {
    auto it = data.distribution_names.find(distribution_id);
    if (it == data.distribution_names.end()) {
      const auto row = reg::find_distribution(db, distribution_id);
      it = data.distribution_names.emplace(distribution_id, row ? row->name : fmt::format("#{}", distribution_id))
               .first;
    }
    return it->second;
  };
  for (const reg::PhaseRow& phase : reg::list_phases(db, run_id)) {
    data.phases.push_back({phase, name_of(phase.distribution_id), reg::list_train_metrics(db, phase.id),
                           reg::find_phase_times(db, phase.id)});
  }
  data.matrix = reg::eval_matrix(db, run_id);
  data.metrics = reg::compute_forgetting_metrics(data.matrix);
  data.evals = reg::list_evals(db, run_id);
  data.experts = reg::list_experts(db, run_id);
  data.forest = reg::expert_forest(db, run_id);
  data.events = reg::list_events(db, run_id);

  // Routing: the rows of the last phase that recorded any.
  std::vector<reg::RoutingRow> all = reg::list_routing(db, run_id);
  for (const auto& row : all) {
    const auto position = data.phase_position(row.after_phase_id);
    if (position && (!data.routing_phase || *position > *data.routing_phase)) data.routing_phase = position;
  }
  if (data.routing_phase) {
    const int64_t phase_id = data.phases[*data.routing_phase].row.id;
    for (auto& row : all) {
      if (row.after_phase_id == phase_id) {
        name_of(row.distribution_id);
        data.routing.push_back(row);
      }
    }
  }
  return data;
}

NewDistributionBpb new_distribution_bpb(const reg::EvalMatrix& matrix) {
  NewDistributionBpb out;
  const size_t n = matrix.distributions.size();
  out.terms.assign(n, std::nullopt);
  double sum = 0;
  int used = 0;
  for (size_t j = 1; j < n; ++j) {
    out.terms[j] = matrix.after[j][j];
    if (out.terms[j]) {
      sum += *out.terms[j];
      ++used;
    }
  }
  if (used > 0) out.mean = sum / used;
  return out;
}

}  // namespace grove::experiments::report
