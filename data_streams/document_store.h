// The cleaned documents of one ingested distribution version, kept so it can be tokenized later by any tokenizer:
// `documents.txt` (the documents back to back) and `documents.idx` (a versioned header with checksums, then per
// document: byte offset, byte length, split). Written once into a fresh folder, read through a memory map.
// Layout in docs/FORMATS.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/hashing.h"
#include "data_streams/mapped_file.h"

namespace grove::data {

inline constexpr char kDocumentTextFile[] = "documents.txt";
inline constexpr char kDocumentIndexFile[] = "documents.idx";

// Streams documents into `folder` (created if missing; meant to be a temporary folder published afterwards).
class DocumentStoreWriter {
 public:
  explicit DocumentStoreWriter(const std::filesystem::path& folder);
  ~DocumentStoreWriter();
  DocumentStoreWriter(const DocumentStoreWriter&) = delete;
  DocumentStoreWriter& operator=(const DocumentStoreWriter&) = delete;

  void add(std::string_view document, bool holdout);
  // Writes the index with `fingerprint` and closes both files. Throws DataError(kRuntime) on an I/O failure.
  void finish(uint64_t fingerprint);

  uint64_t docs() const { return entries_.size() / kEntrySize; }
  uint64_t holdout_docs() const { return holdout_docs_; }

 private:
  static constexpr size_t kEntrySize = 16;
  std::filesystem::path folder_;
  std::FILE* text_ = nullptr;
  std::string entries_;
  uint64_t text_bytes_ = 0;
  uint64_t holdout_docs_ = 0;
  Xxh3Stream text_hash_;
};

class DocumentStore {
 public:
  // Opens and validates a store (magic, version, sizes); `verify` also checks both checksums (a mismatch is a
  // DataError naming the file).
  static DocumentStore open(const std::filesystem::path& folder, bool verify = true);

  uint64_t size() const { return n_docs_; }
  uint64_t holdout_docs() const { return n_holdout_; }
  uint64_t text_bytes() const { return text_.size(); }
  uint64_t fingerprint() const { return fingerprint_; }
  std::string_view document(uint64_t i) const;
  bool is_holdout(uint64_t i) const;
  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path folder_;
  MappedFile text_;
  MappedFile index_;
  uint64_t n_docs_ = 0;
  uint64_t n_holdout_ = 0;
  uint64_t fingerprint_ = 0;
};

}  // namespace grove::data
