#include "registry/schema_v4.h"

namespace grove::registry {

// trained_group: NULL where every group trains (the strategies with `experts: all`) or the phase predates v4.
// tokenizer_id: NULL where the phase uses the run's tokenizer.
const std::string_view kSchemaV4 = R"SQL(
ALTER TABLE phases ADD COLUMN trained_group INTEGER CHECK (trained_group IS NULL OR trained_group >= 0);
ALTER TABLE phases ADD COLUMN tokenizer_id INTEGER REFERENCES tokenizers(id);
)SQL";

}  // namespace grove::registry
