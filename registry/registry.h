// Everything the registry offers, for callers that use most of it (the orchestrator, the report, the CLI).
#pragma once

#include "registry/checkpoints.h"
#include "registry/database.h"
#include "registry/distributions.h"
#include "registry/evals.h"
#include "registry/events.h"
#include "registry/experts.h"
#include "registry/forgetting_metrics.h"
#include "registry/lineage.h"
#include "registry/migrations.h"
#include "registry/phases.h"
#include "registry/routing.h"
#include "registry/runs.h"
#include "registry/shards.h"
#include "registry/split.h"
#include "registry/tokenizers.h"
#include "registry/train_metrics.h"
