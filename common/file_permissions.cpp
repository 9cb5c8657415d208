#include "common/file_permissions.h"

#include <sys/stat.h>

namespace grove {

bool narrow_umask_to_folder(const std::filesystem::path& folder) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) return false;
  const mode_t lacking = (S_IRWXG | S_IRWXO) & ~st.st_mode;  // the owner's bits are the umask's business
  const mode_t previous = ::umask(0);
  ::umask(previous | lacking);
  return true;
}

}  // namespace grove
