#!/usr/bin/env bash
# The worker hop measured: `sovereign serve --isolation inprocess` and `--isolation process` (the model in a
# `sovereign worker` process, tokens over a Unix socket) on the same GGUF, driven by the same client (`sovereign-bench
# bench`, streaming /v1/completions, fixed output length with ignore_eos), both servers up, loads interleaved in
# rounds (the order alternates each round). Prints medians of per-round ratios as a markdown table for
# docs/performance.md.
#   bash scripts/compare-isolation.sh [ROUNDS] [THREADS]    (MAXTOK=128 REQ1=4 REQ8=16 in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
THREADS=${2:-$(nproc)}
PARALLEL=8
PROMPT=48
MAXTOK=${MAXTOK:-128}
REQ1=${REQ1:-4}
REQ8=${REQ8:-16}
out=artifacts/isolation
mkdir -p "$out"
rm -f "$out"/*.json

source scripts/tools.sh
MODEL=$out/bench100m.gguf
[ -f "$MODEL" ] || "${S[@]}" make-model --out "$MODEL" --preset bench100m
IN=http://127.0.0.1:18780
PROC=http://127.0.0.1:18790
common=(--model "$MODEL" --models-dir "$out/no-models" --parallel $PARALLEL --ctx-size 512 --threads "$THREADS" --preload bench100m --keep-alive -1)
"${S[@]}" serve "${common[@]}" --isolation inprocess --http-url "$IN" --grpc-url http://127.0.0.1:18781 >"$out/inprocess.log" 2>&1 &
in_pid=$!
"${S[@]}" serve "${common[@]}" --isolation process --http-url "$PROC" --grpc-url http://127.0.0.1:18791 >"$out/process.log" 2>&1 &
proc_pid=$!
trap 'kill -TERM $in_pid $proc_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for url in "$IN" "$PROC"; do
  for _ in $(seq 1 240); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "$url/health/ready" >/dev/null || { echo "not ready: $url" >&2; tail -20 "$out"/*.log >&2; exit 1; }
done
curl -s "$PROC/v1/models/bench100m" | grep -q '"pid"' || { echo "the process server has no worker" >&2; exit 1; }

bench() { # name url concurrency requests round
  "${B[@]}" bench --url "$2" --model bench100m --concurrency "$3" --requests "$4" --prompt-tokens $PROMPT \
    --max-tokens $MAXTOK --seed "$5" --json "$out/$1-c$3-r$5.json" >/dev/null
}
for round in $(seq 1 "$ROUNDS"); do
  for c in 1 $PARALLEL; do
    requests=$(( c == 1 ? REQ1 : REQ8 ))
    if (( round % 2 )); then
      bench inprocess "$IN" "$c" "$requests" "$round"; bench process "$PROC" "$c" "$requests" "$round"
    else
      bench process "$PROC" "$c" "$requests" "$round"; bench inprocess "$IN" "$c" "$requests" "$round"
    fi
    echo "round $round, $c streams done" >&2
  done
done

python3 - "$out" "$ROUNDS" "$PARALLEL" "$THREADS" <<'PY'
import json, statistics, sys, datetime, platform, os
out, rounds, parallel, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def level(name, c, r):
    with open(f"{out}/{name}-c{c}-r{r}.json") as f:
        lv = json.load(f)["levels"][0]
    return lv["output_tokens_per_second"], lv["ttft_ms"]["p50"], lv["itl_ms"]["p50"], lv["failed"]
print(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
      f"{threads} decode threads, `--parallel {parallel}`, {rounds} interleaved rounds, {os.environ.get('MAXTOK', '128')} tokens per request; ratio = median of per-round ratios.\n")
print("| streams | tok/s process / inprocess | per-round ratios | TTFT p50 ms process / inprocess | ITL p50 ms process / inprocess | failed |")
print("|---|---|---|---|---|---|")
for c in (1, parallel):
    p = [level("process", c, r) for r in range(1, rounds + 1)]
    i = [level("inprocess", c, r) for r in range(1, rounds + 1)]
    ratio = statistics.median(a[0] / b[0] for a, b in zip(p, i))
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(f"| {c} | {med(p,0):.1f} / {med(i,0):.1f} = **{ratio:.3f}x** | {', '.join(f'{a[0]/b[0]:.3f}' for a, b in zip(p, i))} "
          f"| {med(p,1):.0f} / {med(i,1):.0f} | {med(p,2):.1f} / {med(i,2):.1f} | {sum(x[3] for x in p)} / {sum(x[3] for x in i)} |")
PY
