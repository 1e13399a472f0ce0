#!/usr/bin/env bash
# The F16 x F32 products of a decode step, with the patched kernel and with llama.cpp's own path
# (SOVEREIGN_F16_F32_MAX_N=0) alternating in one run: for each shape, the fastest of ROUNDS alternations of each
# (the minimum is the figure least disturbed by a shared machine), and their ratio.
#   scripts/native/bench-f16-gemm.sh LIB_DIR SOURCE_DIR [ROUNDS] [THREADS] ["M K" ...]
# Default shapes: bench100m's (768 wide, FFN 2560, 32k vocabulary) at 1 and 8 columns (BENCH_N="1 8 16" for others;
# BENCH_MAX_N=64 lets the patched side take products wider than its default limit, to see where that limit belongs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$1" && pwd) src=$2 rounds=${3:-8} threads=${4:-2}
shift $(($# < 4 ? $# : 4))
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=("768 768" "2560 768" "768 2560" "32000 768")
bin=$(mktemp -d)/bench-f16-gemm
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O2 -o "$bin" "$here/bench-f16-gemm.c" -I"$src/ggml/include" -L"$lib" -l:libggml.so.0 -l:libggml-base.so.0 -l:libggml-cpu.so.0 -Wl,-rpath,"$lib"
echo "| M x K | N | llama.cpp's path ms | patched ms | ratio |"
echo "|---|---|---|---|---|"
for shape in "${shapes[@]}"; do
  for n in ${BENCH_N:-1 8}; do
    base=() ours=()
    for _ in $(seq 1 "$rounds"); do
      # shellcheck disable=SC2086 # shape is "M K"
      base+=("$(SOVEREIGN_F16_F32_MAX_N=0 "$bin" $shape "$n" 5 "$threads" | awk '{print $5}')")
      # shellcheck disable=SC2086
      ours+=("$(env ${BENCH_MAX_N:+SOVEREIGN_F16_F32_MAX_N=$BENCH_MAX_N} "$bin" $shape "$n" 5 "$threads" | awk '{print $5}')")
    done
    python3 - "$shape" "$n" "${base[*]}" "${ours[*]}" <<'PY'
import sys
shape, n, base, ours = sys.argv[1], sys.argv[2], min(map(float, sys.argv[3].split())), min(map(float, sys.argv[4].split()))
print(f"| {shape.replace(' ', ' x ')} | {n} | {base:.3f} | {ours:.3f} | **{base / ours:.2f}x** |")
PY
  done
done
