#include "data_streams/tokenizer_training.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <regex>
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

// The start of `doc` within `max_bytes`: up to its last line end there, else cut at a UTF-8 character boundary.
std::string_view budget_prefix(std::string_view doc, uint64_t max_bytes) {
  std::string_view head = doc.substr(0, max_bytes);
  if (const size_t newline = head.rfind('\n'); newline != std::string_view::npos && newline > 0) {
    return head.substr(0, newline + 1);
  }
  size_t cut = head.size();
  while (cut > 0 && (static_cast<unsigned char>(doc[cut]) & 0xC0) == 0x80) --cut;
  return head.substr(0, cut);
}

// SentencePiece's own message, "Internal: ./src/trainer_interface.cc(660) [check] Vocabulary size too high (60000).
// Please set it to a value <= 9868.", as what a user can act on: the vocabulary the sample supports, or at least
// the message without the source location.
std::string explain_sentencepiece_error(const std::string& raw, const TokenizerSpec& spec, size_t documents,
                                        uint64_t sample_bytes) {
  static const std::regex too_high(R"(Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+))");
  std::smatch match;
  if (std::regex_search(raw, match, too_high)) {
    return fmt::format("tokenizer: a {} vocabulary of {} pieces is more than its training sample supports ({} "
                       "document(s), {:.2f} MB: at most {} pieces); lower tokenizer.vocab_size (--vocab-size) to {} or "
                       "less, or sample more text (tokenizer.sample_mb, --sample-mb) from more documents",
                       registry::to_text(spec.kind), spec.vocab_size, documents,
                       static_cast<double>(sample_bytes) / 1e6, match[2].str(), match[2].str());
  }
  static const std::regex location(R"(^[A-Za-z ]+: \S+\(\d+\) \[[^\]]*\] ?)");
  const std::string message = std::regex_replace(raw, location, "");
  return fmt::format("tokenizer: SentencePiece could not train a {} model of {} pieces on a {}-document sample "
                     "({:.2f} MB): {}",
                     registry::to_text(spec.kind), spec.vocab_size, documents,
                     static_cast<double>(sample_bytes) / 1e6, message.empty() ? raw : message);
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
    // A first document larger than the whole budget is cut to it (one huge document must not bring all of itself).
    sample.push_back(doc.size() > max_bytes ? budget_prefix(doc, max_bytes) : doc);
    bytes += sample.back().size();
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
    uint64_t sample_bytes = 0;
    for (std::string_view doc : documents) sample_bytes += doc.size();
    throw ConfigError(explain_sentencepiece_error(e.what(), spec, documents.size(), sample_bytes));
  }
  return model;
}

}  // namespace grove::data
