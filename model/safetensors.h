// A reader and writer for the safetensors format (8-byte little-endian header length, a JSON header, then the raw
// little-endian tensor bytes), written for Grove without LibTorch so the format checks stay cheap to build and test.
// The reader validates the header fully before any tensor is read: known dtypes, shapes x dtype size equal to the
// byte span, offsets in range, no overlapping spans and no holes, header and file size limits, exact file length.
// Every failure is a CheckpointError naming the file (and the tensor where there is one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace grove::model {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view dtype_name(DType dtype);  // "F32", "BF16", ...
size_t dtype_size(DType dtype);
// Throws CheckpointError("<context>: unknown dtype '...'") for names outside the list above.
DType parse_dtype(std::string_view name, const std::string& context);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;

  uint64_t byte_size() const { return end - begin; }
  int64_t numel() const;
};

struct SafetensorsLimits {
  uint64_t max_header_bytes = 100ull << 20;  // the reference implementation's limit
  uint64_t max_file_bytes = 4ull << 40;      // 4 TiB: far above any Grove model, low enough to catch garbage lengths
};

// Reads tensors on demand with pread into caller-owned memory; the header is parsed and validated on open.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(std::filesystem::path path, SafetensorsLimits limits = {});
  ~SafetensorsReader();
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;
  SafetensorsReader(SafetensorsReader&& other) noexcept;
  SafetensorsReader& operator=(SafetensorsReader&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }
  // Tensors in file order (ascending offsets).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return index_.contains(name); }
  // Throws CheckpointError naming the file and the tensor when it is absent.
  const TensorInfo& info(const std::string& name) const;
  // The "__metadata__" string map (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Copies the tensor's bytes into `destination`, which must hold exactly info(name).byte_size() bytes.
  void read(const std::string& name, void* destination, size_t size) const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// What the writer needs to know about a tensor before any byte is written (the header comes first).
struct TensorSpec {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
};

// Streams a safetensors file: the header from the specs, then each tensor's bytes in spec order through write().
// finish() checks that every tensor was written and fsyncs; a writer destroyed before finish() removes its file.
class SafetensorsWriter {
 public:
  SafetensorsWriter(std::filesystem::path path, std::vector<TensorSpec> specs,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // The next tensor's bytes, in spec order; `size` must equal its shape x dtype size.
  void write(const void* data, size_t size);
  void finish();
  const std::vector<TensorSpec>& specs() const { return specs_; }

 private:
  void write_all(const void* data, size_t size);

  std::filesystem::path path_;
  std::vector<TensorSpec> specs_;
  std::vector<uint64_t> sizes_;
  size_t next_ = 0;
  int fd_ = -1;
};

}  // namespace grove::model
