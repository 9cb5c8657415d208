// A trained SentencePiece model behind a small interface (its headers stay out of Grove's): a document encodes as
// [BOS] + pieces (no EOS: the next document's BOS marks the boundary) and decode(encode(doc)) == doc byte for byte
// (identity normalisation, whitespace kept, byte fallback for anything outside the vocabulary). Encoding a batch of
// documents runs on all cores; the output order is the input order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grove::data {

using TokenId = uint32_t;

class Tokenizer {
 public:
  // From a serialized model (the bytes of a .model file); `name` is used in error messages.
  static Tokenizer from_model_bytes(std::string model_bytes, const std::string& name);
  // From a .model file. Throws DataError naming the file when it is missing or not a SentencePiece model.
  static Tokenizer load(const std::filesystem::path& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // [BOS] + the document's pieces.
  std::vector<TokenId> encode(std::string_view document) const;
  // Encodes each document (in parallel on `threads` threads, 0: all cores); result[i] belongs to documents[i].
  std::vector<std::vector<TokenId>> encode_all(const std::vector<std::string_view>& documents,
                                               unsigned threads = 0) const;
  // The text of `ids`; control ids (BOS, EOS, PAD) are skipped.
  std::string decode(std::span<const TokenId> ids) const;

  uint32_t vocab_size() const;
  TokenId bos_id() const;
  TokenId eos_id() const;
  TokenId pad_id() const;
  TokenId unk_id() const;
  const std::string& model_bytes() const;
  // xxh3 of the model bytes as 16 hex digits: the tokenizer's identity in the registry and on disk.
  std::string hash() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace grove::data
