// A phase that does not grow trains the experts of its most similar earlier distribution, under the grove strategy:
// on the timeline A, B, A' (Russian fortunes, English fortunes, other Russian fortunes) phase 1 grows for English,
// phase 2 does not grow and trains the base group, which the Russian tokens use; the English group stays bit for
// bit. A resumed phase 2 trains the group its registry row records, without choosing again, and ends as an
// uninterrupted run does.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/orchestrator/run_fixture.h"

namespace grove {
namespace {
namespace fs = std::filesystem;

using testing::kTinyRun;
using testing::RunFixture;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "tiny_experiment.yaml no longer has: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The tiny experiment on the timeline ru_knowledge -> en_science -> ru_life, growing by novelty. Russian and
// English tokens share no piece, so the tiny model routes them apart, and the novelty policy's verdicts are far
// from its threshold (English after Russian: bpb ratio about 1.9 > 1.2; other Russian fortunes: about 0.7).
std::string similar_timeline() {
  std::string text =
      testing::read_file(fs::path(testing::source_dir()) / "tests/orchestrator/data/tiny_experiment.yaml");
  text = replaced(text, "train_on: [en_science, de_computer, py_tutorial]",
                  "train_on: [ru_knowledge, en_science, ru_life]");
  text = replaced(text, "vocab_size: 384", "vocab_size: 512");  // the Cyrillic characters need pieces of their own
  text = replaced(text, "policy: always", "policy: novelty");
  return text.substr(0, text.find("distributions:")) +
         "distributions:\n"
         "  - name: ru_knowledge\n"
         "    source: fortune\n"
         "    paths: [/usr/share/games/fortunes/ru/knowledge]\n"
         "    holdout: 0.1\n"
         "  - name: en_science\n"
         "    source: fortune\n"
         "    paths: [/usr/share/games/fortunes/science]\n"
         "    holdout: 0.1\n"
         "  - name: ru_life\n"
         "    source: fortune\n"
         "    paths: [/usr/share/games/fortunes/ru/life]\n"
         "    holdout: 0.1\n";
}

class NoGrowth : public RunFixture {
 protected:
  fs::path write_similar(const fs::path& dir) { return testing::write_file(dir / "tiny.yaml", similar_timeline()); }
};

bool is_group(const std::string& name, int group) {
  return name.find(".moe.groups." + std::to_string(group) + ".") != std::string::npos;
}

TEST_F(NoGrowth, APhaseWithoutGrowthTrainsTheGroupOfItsMostSimilarDistribution) {
  const auto result = grove({"run", write_similar(dir_.path()).string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  auto db = open_registry();
  const auto run = registry::require_run(db, kTinyRun);
  const auto phases = registry::list_phases(db, run.id);
  ASSERT_EQ(phases.size(), 3u);
  ASSERT_EQ(phases[1].decision, registry::GrowthDecision::kGrow) << phases[1].decision_reason.value_or("");
  ASSERT_EQ(phases[2].decision, registry::GrowthDecision::kNoGrow) << phases[2].decision_reason.value_or("");
  EXPECT_EQ(phases[0].trained_group, 0);
  EXPECT_EQ(phases[1].trained_group, 1) << "a grown phase trains its new group";
  EXPECT_EQ(phases[2].trained_group, 0) << "ru_life's tokens use the base group, grown for ru_knowledge";
  const std::string reason = phases[2].decision_reason.value_or("");
  EXPECT_NE(reason.find("train without growth; trains group 0's experts (the base group, for ru_knowledge)"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("group 1: "), std::string::npos) << "every group's share: " << reason;
  EXPECT_NE(result.err.find("phase 2 (ru_life): no growth; trains group 0's experts"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("routing isolation of group 0 against 1 earlier distribution"), std::string::npos)
      << "isolated from en_science only: ru_knowledge is group 0's own\n"
      << result.err;

  // Frozen since: the base group trains again (thawed), the English group froze when phase 2 began.
  for (const auto& expert : registry::list_experts(db, run.id)) {
    if (expert.group_idx == 0) {
      EXPECT_FALSE(expert.frozen_at_phase_id.has_value()) << "layer " << expert.layer << " slot " << expert.slot;
    } else {
      EXPECT_EQ(expert.frozen_at_phase_id, phases[2].id) << "layer " << expert.layer << " slot " << expert.slot;
    }
  }

  const auto before = final_checkpoint(db, kTinyRun, 1), after = final_checkpoint(db, kTinyRun, 2);
  size_t kept = 0, trained = 0;
  for (const auto& name : testing::tensor_names(after)) {
    if (is_group(name, 1)) {
      EXPECT_EQ(testing::tensor_bytes(after, name), testing::tensor_bytes(before, name))
          << name << ": the English group must stay bit for bit";
      ++kept;
    } else if (is_group(name, 0)) {
      EXPECT_NE(testing::tensor_bytes(after, name), testing::tensor_bytes(before, name)) << name << " trained";
      ++trained;
    }
  }
  EXPECT_EQ(kept, 2u * 4u) << "2 layers x (w1, w3, w2, gate_weight)";
  EXPECT_EQ(trained, 2u * 4u);
}

TEST_F(NoGrowth, AResumedPhaseTrainsTheGroupItsRowRecordsAndEndsAsAnUninterruptedRun) {
  const std::string longer = "--set=training.steps=60";
  testing::TempDir reference_dir("grove-ref");
  const auto reference = grove({"run", write_similar(reference_dir.path()).string(), longer});
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const auto experiment = write_similar(dir_.path());
  {
    const auto stopped = run_until_sigterm({"run", experiment.string(), longer}, 2, 10);
    ASSERT_EQ(stopped.exit_code, 143) << stopped.err;
    EXPECT_NE(stopped.err.find("no growth; trains group 0's experts"), std::string::npos) << stopped.err;
  }
  {
    auto db = open_registry();
    const auto phase = registry::find_phase(db, registry::require_run(db, kTinyRun).id, 2);
    ASSERT_EQ(phase->status, registry::PhaseStatus::kInterrupted);
    EXPECT_EQ(phase->trained_group, 0);
  }
  const auto resumed = grove({"run", experiment.string(), longer});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming at step"), std::string::npos) << resumed.err;
  EXPECT_EQ(resumed.err.find("no growth; trains group"), std::string::npos)
      << "a resumed phase reads its group from the registry; it does not choose again\n"
      << resumed.err;

  auto db = open_registry();
  auto reference_db = registry::Database::open(reference_dir / "grove.db", registry::OpenMode::kReadOnly);
  EXPECT_EQ(registry::find_phase(reference_db, registry::require_run(reference_db, kTinyRun).id, 2)->trained_group, 0);
  expect_same_results(db, reference_db);
}

}  // namespace
}  // namespace grove
