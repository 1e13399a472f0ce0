#!/usr/bin/env bash
# Compiles check-f16-gemm.c against a built library and its sources, then runs it twice: with the patched F16 x F32
# kernel (errors must be at F32 level up to its column limit) and with it turned off (SOVEREIGN_F16_F32_MAX_N=0: llama.cpp's own path).
# usage: scripts/native/check-f16-gemm.sh LIB_DIR SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$1" && pwd) src=$2
bin=$(mktemp -d)/check-f16-gemm
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -o "$bin" "$here/check-f16-gemm.c" -I"$src/ggml/include" -L"$lib" -l:libggml.so.0 -l:libggml-base.so.0 -l:libggml-cpu.so.0 -lm -Wl,-rpath,"$lib"
echo "patched kernel:"; "$bin" --expect-f32
echo "llama.cpp's path (SOVEREIGN_F16_F32_MAX_N=0):"; SOVEREIGN_F16_F32_MAX_N=0 "$bin"
# the F32-level requirement must be able to fail: llama.cpp's own path rounds activations to F16 and misses it
if SOVEREIGN_F16_F32_MAX_N=0 "$bin" --expect-f32 >/dev/null; then
  echo "check-f16-gemm: llama.cpp's path met the F32-level bound; the check cannot tell the kernels apart" >&2; exit 1
fi
echo "negative control: llama.cpp's path fails the F32-level bound, as it must"
