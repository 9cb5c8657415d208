// The process binds libstdc++'s own functions to libstdc++. The torch wheel's libtorch_cpu.so and libtorch.so export
// private copies of std::filesystem; when they won the symbol lookup, paths built by one copy were freed by the other
// and every test that made a temporary folder crashed on the GPU machine (cmake/GroveDependencies.cmake).
//
// The check asks the dynamic linker itself: this test runs its own executable again with LD_DEBUG=bindings, the
// child makes a few std::filesystem calls; no std::filesystem binding may name LibTorch as the provider, and those
// from the executable must name libstdc++. Where the executable binds none dynamically (it carries the definitions
// itself, as the GPU machine's toolchain produced), the global lookup must find them in the executable. (dlsym alone
// is not enough: in a non-PIE executable it can answer with the executable's own PLT entry.)
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace grove {
namespace {

constexpr const char* kChildVariable = "GROVE_RUNTIME_LINKING_CHILD";

// The object the dynamic linker's global lookup finds `symbol` in (dlsym(RTLD_DEFAULT) searches that scope).
std::string object_defining(const char* symbol) {
  void* address = ::dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr) return std::string("(not found: ") + symbol + ")";
  Dl_info info{};
  if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "(unknown)";
  return std::filesystem::weakly_canonical(info.dli_fname).string();
}

struct Binding {
  std::string from, to, symbol;
};

// Lines of the form "PID:\tbinding file FROM [0] to TO [0]: normal symbol `SYMBOL' [VERSION]".
std::vector<Binding> parse_bindings(const std::string& log) {
  std::vector<Binding> bindings;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    const auto file = line.find("binding file ");
    const auto to = line.find(" to ", file);
    const auto symbol = line.find("symbol `", to);
    if (file == std::string::npos || to == std::string::npos || symbol == std::string::npos) continue;
    const auto object_end = [&](size_t from) { return line.find(" [", from); };
    Binding b;
    b.from = line.substr(file + 13, object_end(file) - (file + 13));
    b.to = line.substr(to + 4, object_end(to + 4) - (to + 4));
    const auto quote = line.find('\'', symbol);
    b.symbol = line.substr(symbol + 8, quote - (symbol + 8));
    bindings.push_back(std::move(b));
  }
  return bindings;
}

TEST(RuntimeLinking, StdFilesystemComesFromLibstdcxxNotFromLibTorch) {
  ASSERT_GT(torch::ones({2}).sum().item<float>(), 1.0f) << "LibTorch is loaded and in use";
  if (std::getenv(kChildVariable) != nullptr) {  // the child: make the calls whose bindings the parent reads
    std::error_code ignored;
    const std::filesystem::path folder = std::filesystem::temp_directory_path() / "grove-runtime-linking";
    std::filesystem::create_directories(folder / "a" / "b", ignored);
    std::filesystem::remove_all(folder, ignored);
    std::printf("runtime-linking child: std::filesystem calls made\n");
    return;
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  testing::ProcessOptions options;
  // No sharding inherited from a parallel runner: the child runs this one test, whole.
  options.env = {{kChildVariable, "1"}, {"LD_DEBUG", "bindings"}, {"GTEST_TOTAL_SHARDS", "1"},
                 {"GTEST_SHARD_INDEX", "0"}};
  const auto child = testing::run_process(
      self, {"--gtest_filter=RuntimeLinking.StdFilesystemComesFromLibstdcxxNotFromLibTorch"}, options);
  ASSERT_EQ(child.exit_code, 0) << child.out;
  ASSERT_NE(child.out.find("runtime-linking child: std::filesystem calls made"), std::string::npos) << child.out;

  // No std::filesystem reference, from any object, may be served by LibTorch's private copies.
  int from_executable = 0, filesystem_bindings = 0;
  for (const Binding& b : parse_bindings(child.err)) {
    if (b.symbol.rfind("_ZNSt10filesystem", 0) != 0) continue;
    ++filesystem_bindings;
    EXPECT_EQ(b.to.find("libtorch"), std::string::npos) << b.symbol << " from " << b.from << " bound to " << b.to;
    if (b.from != self) continue;
    ++from_executable;
    EXPECT_NE(b.to.find("libstdc++"), std::string::npos) << b.symbol << " bound to " << b.to;
  }
  // The executable's own calls either went through the dynamic linker (seen above) or were bound when it was
  // linked, to definitions inside it (then the global lookup finds them there first).
  if (from_executable == 0) {
    for (const char* symbol : {"_ZNSt10filesystem7__cxx114path14_M_split_cmptsEv",
                               "_ZNSt10filesystem10remove_allERKNS_7__cxx114pathERSt10error_code"}) {
      EXPECT_EQ(object_defining(symbol), self)
          << symbol << ": no dynamic binding from the executable, so it should define the symbol itself ("
          << filesystem_bindings << " std::filesystem bindings seen, " << child.err.size() << " bytes of LD_DEBUG)";
    }
  }
}

TEST(RuntimeLinking, BindingLinesAreParsed) {
  const auto bindings = parse_bindings(
      "     20190:\tbinding file /build/t [0] to /lib/libstdc++.so.6 [0]: normal symbol "
      "`_ZNSt10filesystem10remove_allERKNS_7__cxx114pathERSt10error_code' [GLIBCXX_3.4.26]\n"
      "     20190:\tcalling init: /lib/libc.so.6\n");
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_EQ(bindings[0].from, "/build/t");
  EXPECT_EQ(bindings[0].to, "/lib/libstdc++.so.6");
  EXPECT_EQ(bindings[0].symbol, "_ZNSt10filesystem10remove_allERKNS_7__cxx114pathERSt10error_code");
}

}  // namespace
}  // namespace grove
