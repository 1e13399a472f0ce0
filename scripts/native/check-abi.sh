#!/usr/bin/env bash
# Compares every native function, struct and enum constant LLamaSharp 0.30.0 binds with a llama.cpp source tree's
# headers (compiled probe: sizeof/offsetof/function types), and with --lib the exports of a built library directory.
# LLamaSharp 0.30.0's own known binding defects (llamasharp-0.30-known.txt) are accepted, and with --known FILE the
# findings listed for one llama.cpp version (llamasharp-0.30-known-VERSION.txt) as well; anything else fails.
#   scripts/native/check-abi.sh --source LLAMA_CPP_DIR [--lib DIR] [--known FILE] [--verbose]
# libmtmd (multimodal) is checked only when --lib holds one; scripts/native/build-libllama.sh does not build it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
project=$repo/tools/SovereignInference.AbiCheck
dotnet build "$project" -c Release -nologo -v q >/dev/null
known=$here/llamasharp-0.30-known.txt
args=()
while (($#)); do
  case $1 in
    --known) known+=",$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
skip=(--skip-library mtmd)
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = --lib ] && compgen -G "${args[i + 1]}/libmtmd*" >/dev/null; then skip=(); fi
done
exec dotnet "$project/bin/Release/net10.0/check-abi.dll" --known "$known" "${skip[@]}" "${args[@]}"
