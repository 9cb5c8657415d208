// Files made from a corpus are never more readable than the registry beside them: documents, token shards, the
// tokenizer model, checkpoints and their blobs, distribution sketches and rehearsal pools all hold text of the corpora
// or what a model learnt from it. A command that writes them narrows its umask to the registry folder's permissions
// once, before it writes anything, so every file and folder it creates from then on (temporaries included, so no
// file ever has wider bits for a moment) lacks the group and other bits that folder lacks.
#pragma once

#include <filesystem>

namespace grove {

// Adds to the process's umask every group and other bit `folder` lacks (bits the umask already clears stay
// cleared). Returns false, changing nothing, when the folder's permissions cannot be read.
bool narrow_umask_to_folder(const std::filesystem::path& folder);

}  // namespace grove
