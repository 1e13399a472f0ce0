#!/usr/bin/env bash
# A self-built llama.cpp (scripts/native/build-libllama.sh) against LLamaSharp's packaged one (or against another
# self-built one, BASE_LIB_DIR: two compilers, two versions) on the same GGUF, in one
# run: the plain single-sequence LLamaSharp decode loop and llama.cpp's plain batched loop at 8 sequences
# (`sovereign-bench bench-engine --measure plain|batched:8`, each measurement a fresh process), packaged and self-built
# back to back for every measurement, the order alternating each round. The table gives medians of the per-round
# ratios self-built / packaged (this machine's noise is larger than one measurement can show).
#   [BASE_LIB_DIR=DIR] scripts/native/bench-native.sh [LIB_DIR] [ROUNDS] [THREADS] [MAX_TOKENS]
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=$(readlink -f "${1:-${SOVEREIGN_NATIVE_CACHE:-$HOME/.cache/sovereign-native}/lib-cpu}")
rounds=${2:-3}
threads=${3:-$(nproc)}
max_tokens=${4:-64}
base=${BASE_LIB_DIR:+$(readlink -f "$BASE_LIB_DIR")}
out=artifacts/native-bench
mkdir -p "$out" && rm -f "$out"/rows.tsv
source scripts/tools.sh >/dev/null
model=artifacts/compare/bench100m-llama2vocab.gguf
mkdir -p "$(dirname "$model")"
[ -f "$model" ] || "${S[@]}" make-model --out "$model" --preset bench100m --tokenizer tests/SovereignInference.Tests/Engine/Chat/Reference/tokenizer.model.v1 >/dev/null

measure() { # library round what
  local env=()
  [ "$1" = self-built ] && env=(env "Sovereign__NativeLibDir=$lib")
  [ "$1" = packaged ] && [ -n "$base" ] && env=(env "Sovereign__NativeLibDir=$base")
  local row
  row=$("${env[@]}" "${B[@]}" bench-engine --model "$model" --prompt-tokens 48 --max-tokens "$max_tokens" --threads "$threads" \
    --measure "$3" | grep '^BENCH-ROW ' | cut -d' ' -f2-)
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$row" >>"$out/rows.tsv"
  echo "round $2 $3 $1: $row"
}
for r in $(seq 1 "$rounds"); do
  for what in plain batched:8; do
    if ((r % 2)); then measure packaged "$r" "$what"; measure self-built "$r" "$what"; else measure self-built "$r" "$what"; measure packaged "$r" "$what"; fi
  done
done

python3 - "$out/rows.tsv" "$lib" "$threads" "$max_tokens" "${base:-the library LLamaSharp 0.30.0 packages}" <<'PY'
import statistics, sys
path, lib, threads, max_tokens, base = sys.argv[1:6]
rows = {}
for line in open(path):
    library, rnd, what, row = line.rstrip("\n").split("\t")
    name, conc, req, gen, ticks, dtok, dticks, rss = row.split("|")
    rows[(library, int(rnd), what)] = (int(gen) / (int(ticks) / 1e7), int(dtok) / (int(dticks) / 1e7) if int(dticks) else 0.0, int(req))
rounds = sorted({k[1] for k in rows})
print(f"`scripts/native/bench-native.sh` ({threads} threads, 48-word prompts, {max_tokens} tokens each, {len(rounds)} rounds; self-built = {lib}; packaged = {base})\n")
print("| measurement | requests | packaged tok/s (decode phase) | self-built tok/s (decode phase) | self-built / packaged, median (rounds) | decode phase ratio, median (rounds) |")
print("|---|---|---|---|---|---|")
for what, label in (("plain", "plain LLamaSharp loop, 1 sequence"), ("batched:8", "plain batched loop, 8 sequences")):
    p = [rows[("packaged", r, what)] for r in rounds]
    s = [rows[("self-built", r, what)] for r in rounds]
    ratio = [b[0] / a[0] for a, b in zip(p, s)]
    dratio = [b[1] / a[1] for a, b in zip(p, s)]
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"| {label} | {p[0][2]} | {med(p,0):.1f} ({med(p,1):.1f}) | {med(s,0):.1f} ({med(s,1):.1f}) | **{statistics.median(ratio):.2f}x** ({', '.join(f'{x:.2f}' for x in ratio)}) "
          f"| {statistics.median(dratio):.2f}x ({', '.join(f'{x:.2f}' for x in dratio)}) |")
PY
