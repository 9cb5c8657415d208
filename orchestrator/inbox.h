// The inbox a scheduled job watches: each new distribution is a folder `<inbox>/<item>/` holding a
// `distribution.yaml` spec (and, usually, its corpus files; relative paths in the spec resolve against the
// folder). An item is ready once `distribution.yaml` exists — producers write it last, atomically (write a
// temporary name, then rename). Items are taken in name order (prefix them with a date to fix the order).
// A processed item moves to `<inbox>/.processed/<item>`, one that failed to ingest to `<inbox>/.failed/<item>`
// with the error in `error.txt`, so nothing is taken twice and nothing is lost. A `distribution.yaml` that is not a
// regular file (a folder, a dangling symlink) makes the item a refused one, set aside the same way.
// An item folder may be a symlink to a folder inside the inbox: it is followed, and the item's own folder (the only
// one its spec and corpus may name) is the folder it resolves to. A symlink that resolves outside the inbox (or to
// the inbox itself) is refused at once, ready or not: following it would let an item name a folder it does not own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace grove::orch {

struct InboxItem {
  std::string name;
  std::filesystem::path folder;       // <inbox>/<name> (a symlink when the item is one)
  std::filesystem::path real_folder;  // the folder it resolves to (canonical): what its files must lie in
  std::filesystem::path spec_file;
  std::string refusal;  // not empty: why the item cannot be taken (it moves to .failed with this message)
};

inline constexpr const char* kInboxSpecFile = "distribution.yaml";

// Ready items (and refused ones), by name. A missing inbox folder is a ConfigError naming it.
std::vector<InboxItem> ready_inbox_items(const std::filesystem::path& inbox);

// Moves an item aside after processing (".processed") or failure (".failed", with `error` written to error.txt).
void archive_inbox_item(const std::filesystem::path& inbox, const InboxItem& item, bool succeeded,
                        const std::string& error = {});

}  // namespace grove::orch
