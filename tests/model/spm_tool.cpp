// grove_test_spm: SentencePiece training and inspection in a process of its own. Debian's libsentencepiece carries a
// private protobuf 3.14 that cannot share a process with LibTorch's libprotobuf 3.21 (the loader interposes their
// symbols and the program aborts at start), so torch-linked tests and the interop driver call this tool instead.
//   grove_test_spm train CORPUS[,CORPUS...] PREFIX VOCAB   writes PREFIX.model (unigram, byte fallback)
//   grove_test_spm dump MODEL                              "ids UNK BOS EOS PAD", then "ID<TAB>TYPE<TAB>PIECE" lines
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <string>

namespace {

const char* piece_type(const sentencepiece::SentencePieceProcessor& processor, int id) {
  if (processor.IsUnknown(id)) return "unknown";
  if (processor.IsControl(id)) return "control";
  if (processor.IsByte(id)) return "byte";
  if (processor.IsUnused(id)) return "unused";
  return "normal";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "train" && argc == 5) {
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        std::string("--input=") + argv[2] + " --model_prefix=" + argv[3] + " --vocab_size=" + argv[4] +
        " --model_type=unigram --byte_fallback=true --character_coverage=0.9995 --num_threads=1 --minloglevel=2");
    if (!status.ok()) {
      std::fprintf(stderr, "grove_test_spm: training failed: %s\n", status.ToString().c_str());
      return 1;
    }
    return 0;
  }
  if (command == "dump" && argc == 3) {
    sentencepiece::SentencePieceProcessor processor;
    const auto status = processor.Load(argv[2]);
    if (!status.ok()) {
      std::fprintf(stderr, "grove_test_spm: %s: %s\n", argv[2], status.ToString().c_str());
      return 1;
    }
    std::printf("ids %d %d %d %d\n", processor.unk_id(), processor.bos_id(), processor.eos_id(), processor.pad_id());
    for (int id = 0; id < processor.GetPieceSize(); ++id) {
      std::printf("%d\t%s\t%s\n", id, piece_type(processor, id), processor.IdToPiece(id).c_str());
    }
    return 0;
  }
  std::fprintf(stderr, "usage: grove_test_spm train CORPUS[,CORPUS...] PREFIX VOCAB | dump MODEL\n");
  return 2;
}
