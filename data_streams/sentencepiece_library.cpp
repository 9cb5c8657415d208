#include "data_streams/sentencepiece_library.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "common/errors.h"
#include "common/stoppable_work.h"
#include "data_streams/sentencepiece_shim.h"

namespace grove::data {
namespace {

constexpr size_t kErrorSize = 1024;

// The module's functions, resolved once per process.
struct Module {
  std::string path;
  decltype(&grove_spm_load) load = nullptr;
  decltype(&grove_spm_free) free = nullptr;
  decltype(&grove_spm_free_buffer) free_buffer = nullptr;
  decltype(&grove_spm_encode) encode = nullptr;
  decltype(&grove_spm_decode) decode = nullptr;
  decltype(&grove_spm_piece_size) piece_size = nullptr;
  decltype(&grove_spm_special_id) special_id = nullptr;
  decltype(&grove_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&grove_spm_is_byte) is_byte = nullptr;
  decltype(&grove_spm_train) train = nullptr;
};

std::vector<std::string> candidate_paths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("GROVE_SENTENCEPIECE_MODULE"); env != nullptr && *env != '\0') {
    paths.emplace_back(env);
    return paths;
  }
  std::error_code ignored;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ignored);
  if (!exe.empty()) paths.push_back((exe.parent_path() / GROVE_SENTENCEPIECE_MODULE_NAME).string());
  paths.emplace_back(GROVE_SENTENCEPIECE_MODULE_BUILD_PATH);
  return paths;
}

template <typename F>
void resolve(void* handle, const std::string& path, const char* symbol, F& out) {
  out = reinterpret_cast<F>(dlsym(handle, symbol));
  if (out == nullptr) {
    throw DataError(fmt::format("{}: the SentencePiece module lacks '{}' (rebuild Grove)", path, symbol),
                    ExitCode::kRuntime);
  }
}

const Module& module() {
  static std::once_flag once;
  static Module loaded;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& path : candidate_paths()) {
      if (!std::filesystem::exists(path)) {
        tried += (tried.empty() ? "" : ", ") + path + " (missing)";
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (handle == nullptr) {
        tried += (tried.empty() ? "" : ", ") + path + " (" + dlerror() + ")";
        continue;
      }
      try {
        loaded.path = path;
        resolve(handle, path, "grove_spm_load", loaded.load);
        resolve(handle, path, "grove_spm_free", loaded.free);
        resolve(handle, path, "grove_spm_free_buffer", loaded.free_buffer);
        resolve(handle, path, "grove_spm_encode", loaded.encode);
        resolve(handle, path, "grove_spm_decode", loaded.decode);
        resolve(handle, path, "grove_spm_piece_size", loaded.piece_size);
        resolve(handle, path, "grove_spm_special_id", loaded.special_id);
        resolve(handle, path, "grove_spm_piece_to_id", loaded.piece_to_id);
        resolve(handle, path, "grove_spm_is_byte", loaded.is_byte);
        resolve(handle, path, "grove_spm_train", loaded.train);
        return;  // the handle stays open for the life of the process
      } catch (const std::exception& e) {
        failure = e.what();
        return;
      }
    }
    failure = fmt::format("cannot load the SentencePiece module (tried {}); set GROVE_SENTENCEPIECE_MODULE to "
                          "its path",
                          tried);
  });
  if (!failure.empty()) throw DataError(failure, ExitCode::kRuntime);
  return loaded;
}

}  // namespace

SentencePieceModel::SentencePieceModel(std::string_view model_bytes, const std::string& name) : name_(name) {
  char error[kErrorSize] = {};
  handle_ = module().load(model_bytes.data(), model_bytes.size(), error, sizeof(error));
  if (handle_ == nullptr) throw DataError(fmt::format("{}: not a SentencePiece model: {}", name, error));
}

SentencePieceModel::~SentencePieceModel() {
  if (handle_ != nullptr) module().free(handle_);
}

void SentencePieceModel::encode(std::string_view text, std::vector<int>& ids) const {
  char error[kErrorSize] = {};
  int* buffer = nullptr;
  size_t count = 0;
  if (module().encode(handle_, text.data(), text.size(), &buffer, &count, error, sizeof(error)) != 0) {
    throw DataError(fmt::format("tokenizer {}: encode failed: {}", name_, error));
  }
  ids.insert(ids.end(), buffer, buffer + count);
  module().free_buffer(buffer);
}

std::string SentencePieceModel::decode(const std::vector<int>& ids) const {
  char error[kErrorSize] = {};
  char* buffer = nullptr;
  size_t size = 0;
  if (module().decode(handle_, ids.data(), ids.size(), &buffer, &size, error, sizeof(error)) != 0) {
    throw DataError(fmt::format("tokenizer {}: decode failed: {}", name_, error));
  }
  std::string text(buffer, size);
  module().free_buffer(buffer);
  return text;
}

int SentencePieceModel::piece_size() const { return module().piece_size(handle_); }
int SentencePieceModel::unk_id() const { return module().special_id(handle_, 0); }
int SentencePieceModel::bos_id() const { return module().special_id(handle_, 1); }
int SentencePieceModel::eos_id() const { return module().special_id(handle_, 2); }
int SentencePieceModel::pad_id() const { return module().special_id(handle_, 3); }
int SentencePieceModel::piece_to_id(std::string_view piece) const {
  return module().piece_to_id(handle_, piece.data(), piece.size());
}
bool SentencePieceModel::is_byte(int id) const { return module().is_byte(handle_, id) != 0; }

std::string train_sentencepiece_model(const std::vector<std::pair<std::string, std::string>>& options,
                                      std::vector<std::string> lines) {
  const Module& spm = module();  // loaded (or refused) here, not on the worker
  // Everything the trainer reads, owned by the job: a stop abandons the trainer still running (stoppable_work.h).
  struct TrainJob {
    std::vector<std::pair<std::string, std::string>> options;
    std::vector<std::string> lines;
    char error[kErrorSize] = {};
    char* model = nullptr;
    size_t size = 0;
    int status = 0;
  };
  auto job = std::make_shared<TrainJob>();
  job->options = options;
  job->lines = std::move(lines);
  run_stoppable(
      [job, &spm] {
        std::vector<const char*> keys, values, line_data;
        std::vector<size_t> line_sizes;
        for (const auto& [key, value] : job->options) {
          keys.push_back(key.c_str());
          values.push_back(value.c_str());
        }
        for (const auto& line : job->lines) {
          line_data.push_back(line.data());
          line_sizes.push_back(line.size());
        }
        job->status = spm.train(keys.data(), values.data(), keys.size(), line_data.data(), line_sizes.data(),
                                job->lines.size(), &job->model, &job->size, job->error, sizeof(job->error));
      },
      "SentencePiece training");
  if (job->status != 0) throw ConfigError(job->error);
  std::string serialized(job->model, job->size);
  spm.free_buffer(job->model);
  return serialized;
}

std::string sentencepiece_module_path() { return module().path; }

}  // namespace grove::data
