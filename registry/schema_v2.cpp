#include "registry/schema_v2.h"

namespace grove::registry {

// params_total: every parameter of the model at the end of the phase; params_active: those one token uses (shared
// weights plus its top-k experts).
const std::string_view kSchemaV2 = R"SQL(
ALTER TABLE phases ADD COLUMN params_total INTEGER CHECK (params_total IS NULL OR params_total >= 0);
ALTER TABLE phases ADD COLUMN params_active INTEGER CHECK (params_active IS NULL OR params_active >= 0);
)SQL";

}  // namespace grove::registry
