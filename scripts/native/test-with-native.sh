#!/usr/bin/env bash
# Runs the whole test suite on a self-built llama.cpp: Sovereign__NativeLibDir names it to every process of the run
# (the test host, the servers and probes it starts), and NativeLibraryTests fails the run if any other libllama loaded.
#   scripts/native/test-with-native.sh [LIB_DIR] [extra `dotnet test` arguments]
# LIB_DIR defaults to the CPU build of scripts/native/build-libllama.sh; run that first.
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=${1:-${SOVEREIGN_NATIVE_CACHE:-$HOME/.cache/sovereign-native}/lib-cpu}
shift || true
[ -f "$lib/libllama.so" ] || { echo "no libllama.so in $lib (build it: scripts/native/build-libllama.sh)" >&2; exit 1; }
lib=$(readlink -f "$lib")
echo "testing on $lib: $(head -1 "$lib/BUILD-INFO.txt" 2>/dev/null)"
Sovereign__NativeLibDir=$lib dotnet test SovereignInference.sln -c Release "$@"
