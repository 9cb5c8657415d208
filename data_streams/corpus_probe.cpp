#include "data_streams/corpus_probe.h"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/errors.h"
#include "data_streams/text_cleaning.h"

namespace grove::data {
namespace fs = std::filesystem;
namespace {

constexpr size_t kProbeBytes = 64 * 1024;  // as much as ingest judges control bytes on

struct Head {
  std::string bytes;  // the first kProbeBytes (decompressed), or all of a shorter file
  bool whole = true;  // the file holds nothing beyond `bytes`
};

Head read_gzip_head(const fs::path& path) {
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  Head head;
  head.bytes.resize(kProbeBytes + 1);
  const int n = gzread(file.get(), head.bytes.data(), static_cast<unsigned>(head.bytes.size()));
  int code = Z_OK;
  const std::string message = gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR) {  // the end came inside the compressed stream
    throw DataError(fmt::format("{}: truncated gzip file (the compressed stream ends early)", path.string()));
  }
  if (n < 0 || code != Z_OK) throw DataError(fmt::format("{}: corrupt gzip data: {}", path.string(), message));
  head.bytes.resize(static_cast<size_t>(n));
  return head;
}

Head read_zstd_head(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::string input(ZSTD_DStreamInSize(), '\0');
  std::string output(ZSTD_DStreamOutSize(), '\0');
  Head head;
  size_t frame_left = 1;  // ZSTD_decompressStream's hint: 0 once a frame is complete
  uint64_t compressed = 0;
  while (head.bytes.size() <= kProbeBytes && in) {
    in.read(input.data(), static_cast<std::streamsize>(input.size()));
    ZSTD_inBuffer chunk{input.data(), static_cast<size_t>(in.gcount()), 0};
    compressed += chunk.size;
    while (chunk.pos < chunk.size && head.bytes.size() <= kProbeBytes) {
      ZSTD_outBuffer out{output.data(), output.size(), 0};
      frame_left = ZSTD_decompressStream(context.get(), &out, &chunk);
      if (ZSTD_isError(frame_left)) {
        throw DataError(fmt::format("{}: corrupt zstd data: {}", path.string(), ZSTD_getErrorName(frame_left)));
      }
      head.bytes.append(output.data(), out.pos);
    }
  }
  if (head.bytes.size() <= kProbeBytes && frame_left != 0) {  // the whole file read, its last frame unfinished
    throw DataError(compressed == 0
                        ? fmt::format("{}: empty zstd file", path.string())
                        : fmt::format("{}: truncated zstd file (the last frame ends early)", path.string()));
  }
  return head;
}

Head read_plain_head(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  Head head;
  head.bytes.resize(kProbeBytes + 1);
  in.read(head.bytes.data(), static_cast<std::streamsize>(head.bytes.size()));
  head.bytes.resize(static_cast<size_t>(in.gcount()));
  return head;
}

Head read_head(const fs::path& path) {
  const std::string extension = path.extension().string();
  Head head = extension == ".gz"    ? read_gzip_head(path)
              : extension == ".zst" ? read_zstd_head(path)
                                    : read_plain_head(path);
  head.whole = head.bytes.size() <= kProbeBytes;
  if (!head.whole) head.bytes.resize(kProbeBytes);
  return head;
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

}  // namespace

void probe_corpus_files(const DistributionSpec& spec, const std::vector<CorpusFile>& files) {
  bool all_blank = true;
  std::string blank_files;
  for (const CorpusFile& file : files) {
    const Head head = read_head(file.path);
    if (looks_binary(head.bytes) || head.bytes.find('\0') != std::string::npos) {
      throw DataError(
          fmt::format("distribution '{}': {}: looks like a binary file (NUL or control bytes in its "
                      "first {} KiB), expected UTF-8 text; remove it from `paths` or add it to `exclude`",
                      spec.name, file.path.string(), kProbeBytes / 1024));
    }
    if (head.whole && blank(head.bytes)) {
      if (blank_files.size() < 400) {  // enough to recognise them by
        blank_files += fmt::format("{}{}", blank_files.empty() ? "" : ", ", file.path.string());
      }
    } else {
      all_blank = false;
    }
  }
  if (all_blank && !files.empty()) {
    throw DataError(
        fmt::format("distribution '{}': empty corpus: {} empty or blank ({}); expected UTF-8 text to "
                    "make documents of, so check `paths`",
                    spec.name, files.size() == 1 ? "its only file is" : "every one of its files is", blank_files));
  }
}

}  // namespace grove::data
