// A structural check of SentencePiece model bytes before the library sees them: the file must be a protobuf
// ModelProto at the wire level (every top-level field is length-delimited, numbered 1-5 or an extension >= 200,
// with lengths inside the file, and the pieces field present). Anything else is refused here with a reason,
// because a failed parse inside some builds of libsentencepiece aborts the process instead of returning an error
// (Ubuntu's 0.2.0 beside the torch wheel: docs/DATA.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace grove::data {

// nullopt when `bytes` has a ModelProto's top-level shape; otherwise the first problem, with its byte offset.
std::optional<std::string> model_proto_problem(std::string_view bytes);

}  // namespace grove::data
