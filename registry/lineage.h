// Expert lineage, read from the `experts` table: an expert's ancestors back to its root, the whole family tree
// of each layer, and which experts each phase created and froze.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "registry/database.h"
#include "registry/experts.h"

namespace grove::registry {

// The expert at (layer, slot) first, then its parent, grandparent, ... ending at a root (an expert without a
// parent). An unknown expert is bad input naming the run, layer and slot.
std::vector<ExpertRow> expert_ancestors(Database& db, int64_t run_id, int64_t layer, int64_t slot);

struct LineageNode {
  ExpertRow expert;
  std::vector<LineageNode> children;  // by slot
};

// Per layer, the roots (experts without a parent) with their descendants, by slot.
std::map<int64_t, std::vector<LineageNode>> expert_forest(Database& db, int64_t run_id);

struct PhaseLineage {
  int64_t phase_id = 0;
  int64_t phase_idx = 0;
  std::vector<ExpertRow> born;    // experts created by this phase
  std::vector<ExpertRow> frozen;  // experts frozen since this phase (one a later phase trains again is not listed)
};

// One entry per phase of the run, by index.
std::vector<PhaseLineage> lineage_by_phase(Database& db, int64_t run_id);

}  // namespace grove::registry
