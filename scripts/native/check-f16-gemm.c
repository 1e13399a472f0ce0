// Checks ggml's F16 x F32 matrix product (the path of sovereign-f16-f32-gemm-*.patch) against a double-precision
// reference, over shapes that hit every tile size, remainder rows, k ranges, a broadcast batch and the fallback.
// Build and run: scripts/native/check-f16-gemm.sh LIB_DIR (it compiles this file against the library's sources).
// Prints one line per shape and exits 1 if any error is too large. With --expect-f32 it also requires the error of
// products of up to LIMIT columns (the kernel's default limit) to be at F32 level, which only the patched path reaches
// (llama.cpp's rounds the activations to F16).
#include "ggml.h"
#include "ggml-cpu.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 64

static unsigned long long rng = 88172645463325252ULL;
static float frand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (float)((rng >> 11) % 2001) / 1000.0f - 1.0f; }

// returns the largest |c - ref| / sum|a*b| over the product
static double check(int M, int K, int N, int batch_a, int batch_b, int threads) {
    size_t mem = (size_t)M * K * 2 * batch_a + (size_t)K * N * 4 * batch_b + (size_t)M * N * 4 * batch_b + ((size_t)K * N * batch_b * 2) + (64u << 20);
    struct ggml_init_params ip = { mem, NULL, false };
    struct ggml_context * ctx = ggml_init(ip);
    struct ggml_tensor * a = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, K, M, batch_a);
    struct ggml_tensor * b = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, K, N, batch_b);
    ggml_fp16_t * ad = a->data;
    float * bd = b->data;
    for (long i = 0; i < (long)M * K * batch_a; i++) ad[i] = ggml_fp32_to_fp16(frand() * 0.05f);
    for (long i = 0; i < (long)K * N * batch_b; i++) bd[i] = frand();
    struct ggml_tensor * c = ggml_mul_mat(ctx, a, b);
    struct ggml_cgraph * g = ggml_new_graph(ctx);
    ggml_build_forward_expand(g, c);
    ggml_graph_compute_with_ctx(ctx, g, threads);
    const float * cd = c->data;
    double worst = 0;
    for (int z = 0; z < batch_b; z++) {
        const int za = z / (batch_b / batch_a);
        for (int j = 0; j < N; j++) {
            for (int i = 0; i < M; i++) {
                double s = 0, sa = 0;
                for (int l = 0; l < K; l++) {
                    double x = (double)ggml_fp16_to_fp32(ad[((long)za * M + i) * K + l]) * bd[((long)z * N + j) * K + l];
                    s += x;
                    sa += fabs(x);
                }
                double e = fabs(cd[((long)z * N + j) * M + i] - s) / (sa + 1e-30);
                if (e > worst) worst = e;
            }
        }
    }
    ggml_free(ctx);
    return worst;
}

int main(int argc, char ** argv) {
    int expect_f32 = argc > 1 && strcmp(argv[1], "--expect-f32") == 0;
    const int Ms[] = { 1, 5, 47, 48, 49, 100, 768 };
    const int Ks[] = { 16, 48, 768, 2064, 4096 };
    const int Ns[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65 };
    int failed = 0, count = 0;
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
            for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                int M = Ms[mi], K = Ks[ki], N = Ns[ni];
                if ((long)M * K * N > 40L * 1000 * 1000) continue; // keep the reference loop short
                double e = check(M, K, N, 1, 1, 2 + (int)(ni % 2)); // 2 and 3 threads
                // F16 activations give ~1e-4 relative to sum|a*b|; F32 sums give ~1e-6 even at k = 4096
                // the AVX2 kernel leaves k > 2048 at several columns to llama.cpp's path
                int taken = N <= LIMIT && (ggml_cpu_has_avx512() || K <= 2048 || N == 1);
                int bad = e > 1e-3 || (expect_f32 && taken && e > 1e-5);
                failed += bad;
                count++;
                if (bad || (mi == sizeof Ms / sizeof *Ms - 1 && ni % 4 == 0) || (N == LIMIT + 1 && M == 768))
                    printf("%s M=%d K=%d N=%d max rel err %.2e\n", bad ? "FAIL" : "ok  ", M, K, N, e);
            }
    // k not a multiple of the vector width (takes llama.cpp's path) and a broadcast batch (attention-like shapes)
    double e1 = check(40, 24, 8, 1, 1, 2), e2 = check(64, 128, 7, 2, 4, 2);
    int bad1 = e1 > 1e-3, bad2 = e2 > 1e-3 || (expect_f32 && e2 > 1e-5);
    printf("%s M=40 K=24 N=8 (fallback) max rel err %.2e\n", bad1 ? "FAIL" : "ok  ", e1);
    printf("%s M=64 K=128 N=7 batch 2x4 max rel err %.2e\n", bad2 ? "FAIL" : "ok  ", e2);
    failed += bad1 + bad2;
    count += 2;
    printf("%d of %d products within tolerance%s\n", count - failed, count, expect_f32 ? (ggml_cpu_has_avx512() ? " (F32 level expected up to N = 64)" : " (F32 level expected up to N = 64, k > 2048 only at N = 1: AVX2)") : "");
    return failed ? 1 : 0;
}
