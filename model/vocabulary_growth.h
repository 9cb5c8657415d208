// The model's half of vocabulary growth (the tokenizer's is data_streams/vocabulary_growth.h): one embedding row and
// one LM-head row per new piece, appended after the old ones so that old ids keep their rows. A new piece starts
// from how the old vocabulary spelt it: its embedding is the mean of its spelling's embeddings (the input the model
// saw for that text so far). Its LM-head row (untied models) is the mean of every old row, so that it starts with
// little probability where the old pieces already fit and training raises it on the new data. Deterministic (on the
// CPU in float64): a student and its teacher grow alike, in every process.
#pragma once

#include <cstdint>
#include <vector>

#include "model/moe_transformer.h"

namespace grove::model {

// Appends one row per spelling (old ids, each < the model's vocabulary). Throws ConfigError for an empty spelling
// or an id out of range.
void grow_vocabulary(MoeTransformer& model, const std::vector<std::vector<int64_t>>& spellings);

}  // namespace grove::model
