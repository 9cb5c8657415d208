#include "model/runtime_info.h"

#include "model/torch_compat.h"

namespace grove::model {

std::string torch_version() { return compat::torch_version(); }
bool cuda_available() { return compat::cuda_available(); }
int cuda_device_count() { return cuda_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

}  // namespace grove::model
