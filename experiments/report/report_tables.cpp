#include "experiments/report/report_tables.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/report/comparison_figures.h"
#include "experiments/report/number_format.h"
#include "experiments/report/run_figures.h"

namespace grove::experiments::report {
namespace reg = grove::registry;
namespace {

std::string bpb(const std::optional<double>& v) { return format_fixed(v, 3); }

std::vector<bool> numeric_from(size_t first_numeric, size_t columns) {
  std::vector<bool> numeric(columns, false);
  for (size_t c = first_numeric; c < columns; ++c) numeric[c] = true;
  return numeric;
}

std::string slot_of(const RunData& run, std::optional<int64_t> expert_id) {
  if (!expert_id) return "";
  for (const auto& e : run.experts) {
    if (e.id == *expert_id) return std::to_string(e.slot);
  }
  return fmt::format("#{}", *expert_id);
}

}  // namespace

const std::vector<MetricDefinition>& metric_definitions() {
  static const std::vector<MetricDefinition> all = {
      {"acc", "ACC", "mean over 0 ≤ j ≤ T of R[T][j]",
       "The final model's average bits per byte over every distribution seen; lower is better."},
      {"bwt", "BWT", "mean over 0 ≤ j < T of R[j][j] − R[T][j]",
       "Backward transfer (GEM, Lopez-Paz & Ranzato 2017): negative means forgetting, positive means later phases "
       "improved earlier distributions."},
      {"fwt", "FWT", "mean over 1 ≤ j ≤ T of R_init[j] − R[j−1][j]",
       "Forward transfer: how much earlier phases lowered a distribution's bits per byte before training on it; "
       "positive is good."},
      {"forgetting", "forgetting", "mean over 0 ≤ j < T of R[T][j] − R[j][j]",
       "Avalanche's forgetting: how much worse each distribution is at the end than right after its own phase; "
       "positive means forgetting."},
      {"max_forgetting", "max-forgetting", "mean over 0 ≤ j < T of R[T][j] − min over l < T of R[l][j]",
       "Chaudhry et al. 2018: how much worse than the best it ever was before the last phase; at least the "
       "forgetting; positive means forgetting."},
      {"new_bpb", "new-distribution bpb", "mean over 1 ≤ j ≤ T of R[j][j]",
       "Bits per byte on each newly arrived distribution right after its phase: how well the run learns what "
       "arrives; lower is better."},
  };
  return all;
}

TextTable metrics_table(const RunData& run) {
  TextTable table;
  table.header = {"metric", "value"};
  for (const auto& d : run.matrix.distributions) table.header.push_back(d);
  table.header.push_back("terms used");
  table.header.push_back("terms missing");
  table.numeric = numeric_from(1, table.header.size());
  const auto& m = run.metrics;
  const std::pair<const char*, const reg::Metric*> named[] = {
      {"acc", &m.acc}, {"bwt", &m.bwt}, {"fwt", &m.fwt}, {"forgetting", &m.forgetting},
      {"max_forgetting", &m.max_forgetting}};
  for (const auto& [key, metric] : named) {
    const bool signed_metric = std::string_view(key) != "acc";
    auto text = [&](const std::optional<double>& v) { return signed_metric ? format_signed(v, 3) : bpb(v); };
    const auto definition = std::find_if(metric_definitions().begin(), metric_definitions().end(),
                                         [&](const MetricDefinition& d) { return d.key == key; });
    std::vector<std::string> row{definition->name, text(metric->value)};
    for (const auto& term : metric->terms) row.push_back(term ? text(term) : "");
    row.push_back(std::to_string(metric->used));
    row.push_back(std::to_string(metric->missing));
    table.rows.push_back(std::move(row));
    table.row_links.push_back(key);
  }
  // An empty term is either outside the metric's range ("–") or in range with a missing cell ("n/a").
  const size_t n = run.matrix.distributions.size();
  const size_t t = n == 0 ? 0 : n - 1;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const std::string& key = table.row_links[r];
    for (size_t j = 0; j < n; ++j) {
      std::string& cell = table.rows[r][2 + j];
      if (!cell.empty()) continue;
      const bool in_range = key == "acc" ? true : key == "fwt" ? (j >= 1 && j <= t) : j < t;
      cell = in_range ? kMissing : "–";
    }
  }
  const NewDistributionBpb fresh = new_distribution_bpb(run.matrix);
  std::vector<std::string> row{"new-distribution bpb", bpb(fresh.mean)};
  int used = 0, missing = 0;
  for (size_t j = 0; j < n; ++j) {
    row.push_back(j == 0 ? "–" : bpb(fresh.terms[j]));
    if (j > 0) (fresh.terms[j] ? used : missing) += 1;
  }
  row.push_back(std::to_string(used));
  row.push_back(std::to_string(missing));
  table.rows.push_back(std::move(row));
  table.row_links.push_back("new_bpb");
  return table;
}

TextTable matrix_table(const RunData& run) {
  TextTable table;
  table.header = {"model"};
  for (const auto& d : run.matrix.distributions) table.header.push_back(d);
  table.numeric = numeric_from(1, table.header.size());
  std::vector<std::string> init{"untrained"};
  for (const auto& c : run.matrix.init) init.push_back(bpb(c));
  table.rows.push_back(std::move(init));
  for (size_t i = 0; i < run.matrix.after.size(); ++i) {
    std::vector<std::string> row{matrix_row_label(run, i)};
    for (const auto& c : run.matrix.after[i]) row.push_back(bpb(c));
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string strategy_settings(const RunData& run) {
  YAML::Node strategy;
  try {
    strategy = YAML::Load(run.run.config_yaml)["strategy_overrides"];
  } catch (const YAML::Exception&) {
    return "";
  }
  if (!strategy.IsMap()) return "";
  auto text = [&](const char* key) { return strategy[key] ? strategy[key].as<std::string>() : std::string("?"); };
  auto number = [&](const char* key) { return strategy[key] ? strategy[key].as<double>() : 0.0; };
  std::vector<std::string> parts;
  parts.push_back("growth " + text("growth"));
  // Under `experts: newest` a phase that does not grow trains an older group: its most similar distribution's.
  const std::string frozen = text("growth") == "always"
                                 ? "old experts frozen"
                                 : "old experts frozen (a phase without growth trains the most similar distribution's)";
  parts.push_back(text("experts") == "newest" ? frozen : "all experts train");
  const std::string gate = text("gate");
  parts.push_back(gate == "new_rows" ? "gate: new rows train" : gate == "all" ? "gate trains" : "gate frozen");
  const std::string shared = text("shared");
  parts.push_back(shared == "trainable"    ? "shared weights train"
                  : shared == "new_tokens" ? "shared weights frozen but new tokens' rows"
                  : shared == "orthogonal" ? "shared updates projected off earlier inputs"
                                           : "shared weights frozen");
  const double isolation = number("isolation_weight");
  if (isolation > 0) parts.push_back(fmt::format("routing isolation {:g}", isolation));
  const double kd = number("kd_weight");
  parts.push_back(kd > 0 ? fmt::format("KD λ {:g} (T {:g})", kd, number("kd_temperature")) : "KD off");
  const double replay = number("replay_share");
  parts.push_back(replay > 0 ? fmt::format("replay {:g} % of each batch", replay * 100) : "no replay");
  const double rehearsal = number("rehearsal_share");
  if (rehearsal > 0) {
    parts.push_back(fmt::format("generated rehearsal {:g} % of each batch (distilled, weight {:g})", rehearsal * 100,
                                strategy["rehearsal_weight"] ? number("rehearsal_weight") : 1.0));
  }
  std::string line;
  for (const auto& part : parts) line += (line.empty() ? "" : " · ") + part;
  return line;
}

TextTable decisions_table(const RunData& run) {
  TextTable table;
  table.header = {"phase", "distribution", "status", "steps", "decision", "experts added", "reason"};
  table.numeric = {true, false, false, true, false, true, false};
  for (const auto& p : run.phases) {
    table.rows.push_back({std::to_string(p.row.idx), p.distribution, std::string(reg::to_text(p.row.status)),
                          fmt::format("{}/{}", p.row.steps_done, p.row.steps_total),
                          p.row.decision ? std::string(reg::to_text(*p.row.decision)) : kMissing,
                          std::to_string(p.row.experts_added), p.row.decision_reason.value_or("")});
  }
  return table;
}

TextTable parameters_table(const RunData& run) {
  TextTable table;
  table.header = {"phase", "total parameters", "active per token", "active share", "experts per layer"};
  table.numeric = {false, true, true, true, true};
  std::map<int64_t, int64_t> layers;  // layer -> count, to know the number of layers
  for (const auto& e : run.experts) layers[e.layer] += 1;
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const auto& row = run.phases[p].row;
    int64_t alive = 0;
    for (const auto& e : run.experts) {
      const auto born = run.phase_position(e.born_phase_id);
      if (born && *born <= p && !layers.empty() && e.layer == layers.begin()->first) ++alive;
    }
    std::string share = kMissing;
    if (row.params_total && row.params_active && *row.params_total > 0) {
      share = fmt::format("{:.1f}%", 100.0 * static_cast<double>(*row.params_active) /
                                         static_cast<double>(*row.params_total));
    }
    table.rows.push_back({run.phase_label(p), row.params_total ? format_integer(*row.params_total) : kMissing,
                          row.params_active ? format_integer(*row.params_active) : kMissing, share,
                          layers.empty() ? kMissing : std::to_string(alive)});
  }
  return table;
}

TextTable time_table(const RunData& run) {
  TextTable table;
  table.header = {"phase", "wall (s)", "setup", "training", "checkpoint stalls", "evaluation", "other",
                  "training tokens", "goodput (tokens/s)"};
  table.numeric = {false, true, true, true, true, true, true, true, true};
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const auto& times = run.phases[p].times;
    if (!times) {
      table.rows.push_back({run.phase_label(p), kMissing, kMissing, kMissing, kMissing, kMissing, kMissing, kMissing,
                            kMissing});
      continue;
    }
    const auto goodput = times->goodput();
    table.rows.push_back({run.phase_label(p), format_fixed(times->wall_s(), 1), format_fixed(times->setup_s, 1),
                          format_fixed(times->training_s, 1), format_fixed(times->checkpoint_s, 1),
                          format_fixed(times->eval_s, 1), format_fixed(times->other_s, 1),
                          format_integer(times->train_tokens),
                          goodput ? format_integer(static_cast<int64_t>(std::llround(*goodput))) : std::string(kMissing)});
  }
  return table;
}

TextTable lineage_table(const RunData& run) {
  TextTable table;
  table.header = {"layer", "expert", "group", "born in", "init", "parent", "frozen at", "parameters"};
  table.numeric = {true, true, true, false, false, true, false, true};
  for (const auto& e : run.experts) {
    table.rows.push_back({std::to_string(e.layer), std::to_string(e.slot), std::to_string(e.group_idx),
                          run.phase_label_of(e.born_phase_id), std::string(reg::to_text(e.init)),
                          slot_of(run, e.parent_expert_id), run.phase_label_of(e.frozen_at_phase_id),
                          e.n_params ? format_integer(*e.n_params) : ""});
  }
  return table;
}

TextTable routing_table(const RunData& run) {
  TextTable table;
  table.header = {"layer", "distribution", "top experts (share of tokens)", "share on its own phase's experts"};
  table.numeric = {true, false, false, true};
  if (!run.routing_phase) return table;
  std::map<int64_t, const reg::ExpertRow*> expert_by_id;
  for (const auto& e : run.experts) expert_by_id[e.id] = &e;
  std::map<std::pair<int64_t, int64_t>, std::vector<const reg::RoutingRow*>> cells;  // (layer, distribution)
  for (const auto& r : run.routing) cells[{r.layer, r.distribution_id}].push_back(&r);
  const RoutingSpecialisation spec = routing_specialisation(run);
  for (auto& [key, rows] : cells) {
    std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
      return a->token_fraction > b->token_fraction;
    });
    std::string top;
    for (size_t k = 0; k < rows.size() && k < 3; ++k) {
      const auto e = expert_by_id.find(rows[k]->expert_id);
      top += fmt::format("{}expert {} {:.0f}%", k ? ", " : "",
                         e == expert_by_id.end() ? rows[k]->expert_id : e->second->slot,
                         rows[k]->token_fraction * 100);
    }
    std::string own = kMissing;
    const auto layer = std::find(spec.layers.begin(), spec.layers.end(), key.first);
    const auto column = std::find(spec.distribution_ids.begin(), spec.distribution_ids.end(), key.second);
    if (layer != spec.layers.end() && column != spec.distribution_ids.end()) {
      const size_t l = static_cast<size_t>(layer - spec.layers.begin());
      const size_t j = static_cast<size_t>(column - spec.distribution_ids.begin());
      own = spec.share[l][j] ? fmt::format("{:.1f}%", 100 * *spec.share[l][j]) : specialisation_cell(spec, l, j);
    }
    table.rows.push_back({std::to_string(key.first), run.distribution_names.at(key.second), top, own});
  }
  return table;
}

RoutingSpecialisation routing_specialisation(const RunData& run) {
  RoutingSpecialisation spec;
  std::vector<size_t> own_phase;  // per distribution: the phases[] index that introduced it
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const auto& row = run.phases[p].row;
    if (std::find(spec.distribution_ids.begin(), spec.distribution_ids.end(), row.distribution_id) !=
        spec.distribution_ids.end()) {
      continue;
    }
    spec.distributions.push_back(run.phases[p].distribution);
    spec.distribution_ids.push_back(row.distribution_id);
    spec.no_growth.push_back(row.decision == reg::GrowthDecision::kNoGrow);
    own_phase.push_back(p);
  }
  if (!run.routing_phase) return spec;
  for (const auto& r : run.routing) {
    if (std::find(spec.layers.begin(), spec.layers.end(), r.layer) == spec.layers.end()) spec.layers.push_back(r.layer);
  }
  std::sort(spec.layers.begin(), spec.layers.end());
  // The experts grown for the distribution of phases[p]: born in that phase (the base group for phase 0).
  auto is_own = [&](const reg::ExpertRow& e, size_t p) {
    return e.born_phase_id == run.phases[p].row.id || (p == 0 && e.group_idx == 0);
  };
  std::map<int64_t, const reg::ExpertRow*> expert_by_id;
  for (const auto& e : run.experts) expert_by_id[e.id] = &e;
  for (const int64_t layer : spec.layers) {
    std::vector<std::optional<double>> row(spec.distributions.size());
    for (size_t j = 0; j < row.size(); ++j) {
      const size_t p = own_phase[j];
      const bool has_own = std::any_of(run.experts.begin(), run.experts.end(),
                                       [&](const reg::ExpertRow& e) { return e.layer == layer && is_own(e, p); });
      if (spec.no_growth[j] || p > *run.routing_phase || !has_own) continue;
      double own = 0, all = 0;
      for (const auto& r : run.routing) {
        if (r.layer != layer || r.distribution_id != spec.distribution_ids[j]) continue;
        all += r.token_fraction;
        const auto e = expert_by_id.find(r.expert_id);
        if (e != expert_by_id.end() && is_own(*e->second, p)) own += r.token_fraction;
      }
      if (all > 0) row[j] = own / all;
    }
    spec.share.push_back(std::move(row));
  }
  return spec;
}

std::string specialisation_cell(const RoutingSpecialisation& spec, size_t layer_row, size_t distribution) {
  if (const auto& share = spec.share[layer_row][distribution]) return format_fixed(*share, 3);
  return spec.no_growth[distribution] ? kNoGrowth : kMissing;
}

TextTable routing_specialisation_table(const RoutingSpecialisation& spec) {
  TextTable table;
  table.header = {"layer"};
  for (const auto& d : spec.distributions) table.header.push_back(d);
  table.numeric = numeric_from(0, table.header.size());
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    std::vector<std::string> row{std::to_string(spec.layers[l])};
    for (size_t j = 0; j < spec.distributions.size(); ++j) row.push_back(specialisation_cell(spec, l, j));
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string routing_specialisation_intro(const RunData& run) {
  if (!run.routing_phase) return "";
  return fmt::format(
      "Routing after {}: per layer, the share of each distribution's (token, k) assignments that land on the "
      "experts grown for it (in the phase that introduced it; the base group for the first distribution). 1.0 = only "
      "its own experts; with top-k = 2 and two own experts it can reach 1.0. \"{}\": its phase did not grow, so it "
      "has no experts of its own; {}: not recorded (no routing rows, or its experts came after these rows).",
      run.phase_label(*run.routing_phase), kNoGrowth, kMissing);
}

TextTable training_table(const RunData& run) {
  TextTable table;
  table.header = {"phase", "steps recorded", "first loss", "last loss", "last KD loss", "last aux loss"};
  table.numeric = {false, true, true, true, true, true};
  for (size_t p = 0; p < run.phases.size(); ++p) {
    const auto& rows = run.phases[p].training;
    auto first_of = [&](auto field) -> std::optional<double> {
      for (const auto& r : rows) {
        if (r.*field) return r.*field;
      }
      return std::nullopt;
    };
    auto last_of = [&](auto field) -> std::optional<double> {
      for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        if ((*it).*field) return (*it).*field;
      }
      return std::nullopt;
    };
    using Row = reg::TrainMetricRow;
    table.rows.push_back({run.phase_label(p), std::to_string(rows.size()), format_fixed(first_of(&Row::loss), 4),
                          format_fixed(last_of(&Row::loss), 4), format_fixed(last_of(&Row::kd_loss), 4),
                          format_fixed(last_of(&Row::aux_loss), 4)});
  }
  return table;
}

TextTable comparison_table(const std::vector<RunData>& runs) {
  TextTable table;
  table.header = {"run", "strategy", "status", "phases", "ACC", "BWT", "FWT", "forgetting", "max-forgetting",
                  "new-distribution bpb"};
  table.numeric = numeric_from(3, table.header.size());
  for (const auto& run : runs) {
    const auto& m = run.metrics;
    table.rows.push_back({run.run.name, run.run.strategy, std::string(reg::to_text(run.run.status)),
                          std::to_string(run.phases.size()), bpb(m.acc.value), format_signed(m.bwt.value, 3),
                          format_signed(m.fwt.value, 3), format_signed(m.forgetting.value, 3),
                          format_signed(m.max_forgetting.value, 3), bpb(new_distribution_bpb(run.matrix).mean)});
  }
  return table;
}

namespace {

// "2.345 ± 0.012"; "2.345 (one seed)" without a spread; "(n = 2)" after it when some seed lacks the value.
std::string spread_cell(const SeedSpread& spread, size_t seeds, bool signed_metric) {
  if (!spread.mean) return kMissing;
  const std::string mean = signed_metric ? format_signed(spread.mean, 3) : bpb(spread.mean);
  std::string cell = spread.stddev ? fmt::format("{} ± {}", mean, format_fixed(spread.stddev, 3))
                                   : fmt::format("{} ({})", mean, seeds == 1 ? "one seed" : "one value");
  if (spread.missing > 0) cell += fmt::format(" (n = {})", spread.used);
  return cell;
}

}  // namespace

TextTable across_seeds_table(const AcrossSeeds& across) {
  TextTable table;
  table.header = {"strategy", "seeds", "seed values", "ACC", "forgetting", "BWT", "FWT", "new-distribution bpb"};
  table.numeric = {false, true, false, true, true, true, true, true};
  for (size_t g = 0; g < across.groups.size(); ++g) {
    const SeedGroup& group = across.groups[g];
    std::string seeds;
    for (const int64_t seed : group.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(seed);
    const size_t n = group.runs.size();
    table.rows.push_back({group_label(across, g), std::to_string(n), seeds, spread_cell(group.acc, n, false),
                          spread_cell(group.forgetting, n, true), spread_cell(group.bwt, n, true),
                          spread_cell(group.fwt, n, true), spread_cell(group.new_bpb, n, false)});
  }
  return table;
}

std::vector<std::string> across_seeds_verdicts(const AcrossSeeds& across) {
  std::vector<std::string> lines;
  for (const auto& c : across.comparisons) {
    const SeedGroup& a = across.groups[c.a];
    const SeedGroup& b = across.groups[c.b];
    const bool acc = c.metric == "ACC";
    const SeedSpread& x = acc ? a.acc : a.forgetting;
    const SeedSpread& y = acc ? b.acc : b.forgetting;
    auto mean = [&](const SeedSpread& s) { return acc ? bpb(s.mean) : format_signed(s.mean, 3); };
    std::string line = fmt::format("{} vs {}, {}: {} vs {}", group_label(across, c.a), group_label(across, c.b),
                                   c.metric, mean(x), mean(y));
    if (c.difference && c.spread) {
      line += fmt::format(" (difference {}, seed spread {} + {} = {})", format_signed(c.difference, 3),
                          format_fixed(x.stddev, 3), format_fixed(y.stddev, 3), format_fixed(c.spread, 3));
    }
    line += c.verdict == SpreadVerdict::kDiffers  ? ": differs by more than the seed spread"
            : c.verdict == SpreadVerdict::kWithin ? ": within the seed spread"
                                                  : ": cannot be told (fewer than two seeds with a value on a side)";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace grove::experiments::report
