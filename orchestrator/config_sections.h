// Parsers for the sections of an experiment file (see experiment_config.h), one function per section, each
// reading a StrictMap and leaving unknown keys to the caller's finish().
#pragma once

#include <filesystem>

#include "common/strict_yaml.h"
#include "orchestrator/experiment_config.h"

namespace grove::orch {

void parse_tokenizer_section(StrictMap& map, TokenizerSection& out);
void parse_training_section(StrictMap& map, TrainingSection& out);
void parse_evaluation_section(StrictMap& map, EvaluationSection& out);
void parse_growth_section(StrictMap& map, GrowthSection& out);
void apply_strategy_overrides(StrictMap& map, experiments::StrategyPreset& preset);

// `- spec: FILE` (relative to base_dir) or an inline spec mapping. Relative corpus paths are made absolute
// against the folder the spec came from.
DistributionEntry parse_distribution_entry(StrictMap& item, const std::filesystem::path& base_dir);

}  // namespace grove::orch
