#!/usr/bin/env bash
# The CUDA path, proved in one command on a GPU machine without .NET or network (issue 13):
#   1. builds libllama + ggml with CUDA for one architecture from the patched llama.cpp sources
#      (scripts/native/build-libllama.sh --source-tar), while a self-contained `sovereign` generates a
#      Mistral-7B-shaped model (32 layers, 4096 wide, FFN 14336, 32 heads, 8 KV heads, the real 32768-token
#      Mistral v3 SentencePiece vocabulary, random weights, Q8_0), then re-quantizes it to Q4_K_M with libllama;
#   2. serves it (`--gpu-layers -1 --flash-attn --native-lib-dir`) and measures tok/s, TTFT and ITL at 1, 8, 32 and
#      64 streams (`sovereign-bench bench`, streaming /v1/completions), and the server's memory plan against nvidia-smi;
#   3. loads a 131072-token context with a q8_0 KV cache and flash attention and answers a ~100k-token prompt;
#   4. writes everything as JSON ($OUT/gpu-check.json, else artifacts/gpu-check/result/gpu-check.json).
# It stops every step at the 9-minute budget (GPU_CHECK_BUDGET_S) and reports what it reached.
#
#   scripts/gpu-check.sh prepare          # here, with .NET: writes artifacts/gpu-check/carry (about 30 MiB)
#   scripts/gpu-check.sh run              # there: device tool, carry ["artifacts/gpu-check/carry"]
#   scripts/gpu-check.sh run --cpu        # the same steps on the CPU with a small model (tests the script;
#                                         # GPU_CHECK_LIB=DIR reuses a CPU build instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
carry=$repo/artifacts/gpu-check/carry
mode=${1:-run}
shift || true

if [ "$mode" = prepare ]; then
  # A self-contained, trimmed `sovereign` for linux-x64 (no .NET on the GPU machine), without LLamaSharp's packaged
  # CPU libraries (the run brings its own build), and the patched llama.cpp sources libllama needs.
  rm -rf "$carry" artifacts/gpu-check/publish && mkdir -p "$carry"
  dotnet publish src/SovereignInference.Server -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true \
    -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true \
    -p:JsonSerializerIsReflectionEnabledByDefault=true -o artifacts/gpu-check/publish -nologo -v q
  rm -rf artifacts/gpu-check/publish/runtimes artifacts/gpu-check/publish/LLamaSharpRuntimes artifacts/gpu-check/publish/*.pdb
  find artifacts/gpu-check/publish -name 'lib*.so' -path '*native*' -delete
  XZ_OPT=-T0 tar -C artifacts/gpu-check/publish -cJf "$carry/sovereign.tar.xz" .
  # The load client lives in its own tool (sovereign-bench), published the same way into its own folder: trimming
  # is per application, so two trimmed apps must not share one folder.
  rm -rf artifacts/gpu-check/publish-bench
  dotnet publish tools/SovereignInference.Bench -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true \
    -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true \
    -p:JsonSerializerIsReflectionEnabledByDefault=true -o artifacts/gpu-check/publish-bench -nologo -v q
  rm -rf artifacts/gpu-check/publish-bench/runtimes artifacts/gpu-check/publish-bench/LLamaSharpRuntimes artifacts/gpu-check/publish-bench/*.pdb
  find artifacts/gpu-check/publish-bench -name 'lib*.so' -path '*native*' -delete
  XZ_OPT=-T0 tar -C artifacts/gpu-check/publish-bench -cJf "$carry/sovereign-bench.tar.xz" .
  scripts/native/build-libllama.sh --pack-source "$carry/llama-src.tar.xz" "$@"
  cp tests/SovereignInference.Tests/Engine/Chat/Reference/mistral_instruct_tokenizer_240323.model.v3 "$carry/tokenizer.model.v3"
  du -sh artifacts/gpu-check/publish artifacts/gpu-check/publish-bench "$carry"/*
  echo "carry: $(du -sm "$carry" | cut -f1) MiB (limit 64)"
  exit 0
fi
[ "$mode" = run ] || { echo "usage: gpu-check.sh prepare | run [--cpu]" >&2; exit 2; }

cpu=false
[ "${1:-}" = --cpu ] && cpu=true
budget=${GPU_CHECK_BUDGET_S:-540}
arch=${GPU_CHECK_ARCH:-90a}
work=${GPU_CHECK_WORK:-/tmp/gpu-check}
result_dir=${OUT:-$repo/artifacts/gpu-check/result}
start=$SECONDS
left() { echo $((budget - (SECONDS - start))); }
log() { echo "[$((SECONDS - start))s] $*" | tee -a "$work/gpu-check.log" >&2; }
rm -rf "$work" && mkdir -p "$work/models" "$work/empty" "$result_dir"
for f in sovereign.tar.xz sovereign-bench.tar.xz llama-src.tar.xz tokenizer.model.v3; do
  [ -f "$carry/$f" ] || { echo "missing $carry/$f: run scripts/gpu-check.sh prepare first" >&2; exit 1; }
done
mkdir -p "$work/sovereign" && tar -C "$work/sovereign" -xJf "$carry/sovereign.tar.xz"
mkdir -p "$work/bench" && tar -C "$work/bench" -xJf "$carry/sovereign-bench.tar.xz"
S=("$work/sovereign/sovereign")
B=("$work/bench/sovereign-bench")
threads=$(nproc)

if $cpu; then
  # The script's own test on a CPU: same steps, a small model and a shorter long context.
  shape=(--layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2)
  weights=q8_0 quant=q4_k_m long_ctx=${GPU_CHECK_LONG_CTX:-8192} long_prompt=${GPU_CHECK_LONG_PROMPT:-6000}
  build_args=() gpu_layers=0 levels=1,8 req_per_stream=2
else
  shape=(--layers 32 --embd 4096 --ff 14336 --heads 32 --kv-heads 8)
  weights=q8_0 quant=${GPU_CHECK_QUANT:-q4_k_m} long_ctx=131072 long_prompt=${GPU_CHECK_LONG_PROMPT:-100000}
  build_args=(--cuda "$arch") gpu_layers=-1 levels=1,8,32,64 req_per_stream=2
fi

gpu_json() { # name, total and used MiB of GPU 0, or null
  command -v nvidia-smi >/dev/null || { echo null; return; }
  nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader,nounits 2>/dev/null | head -1 |
    awk -F', ' '{printf "{\"name\":\"%s\",\"memory_total_mib\":%s,\"memory_used_mib\":%s,\"driver\":\"%s\"}", $1, $2, $3, $4}'
}
gpu_used() { command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1 || echo 0; }

# 1. The CUDA library and the model, side by side (the build uses every core; the generator mostly writes).
log "building libllama (${build_args[*]:-cpu}) and generating the model"
build_start=$SECONDS
if [ -n "${GPU_CHECK_LIB:-}" ]; then
  # Only for testing the script on a CPU: a library built before (scripts/native/build-libllama.sh) instead.
  ( cp -a "$GPU_CHECK_LIB" "$work/lib"; echo $? >"$work/build.rc" ) &
else
  ( timeout "$(left)" scripts/native/build-libllama.sh --source-tar "$carry/llama-src.tar.xz" --out "$work/lib" \
      --jobs "$threads" "${build_args[@]}" >"$work/build.log" 2>&1; echo $? >"$work/build.rc" ) &
fi
build_pid=$!
model_q8=$work/models/m7b-$weights.gguf
timeout "$(left)" "${S[@]}" make-model --out "$model_q8" --preset bench100m --type "$weights" "${shape[@]}" \
  --ctx "$long_ctx" --tokenizer "$carry/tokenizer.model.v3" >"$work/make-model.log" 2>&1
wait $build_pid || true
build_s=$((SECONDS - build_start))
build_rc=$(cat "$work/build.rc" 2>/dev/null || echo 1)
log "build rc=$build_rc after ${build_s}s"
if [ "$build_rc" != 0 ]; then
  tail -40 "$work/build.log" >&2
  printf '{"ok":false,"stage":"build","build_seconds":%s,"gpu":%s}\n' "$build_s" "$(gpu_json)" >"$result_dir/gpu-check.json"
  exit 1
fi

# Q4_K_M through libllama's own quantizer (make-model writes F16/F32/Q8_0).
model=$model_q8
if [ "$quant" != none ]; then
  src=$work/sovereign-src
  mkdir -p "$src" && tar -C "$src" -xJf "$carry/llama-src.tar.xz" include ggml/include
  cc -O2 scripts/native/quantize.c -I "$src/include" -I "$src/ggml/include" -L "$work/lib" -lllama -Wl,-rpath,"$work/lib" -o "$work/quantize"
  if timeout "$(left)" "$work/quantize" "$model_q8" "$work/models/m7b-$quant.gguf" "$quant" "$threads" >"$work/quantize.log" 2>&1; then
    model=$work/models/m7b-$quant.gguf
    rm -f "$model_q8"
  else
    log "quantize to $quant failed; measuring $weights"
  fi
fi
model_id=$(basename "$model" .gguf)
log "model $(du -h "$model" | cut -f1) $model_id"

serve() { # log-file, extra args...; sets server_pid, waits for readiness
  local logf=$1; shift
  "${S[@]}" serve --model "$model" --models-dir "$work/empty" --native-lib-dir "$work/lib" --gpu-layers $gpu_layers \
    --http-url http://127.0.0.1:18380 --grpc-url http://127.0.0.1:18381 --threads "$threads" "$@" >"$logf" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 $(( $(left) * 2 ))); do
    curl -sf http://127.0.0.1:18380/health/ready >/dev/null && return 0
    kill -0 $server_pid 2>/dev/null || break
    sleep 0.5
  done
  log "server not ready"; tail -30 "$logf" >&2; return 1
}
stop() { [ -n "${server_pid:-}" ] || return 0; kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=; }
trap 'stop' EXIT
plan_of() { grep -o 'Memory plan for [^:]*: .*' "$1" | head -1 | sed 's/.*: //; s/"/\\"/g'; }

# 2. Throughput at 1/8/32/64 streams, TTFT, the plan against nvidia-smi.
used_before=$(gpu_used)
max_parallel=${levels##*,}
serve "$work/serve.log" --parallel "$max_parallel" --ctx-size 1024 --flash-attn
used_loaded=$(gpu_used)
( peak=0; while sleep 0.5; do u=$(gpu_used); [ "$u" -gt "$peak" ] && peak=$u && echo "$peak" >"$work/peak"; done ) &
sampler=$!
requests=$(( max_parallel * req_per_stream ))
timeout "$(left)" "${B[@]}" bench --url http://127.0.0.1:18380 --model "$model_id" --concurrency "$levels" --requests "$requests" \
  --prompt-tokens 128 --max-tokens 128 --timeout 120 --json "$work/bench.json" >"$work/bench.log" 2>&1 || log "bench failed"
kill $sampler 2>/dev/null || true
plan=$(plan_of "$work/serve.log")
stop
log "throughput done"

# 3. A 131072-token context (q8_0 KV, flash attention) answering a ~100k-token prompt.
long_ok=false
if serve "$work/serve-long.log" --parallel 1 --ctx-size "$long_ctx" --kv-type q8_0 --flash-attn --batch-size 2048 --prefill-chunk 2048; then
  used_long=$(gpu_used)
  if timeout "$(left)" "${B[@]}" bench --url http://127.0.0.1:18380 --model "$model_id" --concurrency 1 --requests 1 \
      --prompt-tokens "$long_prompt" --max-tokens 16 --timeout "$(left)" --json "$work/long.json" >"$work/long.log" 2>&1; then
    grep -q '"failed":0' "$work/long.json" && long_ok=true
  fi
  long_plan=$(plan_of "$work/serve-long.log")
  stop
fi
log "long context done (ok=$long_ok)"

{
  printf '{"ok":true,"mode":"%s","seconds":%s,"build_seconds":%s,"arch":"%s","threads":%s,' "$($cpu && echo cpu || echo cuda)" $((SECONDS - start)) "$build_s" "$arch" "$threads"
  printf '"gpu":%s,"model":{"id":"%s","bytes":%s,"shape":"%s","generated_as":"%s","measured_as":"%s"},' "$(gpu_json)" "$model_id" "$(stat -c %s "$model")" "${shape[*]}" "$weights" "${model_id##*-}"
  printf '"library":"%s",' "$(head -1 "$work/lib/BUILD-INFO.txt" | sed 's/"/\\"/g')"
  printf '"memory":{"plan":"%s","gpu_used_mib_before":%s,"gpu_used_mib_loaded":%s,"gpu_used_mib_peak_under_load":%s},' "$plan" "$used_before" "$used_loaded" "$(cat "$work/peak" 2>/dev/null || echo "$used_loaded")"
  printf '"throughput":%s,' "$(cat "$work/bench.json" 2>/dev/null || echo null)"
  printf '"long_context":{"ok":%s,"ctx":%s,"prompt_words":%s,"plan":"%s","gpu_used_mib_loaded":%s,"bench":%s}}\n' "$long_ok" "$long_ctx" "$long_prompt" "${long_plan:-}" "${used_long:-null}" "$(cat "$work/long.json" 2>/dev/null || echo null)"
} >"$result_dir/gpu-check.json"
cp "$work"/*.log "$result_dir/" 2>/dev/null || true
log "wrote $result_dir/gpu-check.json"
