// A realistic registry for report tests, written through the registry API: a `grove` run of four phases over four
// distributions (growth at phases 1 and 3, none at 2; experts copied and random; groups frozen; the full
// evaluation matrix with R_init and forward-transfer rows; routing after phases 2 and 3; per-step training
// metrics with KD and aux losses; parameter counts; events) and a `finetune` run on the same timeline with missing
// cells (an R_init, two R cells), no routing and a phase without training metrics. Names are awkward on purpose:
// quotes, '<', '&', non-ASCII.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/database.h"

namespace grove::testing {

inline const std::vector<std::string> kFixtureDistributions = {"en-fortunes", "de-fortunes",
                                                               "python \"docs\" <3.11> & co", "ru «фортунки»"};
inline const std::string kGroveRun = "grove \"demo\" <A&B>";
inline const std::string kFinetuneRun = "finetune-missing";

struct FixtureCounts {
  size_t grove_evals = 0;     // eval rows of the grove run
  size_t finetune_evals = 0;  // eval rows of the finetune run
};

// Bits per byte of distribution j after phase i in the fixture's runs (the values the tests expect back).
double fixture_bpb(const std::string& strategy, size_t i, size_t j);

// Records both runs; returns how many eval rows each has.
FixtureCounts populate_report_fixture(registry::Database& db);

// A small run whose routing specialisation is computed by hand (report_fixture.cpp spells the rows out): two layers,
// distributions en (base phase, experts 0-1), py (phase 1 grows experts 2-3), py-more (phase 2: no growth) and ru
// (phase 3 grows experts 4-5 and is still training); routing after phase 1 (stale) and after phase 2 (the latest).
// Shares on own experts, layer 0: en 0.75, py 0.80; layer 1: en 1.00, py 0.50; py-more "no growth"; ru n/a.
inline const std::string kSpecialisationRun = "routing-specialisation";
inline const std::vector<std::string> kSpecialisationDistributions = {"en", "py", "py-more", "ru"};
void populate_specialisation_fixture(registry::Database& db);

}  // namespace grove::testing
