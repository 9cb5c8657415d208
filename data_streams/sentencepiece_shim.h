// The C interface of libgrove_sentencepiece, a small module that wraps Debian's libsentencepiece.
// Why a module: Debian's libsentencepiece exports a private copy of protobuf 3.14, and LibTorch loads the system
// libprotobuf 3.21; in one symbol scope the loader interposes the two and the program aborts at start. Grove
// therefore never links SentencePiece into a binary: it loads this module with dlopen(RTLD_LOCAL | RTLD_DEEPBIND)
// (see sentencepiece_library.h), so SentencePiece binds to its own protobuf and LibTorch to the system one.
// All strings are (pointer, size); buffers returned by the module are freed with grove_spm_free_buffer.
#pragma once

#include <cstddef>

extern "C" {

struct GroveSpm;  // one loaded SentencePiece model

// Each returns nullptr / a negative value on failure and writes a message into error[0..error_size).
GroveSpm* grove_spm_load(const char* model, size_t model_size, char* error, size_t error_size);
void grove_spm_free(GroveSpm* spm);
void grove_spm_free_buffer(void* buffer);

int grove_spm_encode(const GroveSpm* spm, const char* text, size_t text_size, int** ids, size_t* count, char* error,
                     size_t error_size);
int grove_spm_decode(const GroveSpm* spm, const int* ids, size_t count, char** text, size_t* text_size, char* error,
                     size_t error_size);

int grove_spm_piece_size(const GroveSpm* spm);
int grove_spm_special_id(const GroveSpm* spm, int which);  // 0 unk, 1 bos, 2 eos, 3 pad
int grove_spm_piece_to_id(const GroveSpm* spm, const char* piece, size_t piece_size);
int grove_spm_is_byte(const GroveSpm* spm, int id);

// Trains a model from `lines` with SentencePiece's key=value options; the serialized model lands in *model.
int grove_spm_train(const char* const* keys, const char* const* values, size_t option_count, const char* const* lines,
                    const size_t* line_sizes, size_t line_count, char** model, size_t* model_size, char* error,
                    size_t error_size);

}  // extern "C"
