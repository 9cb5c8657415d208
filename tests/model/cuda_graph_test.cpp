// CapturedWork where nothing can be captured (label unit): a CPU device is refused with an error naming it, before
// the work runs. The capture itself is checked on CUDA in moe_gpu_test.cpp.
#include "model/cuda_graph.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace grove::model {
namespace {

TEST(CapturedWork, ACpuDeviceIsRefusedNamingItBeforeTheWorkRuns) {
  const torch::Device cpu(torch::kCPU);
  EXPECT_FALSE(CapturedWork::available(cpu));
  int runs = 0;
  try {
    CapturedWork graph([&] { ++runs; }, cpu);
    FAIL() << "capturing CPU work must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cpu"), std::string::npos) << error.what();
  }
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace grove::model
