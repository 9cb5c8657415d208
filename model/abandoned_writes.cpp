#include "model/abandoned_writes.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace grove::model {
namespace fs = std::filesystem;

std::optional<pid_t> temporary_writer_pid(std::string_view file_name) {
  constexpr std::string_view kMarker = ".tmp-";
  const size_t marker = file_name.rfind(kMarker);
  if (marker == std::string_view::npos) return std::nullopt;
  const std::string_view rest = file_name.substr(marker + kMarker.size());  // <pid>-<8 hex>
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos || dash == 0 || rest.size() - dash - 1 != 8) return std::nullopt;
  for (const char c : rest.substr(dash + 1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + dash, pid);
  if (error != std::errc() || end != rest.data() + dash || pid <= 0) return std::nullopt;
  return pid;
}

bool writer_alive(pid_t pid) {
  if (pid == ::getpid()) return true;
  return ::kill(pid, 0) == 0 || errno == EPERM;  // EPERM: it exists, owned by someone else
}

std::vector<fs::path> remove_abandoned_temporaries(const fs::path& folder) {
  std::vector<fs::path> abandoned;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const auto pid = temporary_writer_pid(entry.path().filename().string());
    if (pid && !writer_alive(*pid)) abandoned.push_back(entry.path());
  }
  std::vector<fs::path> removed;
  for (const auto& path : abandoned) {
    std::error_code failed;
    fs::remove_all(path, failed);
    if (!failed) removed.push_back(path);
  }
  return removed;
}

}  // namespace grove::model
