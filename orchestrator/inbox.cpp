#include "orchestrator/inbox.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/utc_time.h"

namespace grove::orch {
namespace fs = std::filesystem;

std::vector<InboxItem> ready_inbox_items(const fs::path& inbox) {
  if (!fs::is_directory(inbox)) {
    throw ConfigError(fmt::format("--inbox {}: not a folder (create it, then drop distribution folders into it)",
                                  inbox.string()));
  }
  std::vector<InboxItem> items;
  for (const auto& entry : fs::directory_iterator(inbox)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name.front() == '.') continue;
    const fs::path spec = entry.path() / kInboxSpecFile;
    if (!fs::is_regular_file(spec)) continue;  // not ready yet
    items.push_back({name, entry.path(), spec});
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return items;
}

void archive_inbox_item(const fs::path& inbox, const InboxItem& item, bool succeeded, const std::string& error) {
  const fs::path archive = inbox / (succeeded ? ".processed" : ".failed");
  fs::create_directories(archive);
  fs::path target = archive / item.name;
  if (fs::exists(target)) {
    target = archive / fmt::format("{}.{}", item.name, utc_now_iso8601());
  }
  fs::rename(item.folder, target);
  if (!succeeded) atomic_write_file(target / "error.txt", error + "\n");
  fsync_path(archive);
}

}  // namespace grove::orch
