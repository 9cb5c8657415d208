// The safetensors reader and writer: exact round trip, and every kind of damaged file rejected with a message that
// names the file (and the tensor where there is one).
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "tests/support/temp_dir.h"

namespace grove::model {
namespace {
namespace fs = std::filesystem;
using grove::testing::TempDir;

// Writes a file by hand: header length, header text, data bytes.
fs::path write_raw(const fs::path& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t size = header.size();
  out.write(reinterpret_cast<const char*>(&size), 8);
  out << header << data;
  return path;
}

std::string open_error(const fs::path& path, SafetensorsLimits limits = {}) {
  try {
    SafetensorsReader reader(path, limits);
  } catch (const CheckpointError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kBadInput);
    return e.what();
  }
  return "(opened)";
}

TEST(Safetensors, RoundTripKeepsNamesShapesDtypesBytesAndMetadata) {
  TempDir dir;
  const std::vector<float> a{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  const std::vector<int64_t> b{-1, 1ll << 40};
  const std::vector<uint16_t> c{0x3f80, 0xc000, 0x7f80};
  {
    SafetensorsWriter writer(dir / "x.safetensors",
                             {{"a", DType::kF32, {2, 3}}, {"b", DType::kI64, {2}}, {"empty", DType::kF32, {0, 4}},
                              {"c", DType::kBF16, {3}}},
                             {{"format", "pt"}});
    writer.write(a.data(), a.size() * 4);
    writer.write(b.data(), b.size() * 8);
    writer.write(nullptr, 0);
    writer.write(c.data(), c.size() * 2);
    writer.finish();
  }
  SafetensorsReader reader(dir / "x.safetensors");
  ASSERT_EQ(reader.tensors().size(), 4u);
  EXPECT_EQ(reader.metadata().at("format"), "pt");
  EXPECT_EQ(reader.info("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(reader.info("c").dtype, DType::kBF16);
  EXPECT_EQ(reader.info("empty").numel(), 0);
  std::vector<float> a2(6);
  reader.read("a", a2.data(), 24);
  EXPECT_EQ(a2, a);
  std::vector<int64_t> b2(2);
  reader.read("b", b2.data(), 16);
  EXPECT_EQ(b2, b);
  std::vector<uint16_t> c2(3);
  reader.read("c", c2.data(), 6);
  EXPECT_EQ(c2, c);
  EXPECT_THROW(reader.info("missing"), CheckpointError);
}

TEST(Safetensors, WriterThatIsNotFinishedLeavesNoFile) {
  TempDir dir;
  {
    SafetensorsWriter writer(dir / "partial.safetensors", {{"a", DType::kF32, {2}}, {"b", DType::kF32, {2}}});
    const float values[2] = {1, 2};
    writer.write(values, 8);
  }
  EXPECT_FALSE(fs::exists(dir / "partial.safetensors"));
}

TEST(Safetensors, TruncatedFileIsRejectedNamingIt) {
  TempDir dir;
  {
    SafetensorsWriter writer(dir / "t.safetensors", {{"weights", DType::kF32, {4}}});
    const float values[4] = {1, 2, 3, 4};
    writer.write(values, 16);
    writer.finish();
  }
  fs::resize_file(dir / "t.safetensors", fs::file_size(dir / "t.safetensors") - 3);
  const std::string message = open_error(dir / "t.safetensors");
  EXPECT_NE(message.find((dir / "t.safetensors").string()), std::string::npos) << message;
  EXPECT_NE(message.find("weights"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  fs::resize_file(dir / "t.safetensors", 5);
  EXPECT_NE(open_error(dir / "t.safetensors").find("too short"), std::string::npos);
}

TEST(Safetensors, HeaderProblemsAreRejectedNamingFileAndTensor) {
  TempDir dir;
  const std::string eight(8, '\0');
  struct Case {
    std::string header;
    std::string data;
    std::string expected;
  };
  const std::vector<Case> cases{
      {R"({"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", eight, "unknown dtype 'F33'"},
      {R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight, "12 bytes but data_offsets span 8"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       eight, "overlap"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight, "unreferenced bytes before tensor 'w'"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight, "4 trailing bytes"},
      {R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", eight, "non-negative integer"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight, "end before begin"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", eight, "unexpected key 'extra'"},
      {R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight, "truncated"},
      {R"({"w":)", eight, "not valid JSON"},
      {R"([1,2])", eight, "not a JSON object"},
      {R"({"__metadata__":{"a":1}})", "", "__metadata__ 'a' is not a string"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const fs::path path = write_raw(dir / ("case" + std::to_string(i) + ".safetensors"), cases[i].header, cases[i].data);
    const std::string message = open_error(path);
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(cases[i].expected), std::string::npos) << "case " << i << ": " << message;
  }
}

TEST(Safetensors, SizeLimitsAreEnforced) {
  TempDir dir;
  const fs::path path = write_raw(dir / "big.safetensors",
                                  R"({"w":{"dtype":"U8","shape":[64],"data_offsets":[0,64]}})", std::string(64, 'x'));
  SafetensorsLimits small_header;
  small_header.max_header_bytes = 16;
  EXPECT_NE(open_error(path, small_header).find("exceeds the limit"), std::string::npos);
  SafetensorsLimits small_file;
  small_file.max_file_bytes = 100;
  EXPECT_NE(open_error(path, small_file).find("exceeds the limit"), std::string::npos);
  EXPECT_EQ(open_error(path), "(opened)");

  // A header length that claims more bytes than the file has.
  std::ofstream out(dir / "lying.safetensors", std::ios::binary);
  const uint64_t huge = 1ull << 20;
  out.write(reinterpret_cast<const char*>(&huge), 8);
  out << "{}";
  out.close();
  EXPECT_NE(open_error(dir / "lying.safetensors").find("runs past the end"), std::string::npos);
}

TEST(Safetensors, MissingFileNamesIt) {
  TempDir dir;
  const std::string message = open_error(dir / "absent.safetensors");
  EXPECT_NE(message.find("absent.safetensors"), std::string::npos) << message;
}

}  // namespace
}  // namespace grove::model
