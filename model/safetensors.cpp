#include "model/safetensors.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/errors.h"

namespace grove::model {
namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little, "safetensors stores little-endian bytes; Grove reads them raw");

namespace {

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kF64, "F64", 8}, {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2},
    {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4}, {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1},
    {DType::kU8, "U8", 1},   {DType::kBool, "BOOL", 1},
};

const DTypeEntry& entry_for(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw std::logic_error("safetensors: unhandled dtype");
}

CheckpointError bad_file(const fs::path& path, const std::string& what) {
  return CheckpointError(fmt::format("{}: not a valid safetensors file: {}", path.string(), what));
}

CheckpointError io_failure(const fs::path& path, const char* what) {
  return CheckpointError(fmt::format("{}: {} failed: {}", path.string(), what, std::strerror(errno)), ExitCode::kRuntime);
}

// pread until `size` bytes arrived; false when the file ends first.
bool read_exact(int fd, void* destination, size_t size, uint64_t offset) {
  auto* out = static_cast<char*>(destination);
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

uint64_t non_negative_integer(const nlohmann::json& value, const fs::path& path, const std::string& what) {
  // nlohmann stores every non-negative integer literal as unsigned, so a signed integer here is negative.
  if (!value.is_number_unsigned()) {
    throw bad_file(path, fmt::format("{}: expected a non-negative integer, got {}", what, value.dump()));
  }
  return value.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const nlohmann::json& entry, const fs::path& path) {
  const std::string where = fmt::format("tensor '{}'", name);
  if (!entry.is_object()) throw bad_file(path, where + ": expected an object with dtype, shape and data_offsets");
  for (const auto& [key, value] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      throw bad_file(path, fmt::format("{}: unexpected key '{}'", where, key));
    }
  }
  if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw bad_file(path, where + ": missing dtype");
  if (!entry.contains("shape") || !entry["shape"].is_array()) throw bad_file(path, where + ": missing shape list");
  if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
    throw bad_file(path, where + ": data_offsets must be a list [begin, end]");
  }
  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(entry["dtype"].get<std::string>(), fmt::format("{}: {}", path.string(), where));
  uint64_t elements = 1;
  for (const auto& dim : entry["shape"]) {
    const uint64_t extent = non_negative_integer(dim, path, where + " shape");
    if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (extent != 0 && elements > std::numeric_limits<uint64_t>::max() / extent)) {
      throw bad_file(path, where + ": shape overflows");
    }
    elements *= extent;
    info.shape.push_back(static_cast<int64_t>(extent));
  }
  info.begin = non_negative_integer(entry["data_offsets"][0], path, where + " data_offsets");
  info.end = non_negative_integer(entry["data_offsets"][1], path, where + " data_offsets");
  if (info.end < info.begin) throw bad_file(path, where + ": data_offsets end before begin");
  const size_t element_size = dtype_size(info.dtype);
  if (elements > std::numeric_limits<uint64_t>::max() / element_size || elements * element_size != info.byte_size()) {
    throw bad_file(path, fmt::format("{}: shape x {} size is {} bytes but data_offsets span {} bytes", where,
                                     dtype_name(info.dtype), elements * element_size, info.byte_size()));
  }
  return info;
}

}  // namespace

std::string_view dtype_name(DType dtype) { return entry_for(dtype).name; }
size_t dtype_size(DType dtype) { return entry_for(dtype).size; }

DType parse_dtype(std::string_view name, const std::string& context) {
  for (const auto& entry : kDTypes) {
    if (entry.name == name) return entry.dtype;
  }
  throw CheckpointError(fmt::format("{}: unknown dtype '{}' (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)",
                                    context, name));
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (const int64_t extent : shape) n *= extent;
  return n;
}

SafetensorsReader::SafetensorsReader(fs::path path, SafetensorsLimits limits) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw CheckpointError(fmt::format("{}: cannot open: {}", path_.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const auto error = io_failure(path_, "stat");
    ::close(fd_);
    throw error;
  }
  try {
    const auto file_size = static_cast<uint64_t>(st.st_size);
    if (file_size > limits.max_file_bytes) {
      throw bad_file(path_, fmt::format("{} bytes exceeds the limit of {} bytes", file_size, limits.max_file_bytes));
    }
    uint64_t header_size = 0;
    if (file_size < 8 || !read_exact(fd_, &header_size, 8, 0)) {
      throw bad_file(path_, fmt::format("{} bytes is too short for the 8-byte header length (truncated?)", file_size));
    }
    if (header_size > limits.max_header_bytes) {
      throw bad_file(path_, fmt::format("header length {} exceeds the limit of {} bytes", header_size,
                                        limits.max_header_bytes));
    }
    if (header_size > file_size - 8) {
      throw bad_file(path_, fmt::format("header length {} runs past the end of the {}-byte file (truncated?)",
                                        header_size, file_size));
    }
    std::string header(header_size, '\0');
    if (!read_exact(fd_, header.data(), header.size(), 8)) throw bad_file(path_, "header could not be read");
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
      throw bad_file(path_, fmt::format("header is not valid JSON ({})", e.what()));
    }
    if (!json.is_object()) throw bad_file(path_, "header is not a JSON object");
    data_start_ = 8 + header_size;
    for (const auto& [name, entry] : json.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) throw bad_file(path_, "__metadata__ must map strings to strings");
        for (const auto& [key, value] : entry.items()) {
          if (!value.is_string()) throw bad_file(path_, fmt::format("__metadata__ '{}' is not a string", key));
          metadata_[key] = value.get<std::string>();
        }
        continue;
      }
      tensors_.push_back(parse_entry(name, entry, path_));
    }
    std::stable_sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t covered = 0;
    const TensorInfo* previous = nullptr;
    for (const TensorInfo& info : tensors_) {
      if (info.begin < covered) {
        throw bad_file(path_, fmt::format("tensor '{}' bytes [{}, {}) overlap tensor '{}'", info.name, info.begin,
                                          info.end, previous ? previous->name : std::string("?")));
      }
      if (info.begin > covered) {
        throw bad_file(path_, fmt::format("{} unreferenced bytes before tensor '{}'", info.begin - covered, info.name));
      }
      covered = info.end;
      previous = &info;
    }
    const uint64_t data_size = file_size - data_start_;
    if (covered > data_size) {
      throw bad_file(path_, fmt::format("tensor '{}' ends at data byte {} but the file holds only {} (truncated?)",
                                        previous->name, covered, data_size));
    }
    if (covered < data_size) {
      throw bad_file(path_, fmt::format("{} trailing bytes after the last tensor", data_size - covered));
    }
    for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

SafetensorsReader::~SafetensorsReader() {
  if (fd_ >= 0) ::close(fd_);
}

SafetensorsReader::SafetensorsReader(SafetensorsReader&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      data_start_(other.data_start_),
      tensors_(std::move(other.tensors_)),
      index_(std::move(other.index_)),
      metadata_(std::move(other.metadata_)) {}

SafetensorsReader& SafetensorsReader::operator=(SafetensorsReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    data_start_ = other.data_start_;
    tensors_ = std::move(other.tensors_);
    index_ = std::move(other.index_);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

const TensorInfo& SafetensorsReader::info(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) {
    throw CheckpointError(fmt::format("{}: tensor '{}' is missing", path_.string(), name));
  }
  return tensors_[it->second];
}

void SafetensorsReader::read(const std::string& name, void* destination, size_t size) const {
  const TensorInfo& tensor = info(name);
  if (size != tensor.byte_size()) {
    throw std::logic_error(fmt::format("safetensors read of '{}': buffer holds {} bytes, tensor {}", name, size,
                                       tensor.byte_size()));
  }
  if (!read_exact(fd_, destination, size, data_start_ + tensor.begin)) {
    throw CheckpointError(fmt::format("{}: tensor '{}' could not be read (file changed while open?)", path_.string(),
                                      name));
  }
}

SafetensorsWriter::SafetensorsWriter(fs::path path, std::vector<TensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata)
    : path_(std::move(path)), specs_(std::move(specs)) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorSpec& spec : specs_) {
    if (spec.name == "__metadata__" || header.contains(spec.name)) {
      throw std::logic_error(fmt::format("safetensors writer: duplicate or reserved tensor name '{}'", spec.name));
    }
    uint64_t bytes = dtype_size(spec.dtype);
    for (const int64_t extent : spec.shape) bytes *= static_cast<uint64_t>(extent);
    header[spec.name] = {{"dtype", dtype_name(spec.dtype)}, {"shape", spec.shape}, {"data_offsets", {offset, offset + bytes}}};
    sizes_.push_back(bytes);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_failure(path_, "create");
  const uint64_t header_size = text.size();
  write_all(&header_size, sizeof header_size);
  write_all(text.data(), text.size());
}

SafetensorsWriter::~SafetensorsWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void SafetensorsWriter::write_all(const void* data, size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_failure(path_, "write");
    bytes += n;
    size -= static_cast<size_t>(n);
  }
}

void SafetensorsWriter::write(const void* data, size_t size) {
  if (next_ >= specs_.size()) throw std::logic_error("safetensors writer: more tensors written than declared");
  if (size != sizes_[next_]) {
    throw std::logic_error(fmt::format("safetensors writer: tensor '{}' declared {} bytes, got {}", specs_[next_].name,
                                       sizes_[next_], size));
  }
  write_all(data, size);
  ++next_;
}

void SafetensorsWriter::finish() {
  if (next_ != specs_.size()) {
    throw std::logic_error(fmt::format("safetensors writer: {} of {} tensors written", next_, specs_.size()));
  }
  if (::fsync(fd_) != 0) throw io_failure(path_, "fsync");
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) throw io_failure(path_, "close");
}

}  // namespace grove::model
