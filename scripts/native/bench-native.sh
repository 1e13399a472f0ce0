#!/usr/bin/env bash
# A self-built llama.cpp (scripts/native/build-libllama.sh) against LLamaSharp's packaged one on the same GGUF, in one
# run: `sovereign bench-engine` (the plain single-sequence LLamaSharp loop, llama.cpp's plain batched loop at 8
# sequences, the engine at 1 and 8) once per library per round, the order alternating each round; the table gives
# medians of the per-round ratios self-built / packaged (this machine's noise is larger than one run can show).
#   scripts/native/bench-native.sh [LIB_DIR] [ROUNDS] [THREADS] [MAX_TOKENS]
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=$(readlink -f "${1:-${SOVEREIGN_NATIVE_CACHE:-$HOME/.cache/sovereign-native}/lib-cpu}")
rounds=${2:-3}
threads=${3:-$(nproc)}
max_tokens=${4:-64}
out=artifacts/native-bench
mkdir -p "$out" && rm -f "$out"/*.json
dotnet build src/SovereignInference.Server -c Release -nologo -v q >/dev/null
S=(dotnet src/SovereignInference.Server/bin/Release/net10.0/sovereign.dll)
model=artifacts/compare/bench100m-llama2vocab.gguf
mkdir -p "$(dirname "$model")"
[ -f "$model" ] || "${S[@]}" make-model --out "$model" --preset bench100m --tokenizer tests/SovereignInference.Tests/Chat/Reference/tokenizer.model.v1 >/dev/null

run() { # name round
  local env=()
  [ "$1" = self-built ] && env=(env "Sovereign__NativeLibDir=$lib")
  "${env[@]}" "${S[@]}" bench-engine --model "$model" --concurrency 1,8 --prompt-tokens 48 --max-tokens "$max_tokens" \
    --threads "$threads" --rounds 1 --json "$out/$1-r$2.json" >"$out/$1-r$2.log"
  echo "round $2: $1 done"
}
for r in $(seq 1 "$rounds"); do
  if ((r % 2)); then run packaged "$r"; run self-built "$r"; else run self-built "$r"; run packaged "$r"; fi
done

python3 - "$out" "$rounds" "$lib" "$threads" "$max_tokens" <<'PY'
import json, statistics, sys
out, rounds, lib, threads, max_tokens = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def rows(name, r):
    with open(f"{out}/{name}-r{r}.json") as f:
        return {(x["name"], x["concurrency"]): x for x in json.load(f)["rows"]}
keys = list(rows("packaged", 1).keys())
print(f"bench-engine, {threads} threads, 48-word prompts, {max_tokens} tokens, {rounds} interleaved rounds; self-built = {lib}\n")
print("| run | sequences | packaged tok/s (decode phase) | self-built tok/s (decode phase) | self-built / packaged, median (rounds) | decode phase ratio, median |")
print("|---|---|---|---|---|---|")
for key in keys:
    p = [rows("packaged", r)[key] for r in range(1, rounds + 1)]
    s = [rows("self-built", r)[key] for r in range(1, rounds + 1)]
    ratio = [b["tokens_per_second"] / a["tokens_per_second"] for a, b in zip(p, s)]
    dratio = [b["decode_tokens_per_second"] / a["decode_tokens_per_second"] for a, b in zip(p, s) if a["decode_tokens_per_second"]]
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(f"| {key[0]} | {key[1]} | {med(p,'tokens_per_second'):.1f} ({med(p,'decode_tokens_per_second'):.1f}) | {med(s,'tokens_per_second'):.1f} ({med(s,'decode_tokens_per_second'):.1f}) "
          f"| **{statistics.median(ratio):.2f}x** ({', '.join(f'{x:.2f}' for x in ratio)}) | {statistics.median(dratio):.2f}x |")
PY
