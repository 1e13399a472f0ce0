// Re-quantizes a GGUF through libllama's own llama_model_quantize (what llama-quantize does), so a machine with only
// the libraries of scripts/native/build-libllama.sh can turn `sovereign make-model --type q8_0` output into Q4_K_M.
//   cc -O2 quantize.c -I SRC/include -I SRC/ggml/include -L LIB -lllama -Wl,-rpath,LIB -o quantize
//   ./quantize IN.gguf OUT.gguf q4_k_m|q4_0|q8_0 [THREADS]
#include "llama.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char ** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IN.gguf OUT.gguf q4_k_m|q4_0|q8_0 [THREADS]\n", argv[0]);
        return 2;
    }
    struct llama_model_quantize_params params = llama_model_quantize_default_params();
    if (strcmp(argv[3], "q4_k_m") == 0) {
        params.ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M;
    } else if (strcmp(argv[3], "q4_0") == 0) {
        params.ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
    } else if (strcmp(argv[3], "q8_0") == 0) {
        params.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    } else {
        fprintf(stderr, "unknown type %s\n", argv[3]);
        return 2;
    }
    params.nthread = argc > 4 ? atoi(argv[4]) : 0;
    params.allow_requantize = true;
    llama_backend_init();
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &params);
    llama_backend_free();
    if (rc != 0) {
        fprintf(stderr, "llama_model_quantize failed (%u)\n", rc);
        return 1;
    }
    return 0;
}
