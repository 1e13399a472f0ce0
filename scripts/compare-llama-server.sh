#!/usr/bin/env bash
# Side by side: llama.cpp's llama-server and `sovereign serve` on the same GGUF, driven by the same client
# (`sovereign-bench bench`: streaming /v1/completions, fixed output length with ignore_eos), both servers up, loads
# interleaved in rounds (the order alternates each round). Writes medians of per-round ratios into docs/performance.md
# (between its compare-llama-server markers) and the whole report to docs/performance-vs-llama-server.md.
# Run it on a quiet machine.
#   bash scripts/compare-llama-server.sh /path/to/llama-server [ROUNDS] [THREADS]
# OURS_ARGS adds `sovereign serve` options; Sovereign__NativeLibDir runs ours on a self-built libllama. OURS_B_ARGS starts
# a second `sovereign serve` with OURS_ARGS plus these options, measured in the same rounds (an A/B of one setting,
# each side against the same peer runs): its rows go beside the first server's, with the B / A ratio. OURS_B_ENV
# (VAR=value ...) sets environment variables for that second server only (its workers inherit them), alone or with
# OURS_B_ARGS: e.g. OURS_B_ENV=SOVEREIGN_F16_F32_MAX_N=0 runs it without the self-built library's F16 kernel.
# A llama-server for this host: ../shared/peer/build-llama-server.sh (about 15 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${1:?usage: compare-llama-server.sh LLAMA_SERVER [ROUNDS] [THREADS]}
ROUNDS=${2:-3}
THREADS=${3:-$(nproc)}
PARALLEL=8
PROMPT=48
MAXTOK=128
out=artifacts/compare
mkdir -p "$out"
rm -f "$out"/*.json
OURS_B=http://127.0.0.1:18282

source scripts/tools.sh
MODEL=$out/bench100m-llama2vocab-text.gguf
# A llama-architecture model of ~100M parameters with a real 32k Llama-2-style SentencePiece vocabulary, whose greedy
# output is text only (--text-only-output): with random weights it would also pick lone byte tokens, invalid UTF-8 that
# llama-server's output parser rejects mid-stream ("does not match the expected Content-only format").
[ -f "$MODEL" ] || "${S[@]}" make-model --out "$MODEL" --preset bench100m --text-only-output --tokenizer tests/SovereignInference.Tests/Engine/Chat/Reference/tokenizer.model.v1
OURS=http://127.0.0.1:18280
PEER_URL=http://127.0.0.1:18290

# Ours loads the model before it reports ready (--preload), as llama-server does; the first round measures serving, not loading.
serve_ours() { # http-url grpc-url log [extra serve options...]
  # shellcheck disable=SC2086 # OURS_ENV is a list of VAR=value words
  env ${OURS_ENV:-} "${S[@]}" serve --model "$MODEL" --models-dir "$out/no-models" --http-url "$1" --grpc-url "$2" \
    --parallel $PARALLEL --ctx-size 512 --threads "$THREADS" --preload "$(basename "$MODEL" .gguf)" ${OURS_ARGS:-} "${@:4}" >"$3" 2>&1 &
}
serve_ours "$OURS" http://127.0.0.1:18281 "$out/ours.log"
ours_pid=$!
"$PEER" -m "$MODEL" --host 127.0.0.1 --port 18290 -t "$THREADS" -np $PARALLEL -c $((PARALLEL * 512)) --no-webui >"$out/peer.log" 2>&1 &
peer_pid=$!
ours_b_pid=
urls=("$OURS/health/ready" "$PEER_URL/health")
if [ -n "${OURS_B_ARGS:-}${OURS_B_ENV:-}" ]; then
  # shellcheck disable=SC2086 # OURS_B_ARGS is a list of options
  OURS_ENV=${OURS_B_ENV:-} serve_ours "$OURS_B" http://127.0.0.1:18283 "$out/ours-b.log" ${OURS_B_ARGS:-}
  ours_b_pid=$!
  urls+=("$OURS_B/health/ready")
fi
trap 'kill -TERM $ours_pid $peer_pid $ours_b_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for url in "${urls[@]}"; do
  for _ in $(seq 1 240); do curl -sf "$url" >/dev/null && break; sleep 0.5; done
  curl -sf "$url" >/dev/null || { echo "not ready: $url" >&2; tail -20 "$out"/*.log >&2; exit 1; }
done
ours_model=$(basename "$MODEL" .gguf)
peer_model=$(curl -s "$PEER_URL/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
declare -A url_of=([ours]=$OURS [ours-b]=$OURS_B [peer]=$PEER_URL) model_of=([ours]=$ours_model [ours-b]=$ours_model [peer]=$peer_model)

# Each bench process first sends unmeasured short requests at the level's concurrency (--warmup): its own JIT and one
# connection per client, and a server's first-request costs, stay out of the figures for both servers alike.
bench() { # name url model concurrency requests round
  "${B[@]}" bench --url "$2" --model "$3" --concurrency "$4" --requests "$5" --prompt-tokens $PROMPT \
    --max-tokens $MAXTOK --seed "$6" --warmup $(( $4 == 1 ? 2 : $4 )) --json "$out/$1-c$4-r$6.json" >/dev/null
}
for round in $(seq 1 "$ROUNDS"); do
  for c in 1 $PARALLEL; do
    requests=$(( c == 1 ? 8 : 2 * c ))
    order=(ours peer)
    [ -n "$ours_b_pid" ] && order=(ours ours-b peer)
    (( round % 2 )) || order=($(printf '%s\n' "${order[@]}" | tac))
    for who in "${order[@]}"; do
      bench "$who" "${url_of[$who]}" "${model_of[$who]}" "$c" "$requests" "$round"
    done
    echo "round $round, $c streams done"
  done
done

python3 - "$out" "$ROUNDS" "$PARALLEL" "$THREADS" "$PEER" <<'PY'
import json, statistics, sys, datetime, platform, os
out, rounds, parallel, threads, peer_binary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
failures = []
def level(name, c, r):
    with open(f"{out}/{name}-c{c}-r{r}.json") as f:
        lv = json.load(f)["levels"][0]
    if lv["failed"]:
        failures.append(f"{name}, {c} streams, round {r}: {lv['failed']} of {lv['requests']} failed {lv['error_messages']}")
    return lv["output_tokens_per_second"], lv["ttft_ms"]["p50"], lv["itl_ms"]["p50"], lv["failed"], lv["requests"], lv.get("retried", 0), lv["itl_ms"]["p99"]
stamps = sorted(json.load(open(os.path.join(out, f)))["started_at"] for f in os.listdir(out) if f.endswith(".json"))
started = (stamps[0][:16].replace("T", " "), stamps[-1][11:16])
b_args = (os.environ.get("OURS_B_ENV", "") + " " + os.environ.get("OURS_B_ARGS", "")).strip()
variants = [("ours", "ours")] + ([("ours-b", f"ours + `{b_args}`")] if b_args else [])
rows, ab = [], []
med = lambda xs, i: statistics.median(x[i] for x in xs)
failed = lambda xs: f"{sum(x[3] for x in xs)}/{sum(x[4] for x in xs)}" + (f" ({sum(x[5] for x in xs)} resent)" if sum(x[5] for x in xs) else "")
for c in (1, parallel):
    peer = [level("peer", c, r) for r in range(1, rounds + 1)]
    runs = {}
    for name, label in variants:
        ours = runs[name] = [level(name, c, r) for r in range(1, rounds + 1)]
        ratio = statistics.median(o[0] / p[0] for o, p in zip(ours, peer))
        valid = all(o[3] == 0 and p[3] == 0 for o, p in zip(ours, peer))
        rows.append(f"| {c} |{' ' + label + ' |' if b_args else ''} {med(ours,0):.1f} / {med(peer,0):.1f} = **{ratio:.2f}x**{'' if valid else ' (not comparable: failures)'} "
                    f"(rounds {', '.join(f'{o[0]/p[0]:.2f}' for o, p in zip(ours, peer))}) "
                    f"| {med(ours,1):.0f} / {med(peer,1):.0f} | {med(ours,2):.1f} / {med(peer,2):.1f} | {med(ours,6):.0f} / {med(peer,6):.0f} | {failed(ours)} / {failed(peer)} |")
    if b_args:
        a, b = runs["ours"], runs["ours-b"]
        ab.append(f"- {c} stream{'s' if c > 1 else ''}: tok/s B / A **{statistics.median(y[0] / x[0] for x, y in zip(a, b)):.2f}x** "
                  f"(rounds {', '.join(f'{y[0]/x[0]:.2f}' for x, y in zip(a, b))}); TTFT p50 {med(a,1):.0f} → {med(b,1):.0f} ms; "
                  f"ITL p99 {med(a,6):.0f} → {med(b,6):.0f} ms")
doc = f"""# Side by side with llama-server

Generated by `scripts/compare-llama-server.sh` from a run at {started[0]}–{started[1]} UTC ({platform.machine()}, {os.cpu_count()} cores,
{threads} decode threads each{", ours on " + os.environ["Sovereign__NativeLibDir"] if os.environ.get("Sovereign__NativeLibDir") else ", ours on LLamaSharp's packaged library"}). Same GGUF (`make-model --preset bench100m --text-only-output` with the real 32k Llama-2-style
SentencePiece vocabulary of mistral-common's `tokenizer.model.v1`), same client (`sovereign-bench bench`, streaming
`/v1/completions`, {48}-word prompts, {128} tokens, ignore EOS), both servers up, `--parallel {parallel}` / `-np {parallel}`,
loads interleaved in {rounds} rounds (8 requests at 1 stream, 16 at {parallel}, each bench process after unmeasured warm-up requests at the level's concurrency); tok/s ratio = median of per-round ratios, other columns medians.
Peer: `{os.path.basename(peer_binary)}` built by `../shared/peer/build-llama-server.sh` (llama.cpp from node-llama-cpp's bundle).

| streams |{' server |' if b_args else ''} tok/s ours / llama-server | TTFT p50 ms ours / llama-server | ITL p50 ms ours / llama-server | ITL p99 ms ours / llama-server | failed requests ours / llama-server |
|---|{'---|' if b_args else ''}---|---|---|---|---|
""" + "\n".join(rows) + "\n" + (f"\nA/B in the same rounds, A = ours, B = ours + `{b_args}` (medians of per-round ratios):\n\n" + "\n".join(ab) + "\n" if b_args else "") + ("\nFailed requests (their tokens do not count; a level with failures is not a fair comparison):\n\n" + "\n".join(f"- {f}" for f in failures) + "\n" if failures else "")
doc = doc.replace("# Side by side with llama-server\n\n", "")
begin, end = "<!-- compare-llama-server:begin -->", "<!-- compare-llama-server:end -->"
for path, heading in (("docs/performance.md", None), ("docs/performance-vs-llama-server.md", "# Side by side with llama-server\n\n")):
    text = open(path).read() if os.path.exists(path) else (heading or "")
    block = f"{begin}\n{doc}{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + ("\n\n## Side by side with llama-server (latest run)\n\n" if heading is None else "\n\n") + block + "\n"
    with open(path, "w") as f:
        f.write(text)
print(doc)
PY
