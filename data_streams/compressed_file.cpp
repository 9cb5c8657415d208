#include "data_streams/compressed_file.h"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/errors.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

std::string read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::string bytes;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw DataError(fmt::format("{}: cannot determine size", path.string()));
  bytes.resize(static_cast<size_t>(size));
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw DataError(fmt::format("{}: read error", path.string()));
  return bytes;
}

std::string gunzip(const fs::path& path, const std::string& compressed) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) throw DataError(fmt::format("{}: zlib init failed", path.string()));
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
  std::string out;
  char buffer[1 << 16];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (rc == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      inflateReset(&stream);  // another gzip member follows (concatenated .gz files are valid)
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
      throw DataError(fmt::format("{}: truncated gzip file (the compressed stream ends early)", path.string()));
    }
    if (rc != Z_OK) {
      throw DataError(fmt::format("{}: corrupt gzip data: {}", path.string(), stream.msg ? stream.msg : zError(rc)));
    }
  }
  return out;
}

std::string unzstd(const fs::path& path, const std::string& compressed) {
  const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) throw DataError(fmt::format("{}: zstd init failed", path.string()));
  std::string out;
  std::string buffer(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  size_t remaining_hint = 0;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    remaining_hint = ZSTD_decompressStream(context.get(), &output, &input);
    if (ZSTD_isError(remaining_hint)) {
      throw DataError(fmt::format("{}: corrupt zstd data: {}", path.string(), ZSTD_getErrorName(remaining_hint)));
    }
    out.append(buffer.data(), output.pos);
  }
  // Flush what the decoder still holds; a non-zero hint afterwards means the last frame was cut off.
  while (remaining_hint != 0) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    remaining_hint = ZSTD_decompressStream(context.get(), &output, &input);
    if (ZSTD_isError(remaining_hint)) {
      throw DataError(fmt::format("{}: corrupt zstd data: {}", path.string(), ZSTD_getErrorName(remaining_hint)));
    }
    out.append(buffer.data(), output.pos);
    if (output.pos == 0 && remaining_hint != 0) {
      throw DataError(fmt::format("{}: truncated zstd file (the last frame ends early)", path.string()));
    }
  }
  if (compressed.empty()) throw DataError(fmt::format("{}: empty zstd file", path.string()));
  return out;
}

}  // namespace

std::string read_corpus_file(const fs::path& path) {
  std::string bytes = read_raw(path);
  const std::string extension = path.extension().string();
  if (extension == ".gz") return gunzip(path, bytes);
  if (extension == ".zst") return unzstd(path, bytes);
  return bytes;
}

}  // namespace grove::data
