// Experiment files: strict parsing, overrides in their written order, validation before anything is written, and
// a resolved config that parses back to itself.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "orchestrator/experiment_config.h"
#include "orchestrator/run_setup.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace grove::orch {
namespace {

const char* kMinimal = R"(name: exp
seed: 3
strategies: [grove, finetune]
model: {d_model: 32, n_layers: 1, n_heads: 2, n_kv_heads: 2, d_expert: 32, n_experts: 2, top_k: 1, max_seq_len: 32}
tokenizer: {vocab_size: 320}
training: {steps: 5, seq_len: 16, batch_size: 2}
distributions:
  - name: en
    source: fortune
    paths: [/usr/share/games/fortunes/science]
)";

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The error parse_experiment gives kMinimal with one --set assignment ("" when there is none).
std::string set_error(const std::string& assignment) {
  return message_of([&] {
    ConfigOverrides overrides;
    overrides.set = {assignment};
    parse_experiment(kMinimal, "exp.yaml", "/", overrides);
  });
}

TEST(ExperimentConfig, DefaultsFileAndFlagsApplyInOrder) {
  ConfigOverrides overrides;
  overrides.set = {"training.steps=9", "growth.experts_per_layer=3"};
  overrides.strategies = {"lifelong_moe"};
  const auto config = parse_experiment(kMinimal, "exp.yaml", "/base", overrides);
  EXPECT_EQ(config.name, "exp");
  EXPECT_EQ(config.training.steps, 9) << "flag beats file";
  EXPECT_EQ(config.training.seq_len, 16) << "file beats default";
  EXPECT_EQ(config.training.batch_size, 2);
  EXPECT_DOUBLE_EQ(config.training.lr, 1e-3) << "default";
  EXPECT_EQ(config.growth.experts_per_layer, 3);
  ASSERT_EQ(config.strategies.size(), 1u);
  EXPECT_EQ(config.strategies[0].name, "lifelong_moe");
  EXPECT_EQ(config.registry, std::filesystem::path("/base/grove.db")) << "relative to the file's folder";
  ASSERT_EQ(config.runs().size(), 1u);
  EXPECT_EQ(config.runs()[0].name, "exp-lifelong_moe") << "one strategy: the run's name carries it all the same";
}

// kMinimal with `seed: 3` replaced by `seed_text`, and `extra` appended.
std::string with_seeds(const std::string& seed_text, const std::string& extra = "") {
  std::string text = kMinimal;
  text.replace(text.find("seed: 3"), 7, seed_text);
  return text + extra;
}

std::vector<std::string> names_of(const std::vector<RunSpec>& runs) {
  std::vector<std::string> names;
  for (const auto& run : runs) names.push_back(run.name);
  return names;
}

TEST(ExperimentConfig, RunNamesCarryTheStrategyAndWithSeedsTheSeed) {
  // A file of one strategy named its run just "<name>": two such runs of one file with different strategies
  // collided. Now each is "<name>-<strategy>".
  for (const std::string strategy : {"grove", "finetune"}) {
    ConfigOverrides overrides;
    overrides.strategies = {strategy};
    const auto config = parse_experiment(kMinimal, "exp.yaml", "/", overrides);
    EXPECT_EQ(names_of(config.runs()), std::vector<std::string>{"exp-" + strategy});
    EXPECT_EQ(config.runs()[0].seed, 3u);
  }
  // `seeds:` runs every (strategy, seed) pair, the first seed's strategies first; each run has its own seed.
  const auto config = parse_experiment(with_seeds("seeds: [5, 6, 7]"), "exp.yaml", "/");
  EXPECT_EQ(config.seeds, (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(config.seed, 5u);
  EXPECT_EQ(names_of(config.runs()), (std::vector<std::string>{"exp-grove-s5", "exp-finetune-s5", "exp-grove-s6",
                                                                "exp-finetune-s6", "exp-grove-s7", "exp-finetune-s7"}));
  EXPECT_EQ(config.runs()[3].seed, 6u);
  EXPECT_EQ(config.runs()[3].strategy.name, "finetune");
  // Narrowing the list keeps the names of the runs that remain (a one-seed list still names the seed).
  ConfigOverrides narrowed;
  narrowed.set = {"seeds=[6]"};
  EXPECT_EQ(names_of(parse_experiment(with_seeds("seeds: [5, 6, 7]"), "exp.yaml", "/", narrowed).runs()),
            (std::vector<std::string>{"exp-grove-s6", "exp-finetune-s6"}));
}

TEST(ExperimentConfig, SeedAndSeedsTogetherAreAnErrorNamingBothLines) {
  std::string message = message_of([] { parse_experiment(with_seeds("seed: 3", "seeds: [1, 2]\n"), "exp.yaml", "/"); });
  EXPECT_NE(message.find("exp.yaml:2:7: key 'seed' and exp.yaml:11:8: key 'seeds' are both given"), std::string::npos)
      << message;
  message = set_error("seeds=[1, 2]");
  EXPECT_NE(message.find("exp.yaml:2:7: key 'seed' and --set seeds=[1, 2]: key 'seeds' are both given"),
            std::string::npos)
      << message;
  message = message_of([] { parse_experiment(with_seeds("seeds: [4, 9, 4]"), "exp.yaml", "/"); });
  EXPECT_NE(message.find("exp.yaml:2:8: key 'seeds': seed 4 is listed twice"), std::string::npos) << message;
  message = message_of([] { parse_experiment(with_seeds("seeds: []"), "exp.yaml", "/"); });
  EXPECT_NE(message.find("key 'seeds': expected at least one seed"), std::string::npos) << message;
  message = message_of([] { parse_experiment(with_seeds("seeds: [1, two]"), "exp.yaml", "/"); });
  EXPECT_NE(message.find("seeds"), std::string::npos) << message;
}

TEST(ExperimentConfig, EachRunsResolvedConfigHoldsItsOwnSeedAndStrategy) {
  const auto config = parse_experiment(with_seeds("seeds: [5, 6]"), "exp.yaml", "/base");
  const auto validated = validate_and_resolve(config, /*check_corpus_paths=*/false);
  for (const auto& run : config.runs()) {
    const auto own = config_for_run(config, run);
    const std::string stored = resolved_yaml(own, validated_for_run(config, validated, run));
    const auto seed = std::to_string(run.seed);
    EXPECT_NE(stored.find("\nseeds: [" + seed + "]\n"), std::string::npos) << stored;
    EXPECT_NE(stored.find("\n  seed: " + seed + "\n"), std::string::npos) << "model.seed follows the run:\n" << stored;
    EXPECT_NE(stored.find("strategies: [" + run.strategy.name + "]"), std::string::npos) << stored;
    // Read back, it is that one run, under the same name.
    const auto again = parse_experiment(stored, "stored", "/");
    EXPECT_EQ(names_of(again.runs()), std::vector<std::string>{run.name});
    EXPECT_EQ(again.seed, run.seed);
  }
  // A file of one seed stores `seed:` as before, so the runs it recorded keep their stored config and resume.
  const auto plain = parse_experiment(kMinimal, "exp.yaml", "/base");
  const auto plain_run = plain.runs().front();
  const std::string stored = resolved_yaml(config_for_run(plain, plain_run),
                                           validated_for_run(plain, validate_and_resolve(plain, false), plain_run));
  EXPECT_NE(stored.find("name: exp\nseed: 3\n"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("seeds"), std::string::npos) << stored;
}

TEST(ExperimentConfig, DumpedConfigMakesTheSameRunsStrategiesSettingsAndSeeds) {
  const std::string text = with_seeds(
      "seeds: [5, 6]", "strategy_overrides: {kd_weight: 0.5, grove: {replay_share: 0.25, shared: trainable}}\n");
  const auto config = parse_experiment(text, "exp.yaml", "/base");
  const auto validated = validate_and_resolve(config, /*check_corpus_paths=*/false);
  const std::string dumped = dump_yaml(config, validated);
  const YAML::Node model = YAML::Load(dumped)["model"];
  EXPECT_FALSE(model["vocab_size"]) << "each run takes its tokenizer's:\n" << dumped;
  EXPECT_FALSE(model["seed"]) << "each run's model takes its own seed:\n" << dumped;

  const auto again = parse_experiment(dumped, "dumped", "/elsewhere");
  const auto again_validated = validate_and_resolve(again, /*check_corpus_paths=*/false);
  ASSERT_EQ(names_of(again.runs()), names_of(config.runs()));
  ASSERT_EQ(again.strategies.size(), 2u);
  EXPECT_DOUBLE_EQ(again.strategies[0].replay_share, 0.25) << "grove's own settings survive the dump:\n" << dumped;
  EXPECT_EQ(again.strategies[0].shared, "trainable");
  EXPECT_DOUBLE_EQ(again.strategies[1].kd_weight, 0.5);
  EXPECT_DOUBLE_EQ(again.strategies[1].replay_share, 0.0) << "finetune's stay its own";
  // Every run stores the same configuration either way, so `grove run` on the dump resumes the very same runs.
  const auto runs = config.runs();
  const auto again_runs = again.runs();
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& run = again_runs[i];
    EXPECT_EQ(resolved_yaml(config_for_run(again, run), validated_for_run(again, again_validated, run)),
              resolved_yaml(config_for_run(config, runs[i]), validated_for_run(config, validated, runs[i])))
        << runs[i].name;
  }
  EXPECT_EQ(dump_yaml(again, again_validated), dumped);
}

TEST(ExperimentConfig, StrategyOverridesApplyToAllThenPerStrategy) {
  std::string text = kMinimal;
  text += "strategy_overrides: {kd_weight: 0.5, grove: {replay_share: 0.25, shared: trainable}, replay: {gate: frozen}}\n";
  const auto config = parse_experiment(text, "exp.yaml", "/");
  ASSERT_EQ(config.strategies.size(), 2u);
  const auto& grove = config.strategies[0];
  const auto& finetune = config.strategies[1];
  EXPECT_EQ(grove.name, "grove");
  EXPECT_DOUBLE_EQ(grove.kd_weight, 0.5) << "flat keys change every strategy";
  EXPECT_DOUBLE_EQ(finetune.kd_weight, 0.5);
  EXPECT_DOUBLE_EQ(grove.replay_share, 0.25) << "grove's own map";
  EXPECT_EQ(grove.shared, "trainable");
  EXPECT_DOUBLE_EQ(finetune.replay_share, 0.0) << "grove's map leaves finetune alone";
  EXPECT_EQ(finetune.shared, "trainable") << "finetune's preset";
  EXPECT_EQ(finetune.gate, "all") << "replay's map applies to replay only, which is not run here";

  // A per-strategy map is checked even when its strategy is not run.
  std::string typo = kMinimal;
  typo += "strategy_overrides: {replay: {replay_shar: 0.5}}\n";
  const auto message = message_of([&] { parse_experiment(typo, "exp.yaml", "/"); });
  EXPECT_NE(message.find("strategy_overrides.replay.replay_shar"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'replay_share'"), std::string::npos) << message;
}

TEST(ExperimentConfig, UnknownKeyWrongTypeAndUnknownStrategyAreNamed) {
  std::string text = kMinimal;
  text += "evaluation: {max_tokns: 5}\n";
  auto message = message_of([&] { parse_experiment(text, "exp.yaml", "/"); });
  EXPECT_NE(message.find("exp.yaml:11:"), std::string::npos) << message;
  EXPECT_NE(message.find("evaluation.max_tokns"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'max_tokens'"), std::string::npos) << message;

  message = message_of([&] {
    ConfigOverrides overrides;
    overrides.set = {"training.lr=fast"};
    parse_experiment(kMinimal, "exp.yaml", "/", overrides);
  });
  EXPECT_NE(message.find("training.lr"), std::string::npos) << message;
  EXPECT_NE(message.find("expected a number, got 'fast'"), std::string::npos) << message;

  message = message_of([&] {
    ConfigOverrides overrides;
    overrides.strategies = {"yolo"};
    parse_experiment(kMinimal, "exp.yaml", "/", overrides);
  });
  EXPECT_NE(message.find("strategy 'yolo' is not known"), std::string::npos) << message;
}

TEST(ExperimentConfig, ARunNameMustBeOneFolderInsideWorkDir) {
  // The name is the run's folder under work_dir: a path in it would put checkpoints elsewhere.
  for (const std::string bad : {"''", "..", ".", "/tmp/elsewhere", "x/../../y", "a\\\\b"}) {
    std::string text = kMinimal;
    text.replace(0, text.find('\n'), "name: " + bad);
    const auto message = message_of([&] { parse_experiment(text, "exp.yaml", "/"); });
    EXPECT_NE(message.find("exp.yaml:1:"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("expected a run name that is one folder name"), std::string::npos) << bad << ": " << message;
  }
  std::string text = kMinimal;
  text.replace(0, text.find('\n'), "name: my run \u00fc");
  EXPECT_EQ(parse_experiment(text, "exp.yaml", "/").name, "my run \u00fc");
}

TEST(ExperimentConfig, AMalformedSetPathIsNamedNotAParserError) {
  std::string message = set_error("distributions[x].name=a");
  EXPECT_NE(message.find("--set distributions[x].name: 'distributions[x]': expected a list index in brackets"),
            std::string::npos)
      << message;
  message = set_error("distributions[-1].name=a");
  EXPECT_NE(message.find("expected a list index in brackets"), std::string::npos) << message;
  message = set_error("training.steps.x=1");
  EXPECT_NE(message.find("--set training.steps.x: 'training.steps' is not a section of keys, so it has no key 'x'"),
            std::string::npos)
      << message;
  message = set_error("distributions[5].name=a");
  EXPECT_NE(message.find("'distributions' has no element 5"), std::string::npos) << message;
  ConfigOverrides fine;
  fine.set = {"distributions[0].name=de", "training.steps=7"};
  const auto config = parse_experiment(kMinimal, "exp.yaml", "/", fine);
  EXPECT_EQ(config.training.steps, 7);
}

TEST(ExperimentConfig, ABadSetValueIsNamedByItsAssignmentNotByAPlaceInTheFile) {
  // yaml-cpp places a --set value at line 1 of its own one-line text, which read as the experiment file's line 1.
  std::string message = set_error("training.steps=many");
  EXPECT_NE(message.find("--set training.steps=many: key 'training.steps': expected an integer, got 'many'"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("exp.yaml"), std::string::npos) << message;
  message = set_error("training={steps: many}");  // a key inside a mapping given on the command line
  EXPECT_NE(message.find("--set training={steps: many}: key 'training.steps'"), std::string::npos) << message;
  EXPECT_EQ(message.find("exp.yaml"), std::string::npos) << message;
  message = set_error("training.stepz=5");  // an unknown key the command line added
  EXPECT_NE(message.find("--set training.stepz=5: unknown key 'training.stepz'"), std::string::npos) << message;
  message = set_error("training.steps=&a [*a]");  // a value that refers to itself: a clean error, not a crash
  EXPECT_NE(message.find("--set training.steps=&a [*a]: key 'training.steps'"), std::string::npos) << message;
  // A key the file itself gets wrong is still named by its line in the file.
  std::string text = kMinimal;
  text.replace(text.find("steps:"), 6, "stepz:");
  message = message_of([&] { parse_experiment(text, "exp.yaml", "/"); });
  EXPECT_NE(message.find("exp.yaml:"), std::string::npos) << message;
  EXPECT_EQ(message.find("--set"), std::string::npos) << message;
}

TEST(ExperimentConfig, ValidationNamesModelKeysAndMissingCorpora) {
  ConfigOverrides overrides;
  overrides.set = {"model.top_k=5"};
  auto config = parse_experiment(kMinimal, "exp.yaml", "/", overrides);
  auto message = message_of([&] { validate_and_resolve(config); });
  EXPECT_NE(message.find("top_k"), std::string::npos) << message;

  overrides.set = {"distributions[0].paths=[/nonexistent/corpus.txt]"};
  config = parse_experiment(kMinimal, "exp.yaml", "/", overrides);
  message = message_of([&] { validate_and_resolve(config); });
  EXPECT_NE(message.find("/nonexistent/corpus.txt"), std::string::npos) << message;
}

TEST(ExperimentConfig, AnInlineDistributionsMistakeIsNamedByItsLineAndEntry) {
  // Each entry was copied with YAML::Clone, which drops positions: every message said exp.yaml:1:1, "distributions".
  const std::string second = std::string(kMinimal) +
                             "  - name: fourth\n"
                             "    source: fortune\n"
                             "    paths: [/usr/share/games/fortunes/fortunes]\n";
  auto message_for = [&](const std::string& last_line) {
    const auto config = parse_experiment(second + last_line, "exp.yaml", "/");
    return message_of([&] { validate_and_resolve(config); });
  };
  std::string message = message_for("    holdot: 0.1\n");
  EXPECT_NE(message.find("exp.yaml:14:5: unknown key 'distributions[1].holdot'"), std::string::npos) << message;
  message = message_for("    doc_per: file\n");
  EXPECT_NE(message.find("exp.yaml:14:14: key 'distributions[1].doc_per'"), std::string::npos) << message;
  const auto config = parse_experiment(second, "exp.yaml", "/");
  EXPECT_NO_THROW(validate_and_resolve(config));
}

TEST(ExperimentConfig, ResolvedYamlParsesBackToTheSameResolvedYaml) {
  const auto config = parse_experiment(kMinimal, "exp.yaml", "/base");
  const auto validated = validate_and_resolve(config);
  const std::string resolved = resolved_yaml(config, validated);
  EXPECT_NE(resolved.find("steps: 5"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("warmup_steps: 20"), std::string::npos) << "defaults are written out:\n" << resolved;
  const auto again = parse_experiment(resolved, "resolved", "/elsewhere");
  EXPECT_EQ(resolved_yaml(again, validate_and_resolve(again)), resolved);
}

// The two retention and launch switches: defaults (cuda_graphs on, finished phases' resumable checkpoints removed)
// are left out of the resolved config, so runs recorded before the keys existed keep their stored config and
// resume; a set value is written, parses back, and a wrong type is named.
TEST(ExperimentConfig, CudaGraphsAndCheckpointRetentionSwitches) {
  const auto defaults = parse_experiment(kMinimal, "exp.yaml", "/base");
  EXPECT_TRUE(defaults.training.cuda_graphs);
  EXPECT_FALSE(defaults.training.keep_finished_phase_checkpoints);
  const std::string plain = resolved_yaml(defaults, validate_and_resolve(defaults));
  EXPECT_EQ(plain.find("cuda_graphs"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("keep_finished_phase_checkpoints"), std::string::npos) << plain;

  ConfigOverrides overrides;
  overrides.set = {"training.cuda_graphs=false", "training.keep_finished_phase_checkpoints=true"};
  const auto set = parse_experiment(kMinimal, "exp.yaml", "/base", overrides);
  EXPECT_FALSE(set.training.cuda_graphs);
  EXPECT_TRUE(set.training.keep_finished_phase_checkpoints);
  const std::string written = resolved_yaml(set, validate_and_resolve(set));
  const auto again = parse_experiment(written, "resolved", "/elsewhere");
  EXPECT_FALSE(again.training.cuda_graphs);
  EXPECT_TRUE(again.training.keep_finished_phase_checkpoints);

  const std::string message = message_of([&] {
    ConfigOverrides bad;
    bad.set = {"training.cuda_graphs=sometimes"};
    parse_experiment(kMinimal, "exp.yaml", "/", bad);
  });
  EXPECT_NE(message.find("training.cuda_graphs"), std::string::npos) << message;
  EXPECT_NE(message.find("true or false"), std::string::npos) << message;
}

TEST(ExperimentConfig, CheckpointEveryMinutesIsOffByDefaultRoundTripsAndANegativeValueNamesTheKey) {
  const auto defaults = parse_experiment(kMinimal, "exp.yaml", "/base");
  EXPECT_DOUBLE_EQ(defaults.training.checkpoint_every_minutes, 0.0);
  const std::string plain = resolved_yaml(defaults, validate_and_resolve(defaults));
  EXPECT_EQ(plain.find("checkpoint_every_minutes"), std::string::npos)
      << "left out when off, so runs recorded before the key existed still resume: " << plain;

  ConfigOverrides overrides;
  overrides.set = {"training.checkpoint_every_minutes=2.5", "training.checkpoint_every=0"};
  const auto set = parse_experiment(kMinimal, "exp.yaml", "/base", overrides);
  EXPECT_DOUBLE_EQ(set.training.checkpoint_every_minutes, 2.5);
  EXPECT_EQ(set.training.checkpoint_every, 0) << "time instead of steps";
  const auto again = parse_experiment(resolved_yaml(set, validate_and_resolve(set)), "resolved", "/elsewhere");
  EXPECT_DOUBLE_EQ(again.training.checkpoint_every_minutes, 2.5);
  EXPECT_EQ(again.training.checkpoint_every, 0);

  for (const std::string bad : {"training.checkpoint_every_minutes=-1", "training.checkpoint_every_minutes=.nan"}) {
    const std::string message = set_error(bad);
    EXPECT_NE(message.find("training.checkpoint_every_minutes"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("minutes >= 0"), std::string::npos) << bad << ": " << message;
  }
  const std::string steps = set_error("training.checkpoint_every=-5");
  EXPECT_NE(steps.find("training.checkpoint_every'"), std::string::npos) << steps;
}

// The experiment files the project ships parse and validate (corpus paths aside: the GPU machine may lack them)
// and say what their documentation promises.
TEST(ExperimentConfig, ShippedExperimentsValidateAndMatchTheirDescription) {
  const std::filesystem::path folder = std::filesystem::path(testing::source_dir()) / "experiments";
  const auto demo = load_experiment(folder / "demo.yaml");
  const auto demo_model = validate_and_resolve(demo, /*check_corpus_paths=*/false).model;
  EXPECT_EQ(demo_model.d_model, 128);
  ASSERT_EQ(demo.strategies.size(), 3u);
  EXPECT_EQ(demo.strategies[0].name, "grove");
  EXPECT_EQ(demo.strategies[0].growth, "always") << "every distribution of the demo is new";
  EXPECT_EQ(demo.strategies[0].gate, "new_rows") << "the configuration docs/CONTINUAL.md measures";
  EXPECT_EQ(demo.strategies[0].shared, "trainable");
  EXPECT_DOUBLE_EQ(demo.strategies[0].isolation_weight, 1.0);
  EXPECT_DOUBLE_EQ(demo.strategies[0].rehearsal_share, 0.25) << "the previous model reminds it";
  EXPECT_DOUBLE_EQ(demo.strategies[0].rehearsal_weight, 2.0) << "the weight docs/CONTINUAL.md measures";
  EXPECT_DOUBLE_EQ(demo.strategies[0].replay_share, 0.0) << "grove needs no old data";
  EXPECT_EQ(demo.strategies[1].name, "finetune");
  EXPECT_DOUBLE_EQ(demo.strategies[1].replay_share, 0.0) << "fine-tuning stays plain";
  EXPECT_EQ(demo.strategies[2].name, "replay");
  EXPECT_DOUBLE_EQ(demo.strategies[2].replay_share, 0.25) << "the replay baseline beside fine-tuning";
  ASSERT_EQ(demo.distributions.size(), 4u);

  const auto gpu = load_experiment(folder / "gpu-small.yaml");
  const auto gpu_model = validate_and_resolve(gpu, /*check_corpus_paths=*/false).model;
  EXPECT_EQ(gpu_model.d_model, 768);
  EXPECT_EQ(gpu_model.n_layers, 12);
  EXPECT_EQ(gpu_model.n_experts, 16);
  EXPECT_EQ(gpu_model.top_k, 2);
  EXPECT_EQ(gpu.growth.experts_per_layer, 8);
  EXPECT_EQ(gpu.strategies[0].growth, "always") << "+8 experts at every phase";
  EXPECT_EQ(gpu.distributions.size(), 6u);

  const auto continual = load_experiment(folder / "gpu-continual.yaml");
  EXPECT_EQ(validate_and_resolve(continual, /*check_corpus_paths=*/false).model.d_model, 768);
  EXPECT_EQ(continual.training.steps, 1000) << "phases long enough for a fixed-size model to run out of room";
  EXPECT_EQ(continual.strategies.size(), 4u);
}

TEST(ExperimentConfig, AStoredConfigFromBeforeRoutingIsolationReadsAsWhatItsRunDid) {
  // A grove run stored before `isolation_weight` existed trained without routing isolation; today's grove preset
  // turns it on, so a stored config that lacks the key must read as 0, and one that has it as written.
  std::string stored = kMinimal;
  stored.replace(stored.find("strategies: [grove, finetune]"), 29,
                 "strategies: [grove]\nstrategy_overrides: {growth: novelty, experts: newest, gate: all, shared: frozen, "
                 "kd_weight: 0, kd_temperature: 2, replay_share: 0}");
  registry::RunRow run;
  run.name = "exp";
  run.config_yaml = stored;
  const auto old_config = parse_stored_config(run);
  EXPECT_DOUBLE_EQ(old_config.strategies.front().isolation_weight, 0.0);
  EXPECT_EQ(old_config.strategies.front().gate, "all");
  EXPECT_DOUBLE_EQ(parse_experiment(stored, "exp.yaml", "/").strategies.front().isolation_weight, 1.0)
      << "an experiment file without the key gets the preset's";

  run.config_yaml = std::string(stored).replace(stored.find("replay_share: 0}"), 16,
                                                 "replay_share: 0, isolation_weight: 0.5}");
  EXPECT_DOUBLE_EQ(parse_stored_config(run).strategies.front().isolation_weight, 0.5);
  EXPECT_DOUBLE_EQ(old_config.strategies.front().rehearsal_share, 0.0) << "stored before generated rehearsal";
  EXPECT_DOUBLE_EQ(parse_experiment(stored, "exp.yaml", "/").strategies.front().rehearsal_share, 0.25);

  // Written back, grove with isolation off keeps the key (the preset's default is on); finetune's 0 is left out.
  ExperimentConfig config = parse_experiment(kMinimal, "exp.yaml", "/");
  config.strategies[0].isolation_weight = 0.0;
  const auto validated = validate_and_resolve(config, /*check_corpus_paths=*/false);
  const std::string dumped = dump_yaml(config, validated);
  const auto reread = parse_experiment(dumped, "dump.yaml", "/");
  EXPECT_DOUBLE_EQ(reread.strategies[0].isolation_weight, 0.0) << dumped;
  EXPECT_DOUBLE_EQ(reread.strategies[1].isolation_weight, 0.0);
  EXPECT_DOUBLE_EQ(reread.strategies[0].rehearsal_share, 0.25) << dumped;
  EXPECT_EQ(dumped.find("rehearsal_share: 0\n"), std::string::npos) << "finetune's 0 is left out: " << dumped;
}

TEST(ExperimentConfig, RehearsalShareIsAShareThatLeavesRoomForTheNewData) {
  auto refused = [](const std::string& overrides) {
    std::string text = kMinimal;
    text.replace(text.find("strategies: [grove, finetune]"), 29, "strategies: [grove]\nstrategy_overrides: " + overrides);
    try {
      parse_experiment(text, "exp.yaml", "/");
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(refused("{rehearsal_share: 1.0}").find("strategy_overrides.rehearsal_share': expected a share in [0, 1), got 1"),
            std::string::npos)
      << refused("{rehearsal_share: 1.0}");
  EXPECT_NE(refused("{rehearsal_share: 0.5, replay_share: 0.5}").find("their sum must be below 1"), std::string::npos);
  EXPECT_NE(refused("{rehearsal_weight: -1}").find("rehearsal_weight"), std::string::npos);
  EXPECT_EQ(refused("{rehearsal_share: 0.5, replay_share: 0.25, rehearsal_weight: 2}"), "");
}

TEST(DumpConfigCommand, PrintsTheResolvedConfigOrExitsTwoNamingTheKey) {
  testing::TempDir dir;
  const auto good = testing::write_file(dir / "exp.yaml", kMinimal);
  auto result = testing::run_grove({"dump-config", good.string(), "--set", "training.steps=77"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("steps: 77"), std::string::npos) << result.out;

  const auto bad = testing::write_file(dir / "bad.yaml", std::string(kMinimal) + "trainng: {steps: 1}\n");
  result = testing::run_grove({"dump-config", bad.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown key 'trainng'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("did you mean 'training'"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace grove::orch
