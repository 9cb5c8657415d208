// A quick look at every corpus file of an experiment before anything is ingested: the first 64 KiB of each file
// (decompressed) must look like text, and a distribution must not be all empty files. Ingest checks the same again
// on every byte; this look only makes sure that an empty or binary file in the timeline's last distribution is
// refused before the first one is ingested, not after.
#pragma once

#include <vector>

#include "data_streams/corpus_files.h"
#include "data_streams/corpus_spec.h"

namespace grove::data {

// Throws DataError naming the file (binary: NUL or control bytes where text was expected; a compressed file that is
// corrupt, or truncated within what was read) or the distribution and its files (every one empty or blank).
void probe_corpus_files(const DistributionSpec& spec, const std::vector<CorpusFile>& files);

}  // namespace grove::data
