#include "orchestrator/inbox.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/utc_time.h"
#include "data_streams/corpus_files.h"

namespace grove::orch {
namespace fs = std::filesystem;

std::vector<InboxItem> ready_inbox_items(const fs::path& inbox) {
  if (!fs::is_directory(inbox)) {
    throw ConfigError(fmt::format("--inbox {}: not a folder (create it, then drop distribution folders into it)",
                                  inbox.string()));
  }
  const fs::path inbox_real = fs::canonical(inbox);
  std::vector<InboxItem> items;
  for (const auto& entry : fs::directory_iterator(inbox)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name.front() == '.') continue;
    std::error_code error;
    const fs::path real = fs::canonical(entry.path(), error);
    if (error) continue;  // gone since it was listed
    const fs::path spec = entry.path() / kInboxSpecFile;
    InboxItem item{name, entry.path(), real, spec, {}};
    if (real == inbox_real || !data::is_within(real, inbox_real)) {  // only a symlink gets here
      item.refusal = fmt::format("{}: a symlink to {}, outside the inbox {}; an inbox item must be a folder in the "
                                 "inbox, or a symlink to one inside it",
                                 entry.path().string(), real.string(), inbox_real.string());
      items.push_back(std::move(item));
      continue;
    }
    if (!fs::exists(fs::symlink_status(spec, error))) continue;  // not ready yet
    const auto status = fs::status(spec, error);
    if (!fs::is_regular_file(status)) {
      item.refusal = fmt::format("{}: {}; expected a regular file holding the distribution spec", spec.string(),
                                 fs::is_directory(status) ? "is a folder"
                                 : fs::exists(status)     ? "is not a regular file"
                                                          : "is a symlink to nothing");
    }
    items.push_back(std::move(item));
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
  if (!succeeded) {
    // An item folder that is a symlink (refused when it leads out of the inbox) gets its error.txt beside it, not
    // written through it into the folder it names.
    const bool link = fs::is_symlink(fs::symlink_status(target));
    atomic_write_file(link ? fs::path(target.string() + ".error.txt") : target / "error.txt", error + "\n");
  }
  fsync_path(archive);
}

}  // namespace grove::orch
