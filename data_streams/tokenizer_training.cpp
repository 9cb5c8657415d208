#include "data_streams/tokenizer_training.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "common/errors.h"
#include "common/hashing.h"
#include "data_streams/sentencepiece_library.h"

namespace grove::data {
namespace {

constexpr size_t kMaxSentenceBytes = 8192;
// Fixed so the model does not depend on the machine's core count.
constexpr int kTrainingThreads = 4;

// The non-blank lines of the sampled documents, long lines cut at UTF-8 boundaries: what SentencePiece trains on.
std::vector<std::string> training_lines(const std::vector<std::string_view>& documents) {
  std::vector<std::string> lines;
  auto add_line = [&](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    while (line.size() > kMaxSentenceBytes) {
      size_t cut = kMaxSentenceBytes;
      while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      lines.emplace_back(line.substr(0, cut));
      line.remove_prefix(cut);
    }
    if (!line.empty()) lines.emplace_back(line);
  };
  for (std::string_view doc : documents) {
    size_t start = 0;
    while (start < doc.size()) {
      size_t end = doc.find('\n', start);
      if (end == std::string_view::npos) end = doc.size();
      add_line(doc.substr(start, end - start));
      start = end + 1;
    }
  }
  return lines;
}

}  // namespace

void validate_tokenizer_spec(const TokenizerSpec& spec) {
  if (spec.vocab_size < 300 || spec.vocab_size > (1u << 20)) {
    throw ConfigError(fmt::format("tokenizer: vocab_size {} is out of range; expected 300 to {} (256 byte pieces and "
                                  "4 special ids are always included)",
                                  spec.vocab_size, 1u << 20));
  }
  if (spec.train_on.empty()) {
    throw ConfigError("tokenizer: train_on: expected at least one ingested distribution name");
  }
  if (spec.sample_bytes_per_distribution == 0) {
    throw ConfigError("tokenizer: sample_bytes_per_distribution must be positive");
  }
}

std::vector<std::string_view> sample_documents(const DocumentStore& store, uint64_t max_bytes, uint64_t seed) {
  std::vector<std::pair<uint64_t, uint64_t>> order;  // (key, index) over the train split
  for (uint64_t i = 0; i < store.size(); ++i) {
    if (!store.is_holdout(i)) order.emplace_back(xxh3_64(store.document(i), seed), i);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::string_view> sample;
  uint64_t bytes = 0;
  for (const auto& [key, index] : order) {
    const std::string_view doc = store.document(index);
    if (!sample.empty() && bytes + doc.size() > max_bytes) break;
    sample.push_back(doc);
    bytes += doc.size();
  }
  return sample;
}

std::string train_sentencepiece(const std::vector<std::string_view>& documents, const TokenizerSpec& spec) {
  const std::vector<std::pair<std::string, std::string>> options{
      {"model_type", std::string(registry::to_text(spec.kind))},
      {"vocab_size", std::to_string(spec.vocab_size)},
      {"byte_fallback", "true"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"split_digits", "true"},
      {"character_coverage", "0.9995"},
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"max_sentence_length", std::to_string(kMaxSentenceBytes)},
      {"num_threads", std::to_string(kTrainingThreads)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"pad_id", std::to_string(kPadId)},
      {"minloglevel", "2"},
      {"model_prefix", ""},
  };
  std::string model;
  try {
    model = train_sentencepiece_model(options, training_lines(documents));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("tokenizer: SentencePiece could not train a {} model of {} pieces on a {}-document "
                                  "sample: {}",
                                  registry::to_text(spec.kind), spec.vocab_size, documents.size(), e.what()));
  }
  return model;
}

}  // namespace grove::data
