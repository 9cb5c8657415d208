#include "model/vocabulary_growth.h"

#include <fmt/format.h>

#include "common/errors.h"

namespace grove::model {

void grow_vocabulary(MoeTransformer& model, const std::vector<std::vector<int64_t>>& spellings) {
  if (spellings.empty()) return;
  const int64_t vocabulary = model.config().vocab_size;
  std::vector<int64_t> ids, rows;
  for (size_t piece = 0; piece < spellings.size(); ++piece) {
    if (spellings[piece].empty()) {
      throw ConfigError(fmt::format("vocabulary growth: new piece {} has an empty spelling", piece));
    }
    for (const int64_t id : spellings[piece]) {
      if (id < 0 || id >= vocabulary) {
        throw ConfigError(fmt::format("vocabulary growth: new piece {} is spelt with id {}, outside the model's {} rows",
                                      piece, id, vocabulary));
      }
      ids.push_back(id);
      rows.push_back(static_cast<int64_t>(piece));
    }
  }
  torch::NoGradGuard no_grad;
  const auto id_index = torch::tensor(ids, torch::kLong);
  const auto row_index = torch::tensor(rows, torch::kLong);
  const auto n = static_cast<int64_t>(spellings.size());
  const auto counts = torch::zeros({n, 1}, torch::kDouble)
                          .index_add_(0, row_index, torch::ones({row_index.size(0), 1}, torch::kDouble));
  // On the CPU in float64: the same spellings give bit-identical rows on every device and in every process (a
  // resumed phase grows its teacher again).
  auto mean_rows = [&](const torch::Tensor& table) {
    const auto gathered = table.detach().index_select(0, id_index.to(table.device())).to(torch::kCPU, torch::kDouble);
    const auto sums = torch::zeros({n, table.size(1)}, torch::kDouble).index_add_(0, row_index, gathered);
    return (sums / counts).to(table.device(), table.scalar_type());
  };
  const torch::Tensor embed_rows = mean_rows(model.embedding());
  // LM-head rows: the mean of every old row, the same for each new piece. Its logits sit near the average logit, so
  // the new pieces start with little probability where the old vocabulary already fits the text (a spelling's mean
  // would hand them its first piece's mass everywhere) and the phase's training raises them on its own data.
  torch::Tensor head_rows;
  if (!model.config().tie_embeddings) {
    const auto head = model.lm_head().detach().to(torch::kCPU, torch::kDouble);
    head_rows = head.mean(0, /*keepdim=*/true).expand({n, head.size(1)}).contiguous().to(
        model.lm_head().device(), model.lm_head().scalar_type());
  }
  model.append_vocabulary(embed_rows, head_rows);
}

}  // namespace grove::model
