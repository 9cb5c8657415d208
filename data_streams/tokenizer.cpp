#include "data_streams/tokenizer.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "common/hashing.h"
#include "data_streams/model_proto_check.h"
#include "data_streams/parallel_for.h"
#include "data_streams/sentencepiece_library.h"

namespace grove::data {
namespace {

// SentencePiece shows spaces as U+2581 and turns that character back into a space when decoding, so a document
// holding a literal U+2581 would not round-trip. Those characters are encoded as their three byte-fallback pieces.
constexpr std::string_view kMetaSpace = "\xE2\x96\x81";

}  // namespace

struct Tokenizer::Impl {
  Impl(std::string bytes, const std::string& model_name)
      : model_bytes(std::move(bytes)), processor(model_bytes, model_name), name(model_name) {}
  std::string model_bytes;
  SentencePieceModel processor;
  std::string name;
  std::string hash;
  TokenId meta_space_bytes[3] = {0, 0, 0};

  void encode_text(std::string_view text, std::vector<TokenId>& out) const {
    std::vector<int> ids;
    processor.encode(text, ids);
    for (int id : ids) out.push_back(static_cast<TokenId>(id));
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_model_bytes(std::string model_bytes, const std::string& name) {
  if (const auto problem = model_proto_problem(model_bytes)) {
    throw DataError(fmt::format("{}: not a SentencePiece model: {}", name, *problem));
  }
  auto impl = std::make_unique<Impl>(std::move(model_bytes), name);
  if (impl->processor.bos_id() < 0 || impl->processor.pad_id() < 0 || impl->processor.eos_id() < 0) {
    throw DataError(fmt::format("{}: the model lacks BOS, EOS or PAD ids (train it with `grove tokenizer train`)", name));
  }
  for (int i = 0; i < 3; ++i) {
    const int id = impl->processor.piece_to_id(
        fmt::format("<0x{:02X}>", static_cast<unsigned>(static_cast<unsigned char>(kMetaSpace[static_cast<size_t>(i)]))));
    if (id < 0 || !impl->processor.is_byte(id)) {
      throw DataError(fmt::format("{}: the model has no byte-fallback pieces (train it with byte_fallback)", name));
    }
    impl->meta_space_bytes[i] = static_cast<TokenId>(id);
  }
  impl->hash = hash_hex(xxh3_64(impl->model_bytes));
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open the tokenizer model", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return from_model_bytes(buffer.str(), path.string());
}

std::vector<TokenId> Tokenizer::encode(std::string_view document) const {
  std::vector<TokenId> out;
  out.reserve(document.size() / 3 + 2);
  out.push_back(bos_id());
  size_t start = 0;
  while (true) {
    const size_t found = document.find(kMetaSpace, start);
    const size_t end = found == std::string_view::npos ? document.size() : found;
    if (end > start) impl_->encode_text(document.substr(start, end - start), out);
    if (found == std::string_view::npos) break;
    out.insert(out.end(), std::begin(impl_->meta_space_bytes), std::end(impl_->meta_space_bytes));
    start = found + kMetaSpace.size();
  }
  return out;
}

std::vector<std::vector<TokenId>> Tokenizer::encode_all(const std::vector<std::string_view>& documents,
                                                        unsigned threads) const {
  std::vector<std::vector<TokenId>> out(documents.size());
  parallel_for(documents.size(), threads, [&](size_t i) { out[i] = encode(documents[i]); });
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (TokenId id : ids) {
    if (id == bos_id() || id == eos_id() || id == pad_id()) continue;
    pieces.push_back(static_cast<int>(id));
  }
  return impl_->processor.decode(pieces);
}

uint32_t Tokenizer::vocab_size() const { return static_cast<uint32_t>(impl_->processor.piece_size()); }
TokenId Tokenizer::bos_id() const { return static_cast<TokenId>(impl_->processor.bos_id()); }
TokenId Tokenizer::eos_id() const { return static_cast<TokenId>(impl_->processor.eos_id()); }
TokenId Tokenizer::pad_id() const { return static_cast<TokenId>(impl_->processor.pad_id()); }
TokenId Tokenizer::unk_id() const { return static_cast<TokenId>(impl_->processor.unk_id()); }
const std::string& Tokenizer::model_bytes() const { return impl_->model_bytes; }
std::string Tokenizer::hash() const { return impl_->hash; }

}  // namespace grove::data
