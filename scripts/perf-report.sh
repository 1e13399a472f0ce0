#!/usr/bin/env bash
# Regenerates docs/performance.md from measurements taken in this one run.
#   bash scripts/perf-report.sh
# Run it on a quiet machine (nothing else compiling or testing): every ratio in the report compares
# figures measured minutes apart on the same machine. Takes about 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/perf
mkdir -p "$out"
rm -f "$out"/*.json

source scripts/tools.sh
MODEL=$out/bench100m.gguf
DEMO=$out/demo.gguf
[ -f "$MODEL" ] || "${S[@]}" make-model --out "$MODEL" --preset bench100m
[ -f "$DEMO" ] || "${S[@]}" make-model --out "$DEMO" --preset demo
PROMPT=64
MAXTOK=128
HTTP=http://127.0.0.1:18180
GRPC=http://127.0.0.1:18181
server_pid=""

start_server() { # model, extra serve options...
  local model=$1; shift
  "${S[@]}" serve --model "$model" --models-dir "$out/no-models" --http-url "$HTTP" --grpc-url "$GRPC" "$@" >"$out/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    curl -sf "$HTTP/health/ready" >/dev/null && return 0
    sleep 0.5
  done
  echo "server did not become ready" >&2; cat "$out/serve.log" >&2; exit 1
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
stop_server() {
  echo "$(status_kib "$server_pid" VmHWM)" >"$out/last-peak-kib"
  kill -TERM "$server_pid"; wait "$server_pid" || true
}
id_of() { basename "$1" .gguf; }

# Every comparison runs twice: with 2 decode threads (all cores of this machine) and with 1 (one core left
# for the HTTP stack, the consumer threads and the bench client, which share this machine).
peak=0
for t in 2 1; do
  rounds=$(( t == 2 ? 3 : 2 ))
  echo "== threads $t: in-process engine vs plain LLamaSharp loops ($rounds interleaved rounds, medians)"
  "${B[@]}" bench-engine --model "$MODEL" --concurrency 1,4,8,16 --prompt-tokens $PROMPT --max-tokens $MAXTOK --threads $t --rounds $rounds --json "$out/engine-t$t.json"

  echo "== threads $t: server over HTTP and gRPC, one server per level with --parallel equal to the level"
  for c in 1 4 8 16; do
    requests=$(( c * 2 > 16 ? c * 2 : 16 ))
    start_server "$MODEL" --parallel $c --ctx-size $(( PROMPT * 4 + MAXTOK + 16 )) --threads $t
    # HTTP twice (before and after gRPC; the report uses their mean), gRPC once.
    "${B[@]}" bench --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency $c --requests $requests --prompt-tokens $PROMPT --max-tokens $MAXTOK --seed 1 --json "$out/http-$c-t$t.json" >/dev/null
    "${B[@]}" bench --grpc "$GRPC" --model "$(id_of "$MODEL")" --concurrency $c --requests $requests --prompt-tokens $PROMPT --max-tokens $MAXTOK --seed 1 --json "$out/grpc-$c-t$t.json" >/dev/null
    "${B[@]}" bench --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency $c --requests $requests --prompt-tokens $PROMPT --max-tokens $MAXTOK --seed 1 --json "$out/http-$c-t$t-b.json" >/dev/null
    stop_server
    p=$(cat "$out/last-peak-kib"); [ "$p" -gt "$peak" ] && peak=$p
  done

  echo "== threads $t: a 1,024-token prompt arriving while 8 streams decode (chunked prefill) vs alone"
  # 8 streams of 384 tokens; the long prompt's client starts with them and sends after 5 s (--delay), so its start-up
  # does not disturb the streams and its prefill falls inside their lifetime. Adaptive chunks as
  # named (--prefill-chunk 256 --max-step-factor 2; the server's defaults are now 512 and 4), then --max-step-factor 0
  # (fixed 256-token chunks) for comparison.
  LONGSTREAM=384
  for variant in adaptive fixed; do
    extra=(--prefill-chunk 256 --max-step-factor 2); [ "$variant" = fixed ] && extra=(--prefill-chunk 256 --max-step-factor 0)
    start_server "$MODEL" --parallel 9 --ctx-size 1200 --threads $t "${extra[@]}"
    if [ "$variant" = adaptive ]; then
      "${B[@]}" bench --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency 1 --requests 2 --prompt-tokens 1024 --max-tokens 4 --seed 7 --json "$out/long-alone-t$t.json" >/dev/null
      "${B[@]}" bench --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency 8 --requests 8 --prompt-tokens $PROMPT --max-tokens $LONGSTREAM --seed 3 --json "$out/streams-alone-t$t.json" >/dev/null
    fi
    "${B[@]}" bench --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency 8 --requests 8 --prompt-tokens $PROMPT --max-tokens $LONGSTREAM --seed 3 --json "$out/streams-during-$variant-t$t.json" >/dev/null &
    streams=$!
    "${B[@]}" bench --delay 5 --url "$HTTP" --model "$(id_of "$MODEL")" --concurrency 1 --requests 1 --prompt-tokens 1024 --max-tokens 4 --seed 9 --json "$out/long-during-$variant-t$t.json" >/dev/null
    wait $streams
    stop_server
  done
done
echo "$peak" >"$out/server-peak-kib"

echo "== memory: RSS after 100 and after 10,000 requests (demo model)"
start_server "$DEMO" --parallel 8 --ctx-size 256
"${B[@]}" bench --url "$HTTP" --model "$(id_of "$DEMO")" --concurrency 8 --requests 100 --prompt-tokens 16 --max-tokens 8 --json "$out/soak-100.json" >/dev/null
status_kib "$server_pid" VmRSS >"$out/rss-100-kib"
"${B[@]}" bench --url "$HTTP" --model "$(id_of "$DEMO")" --concurrency 8 --requests 9900 --prompt-tokens 16 --max-tokens 8 --json "$out/soak-10000.json" >/dev/null
status_kib "$server_pid" VmRSS >"$out/rss-10000-kib"
stop_server
cp "$out/last-peak-kib" "$out/soak-peak-kib"

python3 scripts/perf_report.py "$out" docs/performance.md
echo "wrote docs/performance.md"
