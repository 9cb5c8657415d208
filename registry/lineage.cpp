#include "registry/lineage.h"

#include <fmt/format.h>

#include <functional>

#include "common/errors.h"
#include "registry/phases.h"

namespace grove::registry {

std::vector<ExpertRow> expert_ancestors(Database& db, int64_t run_id, int64_t layer, int64_t slot) {
  ReadSnapshot snapshot(db);
  auto self = find_expert(db, run_id, layer, slot);
  if (!self) {
    throw RegistryError(
        fmt::format("registry {}: run id {} has no expert at layer {} slot {}", db.path(), run_id, layer, slot),
        ExitCode::kBadInput);
  }
  std::vector<ExpertRow> chain{*self};
  // Parents always exist before their children (foreign key), so the chain ends; the bound guards corrupt files.
  while (chain.back().parent_expert_id && chain.size() <= 1'000'000) {
    auto parent = find_expert_by_id(db, *chain.back().parent_expert_id);
    if (!parent) break;
    chain.push_back(*parent);
  }
  return chain;
}

std::map<int64_t, std::vector<LineageNode>> expert_forest(Database& db, int64_t run_id) {
  const std::vector<ExpertRow> experts = list_experts(db, run_id);  // by layer, slot
  std::map<int64_t, std::vector<const ExpertRow*>> children_of;     // parent id -> children by slot
  for (const ExpertRow& expert : experts) {
    if (expert.parent_expert_id) children_of[*expert.parent_expert_id].push_back(&expert);
  }
  std::function<LineageNode(const ExpertRow&)> build = [&](const ExpertRow& expert) {
    LineageNode node{expert, {}};
    for (const ExpertRow* child : children_of[expert.id]) node.children.push_back(build(*child));
    return node;
  };
  std::map<int64_t, std::vector<LineageNode>> forest;
  for (const ExpertRow& expert : experts) {
    if (!expert.parent_expert_id) forest[expert.layer].push_back(build(expert));
  }
  return forest;
}

std::vector<PhaseLineage> lineage_by_phase(Database& db, int64_t run_id) {
  ReadSnapshot snapshot(db);
  std::vector<PhaseLineage> result;
  std::map<int64_t, size_t> index_of;  // phase id -> position in result
  for (const PhaseRow& phase : list_phases(db, run_id)) {
    index_of[phase.id] = result.size();
    result.push_back({phase.id, phase.idx, {}, {}});
  }
  for (const ExpertRow& expert : list_experts(db, run_id)) {
    if (auto it = index_of.find(expert.born_phase_id); it != index_of.end()) result[it->second].born.push_back(expert);
    if (expert.frozen_at_phase_id) {
      if (auto it = index_of.find(*expert.frozen_at_phase_id); it != index_of.end()) {
        result[it->second].frozen.push_back(expert);
      }
    }
  }
  return result;
}

}  // namespace grove::registry
