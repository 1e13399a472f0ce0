// Times ggml's F16 x F32 matrix product the way a decode step meets it: the weights come from memory, not from cache.
// It builds one graph of C products of different M x K F16 matrices (about 300 MiB in all, more than the last-level
// cache) by one shared K x N F32 activation matrix, and prints the time per product and the weight bytes per second.
// Run through scripts/native/bench-f16-gemm.sh, which alternates the patched kernel with llama.cpp's own path.
//   bench-f16-gemm M K N REPS [THREADS]
#include "ggml.h"
#include "ggml-cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char ** argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s M K N REPS [THREADS]\n", argv[0]); return 2; }
    const int M = atoi(argv[1]), K = atoi(argv[2]), N = atoi(argv[3]), reps = atoi(argv[4]);
    const int threads = argc > 5 ? atoi(argv[5]) : 2;
    const long total = 300L << 20;
    int C = (int)(total / ((long)M * K * 2));
    if (C < 1) C = 1;
    struct ggml_init_params ip = { (size_t)C * ((size_t)M * K * 2 + (size_t)M * N * 4 + 4096) + (size_t)K * N * 4 + (64u << 20), NULL, false };
    struct ggml_context * ctx = ggml_init(ip);
    struct ggml_tensor * b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, K, N);
    float * bd = b->data;
    for (long i = 0; i < (long)K * N; i++) bd[i] = (float)((rand() % 2001) - 1000) / 1000.0f;
    struct ggml_cgraph * g = ggml_new_graph_custom(ctx, 2 * C + 16, false);
    for (int c = 0; c < C; c++) {
        struct ggml_tensor * a = ggml_new_tensor_2d(ctx, GGML_TYPE_F16, K, M);
        ggml_fp16_t * ad = a->data;
        for (long i = 0; i < (long)M * K; i++) ad[i] = ggml_fp32_to_fp16((float)((rand() % 2001) - 1000) / 20000.0f);
        ggml_build_forward_expand(g, ggml_mul_mat(ctx, a, b));
    }
    ggml_graph_compute_with_ctx(ctx, g, threads); // warm-up
    const double t0 = now();
    for (int r = 0; r < reps; r++) ggml_graph_compute_with_ctx(ctx, g, threads);
    const double t = (now() - t0) / reps;
    printf("M=%d K=%d N=%d C=%d %.4f ms per product %.1f GB/s of weights\n", M, K, N, C, t * 1e3 / C, (double)C * M * K * 2 / t / 1e9);
    ggml_free(ctx);
    return 0;
}
