// The process binds libstdc++'s own functions to libstdc++. The torch wheel's libtorch_cpu.so and libtorch.so export
// private copies of std::filesystem; when they won the symbol lookup, paths built by one copy were freed by the other
// and every test that made a temporary folder crashed on the GPU machine (cmake/GroveDependencies.cmake).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace grove {
namespace {

// The object the dynamic linker's global lookup finds `symbol` in: what a reference from this executable binds to
// (dlsym(RTLD_DEFAULT) searches the same scope, in the same order). Taking a function's address would not do: in
// a non-PIE executable it yields the executable's own PLT stub.
std::string object_defining(const char* symbol) {
  void* address = ::dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr) return std::string("(not found: ") + symbol + ")";
  Dl_info info{};
  if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "(unknown)";
  return info.dli_fname;
}

TEST(RuntimeLinking, StdFilesystemComesFromLibstdcxxNotFromLibTorch) {
  ASSERT_GT(torch::ones({2}).sum().item<float>(), 1.0f) << "LibTorch is loaded and in use";
  std::error_code ignored;
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "grove-no-such-folder", ignored);
  // path::_M_split_cmpts() and remove_all(const path&, error_code&): both exported by the torch wheel's libraries.
  for (const char* symbol : {"_ZNSt10filesystem7__cxx114path14_M_split_cmptsEv",
                             "_ZNSt10filesystem10remove_allERKNS_7__cxx114pathERSt10error_code"}) {
    const std::string where = object_defining(symbol);
    EXPECT_NE(where.find("libstdc++"), std::string::npos) << symbol << " bound to " << where;
  }
}

}  // namespace
}  // namespace grove
