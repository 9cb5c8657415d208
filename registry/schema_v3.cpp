#include "registry/schema_v3.h"

namespace grove::registry {

// One row per phase, seconds of wall time by use; a resumed phase adds to its row. train_tokens: the tokens of the
// steps its model kept (a step trained again after a resume counts once).
const std::string_view kSchemaV3 = R"SQL(
CREATE TABLE phase_times (
  phase_id     INTEGER PRIMARY KEY REFERENCES phases(id),
  setup_s      REAL NOT NULL DEFAULT 0 CHECK (setup_s >= 0),
  training_s   REAL NOT NULL DEFAULT 0 CHECK (training_s >= 0),
  checkpoint_s REAL NOT NULL DEFAULT 0 CHECK (checkpoint_s >= 0),
  eval_s       REAL NOT NULL DEFAULT 0 CHECK (eval_s >= 0),
  other_s      REAL NOT NULL DEFAULT 0 CHECK (other_s >= 0),
  train_tokens INTEGER NOT NULL DEFAULT 0 CHECK (train_tokens >= 0)
);
)SQL";

}  // namespace grove::registry
