// LibTorch version and CUDA availability without pulling LibTorch headers into the caller (the CLI uses this).
#pragma once

#include <string>

namespace grove::model {

std::string torch_version();  // "1.13.1", "2.11.0"
bool cuda_available();
int cuda_device_count();

}  // namespace grove::model
