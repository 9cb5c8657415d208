#include "experiments/strategy_presets.h"

namespace grove::experiments {

const std::vector<StrategyPreset>& strategy_presets() {
  static const std::vector<StrategyPreset> presets = [] {
    std::vector<StrategyPreset> list;
    list.push_back({"grove", "novelty", "newest", "new_rows", "trainable", 0.0, 2.0, 0.0, false, 1.0, 0.25, 2.0,
                    "grow when the data is novel; old experts and their gate rows frozen; new experts (without "
                    "growth: the most similar earlier distribution's), their gate rows and the shared weights "
                    "train, kept off the earlier distributions by routing isolation and by distillation on text the "
                    "previous model writes for them (a quarter of each batch); no earlier data is kept"});
    list.push_back({"lifelong_moe", "always", "newest", "new_rows", "trainable", 1.0, 2.0, 0.0, false, 0.0, 0.0, 1.0,
                    "Lifelong-MoE: grow every phase; old experts and gate rows frozen; shared weights train with KD"});
    list.push_back({"finetune", "never", "all", "all", "trainable", 0.0, 2.0, 0.0, false, 0.0, 0.0, 1.0,
                    "no growth; every parameter trains on the new distribution only"});
    list.push_back({"replay", "never", "all", "all", "trainable", 0.0, 2.0, 0.25, false, 0.0, 0.0, 1.0,
                    "finetune with a quarter of each batch replayed from earlier distributions"});
    list.push_back({"joint", "never", "all", "all", "trainable", 0.0, 2.0, 0.0, true, 0.0, 0.0, 1.0,
                    "retrain on the union of all distributions seen so far (upper bound, not continual)"});
    return list;
  }();
  return presets;
}

std::optional<StrategyPreset> find_strategy_preset(const std::string& name) {
  for (const auto& preset : strategy_presets()) {
    if (preset.name == name) return preset;
  }
  return std::nullopt;
}

std::string strategy_names() {
  std::string names;
  for (const auto& preset : strategy_presets()) names += (names.empty() ? "" : ", ") + preset.name;
  return names;
}

}  // namespace grove::experiments
