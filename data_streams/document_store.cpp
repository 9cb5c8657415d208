#include "data_streams/document_store.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/errors.h"
#include "data_streams/little_endian.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'G', 'R', 'V', 'D', 'O', 'C', 'S', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 64;
constexpr size_t kEntrySize = 16;

DataError write_error(const fs::path& path) {
  return DataError(fmt::format("{}: write failed: {}", path.string(), std::strerror(errno)), ExitCode::kRuntime);
}

}  // namespace

DocumentStoreWriter::DocumentStoreWriter(const fs::path& folder) : folder_(folder) {
  fs::create_directories(folder_);
  const fs::path path = folder_ / kDocumentTextFile;
  text_ = std::fopen(path.c_str(), "wb");
  if (text_ == nullptr) throw write_error(path);
}

DocumentStoreWriter::~DocumentStoreWriter() {
  if (text_ != nullptr) std::fclose(text_);
}

void DocumentStoreWriter::add(std::string_view document, bool holdout) {
  if (document.size() > UINT32_MAX) {
    throw DataError(fmt::format("{}: a document of {} bytes is larger than the 4 GiB the index allows",
                                folder_.string(), document.size()));
  }
  if (std::fwrite(document.data(), 1, document.size(), text_) != document.size()) {
    throw write_error(folder_ / kDocumentTextFile);
  }
  text_hash_.update(document);
  append_le<uint64_t>(entries_, text_bytes_);
  append_le<uint32_t>(entries_, static_cast<uint32_t>(document.size()));
  append_le<uint32_t>(entries_, holdout ? 1u : 0u);
  text_bytes_ += document.size();
  holdout_docs_ += holdout ? 1 : 0;
}

void DocumentStoreWriter::finish(uint64_t fingerprint) {
  const int rc = std::fclose(text_);
  text_ = nullptr;
  if (rc != 0) throw write_error(folder_ / kDocumentTextFile);
  std::string header(kMagic, sizeof(kMagic));
  append_le<uint32_t>(header, kVersion);
  append_le<uint32_t>(header, static_cast<uint32_t>(kEntrySize));
  append_le<uint64_t>(header, docs());
  append_le<uint64_t>(header, text_bytes_);
  append_le<uint64_t>(header, text_hash_.digest());
  append_le<uint64_t>(header, xxh3_64(entries_));
  append_le<uint64_t>(header, holdout_docs_);
  append_le<uint64_t>(header, fingerprint);
  const fs::path path = folder_ / kDocumentIndexFile;
  std::FILE* index = std::fopen(path.c_str(), "wb");
  if (index == nullptr) throw write_error(path);
  const bool ok = std::fwrite(header.data(), 1, header.size(), index) == header.size() &&
                  std::fwrite(entries_.data(), 1, entries_.size(), index) == entries_.size();
  if (std::fclose(index) != 0 || !ok) throw write_error(path);
}

DocumentStore DocumentStore::open(const fs::path& folder, bool verify) {
  DocumentStore store;
  store.folder_ = folder;
  store.index_ = MappedFile::open(folder / kDocumentIndexFile);
  store.text_ = MappedFile::open(folder / kDocumentTextFile);
  const std::string index_name = (folder / kDocumentIndexFile).string();
  const char* header = store.index_.data();
  if (store.index_.size() < kHeaderSize || std::memcmp(header, kMagic, sizeof(kMagic)) != 0) {
    throw DataError(fmt::format("{}: not a Grove document index (bad magic or too short)", index_name));
  }
  const auto version = read_le<uint32_t>(header + 8);
  if (version != kVersion) {
    throw DataError(fmt::format("{}: document index version {} is not supported (this Grove reads version {})",
                                index_name, version, kVersion));
  }
  store.n_docs_ = read_le<uint64_t>(header + 16);
  const auto text_bytes = read_le<uint64_t>(header + 24);
  const auto text_hash = read_le<uint64_t>(header + 32);
  const auto entries_hash = read_le<uint64_t>(header + 40);
  store.n_holdout_ = read_le<uint64_t>(header + 48);
  store.fingerprint_ = read_le<uint64_t>(header + 56);
  if (read_le<uint32_t>(header + 12) != kEntrySize || store.index_.size() != kHeaderSize + store.n_docs_ * kEntrySize) {
    throw DataError(fmt::format("{}: size {} does not match its {} documents", index_name, store.index_.size(),
                                store.n_docs_));
  }
  if (store.text_.size() != text_bytes) {
    throw DataError(fmt::format("{}: {} bytes, the index expects {}", (folder / kDocumentTextFile).string(),
                                store.text_.size(), text_bytes));
  }
  if (verify) {
    if (xxh3_64(store.index_.data() + kHeaderSize, store.index_.size() - kHeaderSize) != entries_hash) {
      throw DataError(fmt::format("{}: checksum mismatch in the document entries (the file was altered)", index_name));
    }
    if (xxh3_64(store.text_.data(), store.text_.size()) != text_hash) {
      throw DataError(fmt::format("{}: checksum mismatch (the file was altered)", (folder / kDocumentTextFile).string()));
    }
  }
  return store;
}

std::string_view DocumentStore::document(uint64_t i) const {
  const char* entry = index_.data() + kHeaderSize + i * kEntrySize;
  const auto offset = read_le<uint64_t>(entry);
  const auto length = read_le<uint32_t>(entry + 8);
  if (offset + length > text_.size()) {
    throw DataError(fmt::format("{}: document {} runs past the end of the text", folder_.string(), i));
  }
  return {text_.data() + offset, length};
}

bool DocumentStore::is_holdout(uint64_t i) const {
  return read_le<uint32_t>(index_.data() + kHeaderSize + i * kEntrySize + 12) != 0;
}

}  // namespace grove::data
