#!/usr/bin/env bash
# Builds libllama + ggml that LLamaSharp 0.30.0 can load (`sovereign serve --native-lib-dir DIR`) from the llama.cpp
# sources npm's node-llama-cpp bundles (llama/gitRelease.bundle), with that version's ABI patch
# scripts/native/llamasharp-0.30-abi-VERSION.patch:
#   3.21.1 (the default; llama.cpp v0.4.0, 80fb11a, what llama-server in ../shared/peer is built from): drops the two
#          fields v0.4.0 added to llama_model_params (lazy_mode) and llama_context_params (n_outputs_max_per_seq),
#          so both are in LLamaSharp 0.30.0's layout again; llamasharp-0.30-known-3.21.1.txt lists the bindings it
#          leaves changed, none of which SovereignInference calls.
#   3.19.0 (llama.cpp b9842): llama_model_params in LLamaSharp's layout, plus the five functions b9842 lacks.
# 3.21.1 also gets sovereign-f16-f32-gemm-3.21.1.patch: our kernel for F16 weights times F32 activations at up to 64
# columns (decode batches), 1.3x llama.cpp's decode phase at 8 sequences on bench100m (docs/performance.md); the
# environment variable SOVEREIGN_F16_F32_MAX_N=0 turns it off at run time.
# Then, where .NET is present, checks the result with check-abi, and where a C compiler is, the kernel's sums against
# a double-precision reference (check-f16-gemm.sh).
#
#   scripts/native/build-libllama.sh [--out DIR] [--cuda ARCH] [--cpu-target T] [--source DIR | --source-tar FILE]
#                                    [--jobs N] [--pack-source FILE] [--version 3.21.1|3.19.0]
#
#   --out DIR           where the libraries go (default: $CACHE/lib-cpu or $CACHE/lib-cuda-ARCH)
#   --cuda ARCH         CUDA build for one architecture (e.g. 90a for H100/H200); default: CPU tuned for this host
#   --cpu-target T      native (default: this host's instruction set), x86-64-v3 (AVX2/FMA/F16C: any x86 server
#                       since ~2015, what a container image should use) or x86-64-v4 (v3 plus AVX-512)
#   --source DIR        an already patched llama.cpp tree to build (no download)
#   --source-tar FILE   a tarball written by --pack-source (no network, no git: the GPU machine)
#   --pack-source FILE  only write the patched sources needed for libllama as a .tar.xz (about 1 MB) and exit
#   --jobs N            parallel compile jobs (default: nproc)
# The download and the builds are cached in ${SOVEREIGN_NATIVE_CACHE:-~/.cache/sovereign-native}, outside the repo.
# CPU build: about 10 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${SOVEREIGN_NATIVE_CACHE:-$HOME/.cache/sovereign-native}
version=3.21.1
out="" cuda="" cpu_target=native source_dir="" source_tar="" pack="" jobs=$(nproc)
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --cuda) cuda=$2; shift 2 ;;
    --cpu-target) cpu_target=$2; shift 2 ;;
    --source) source_dir=$2; shift 2 ;;
    --source-tar) source_tar=$2; shift 2 ;;
    --pack-source) pack=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
patch_file=$here/llamasharp-0.30-abi-$version.patch
[ -f "$patch_file" ] || { echo "no ABI patch for node-llama-cpp $version ($patch_file); there are: $(cd "$here" && ls llamasharp-0.30-abi-*.patch | tr '\n' ' ')" >&2; exit 2; }
known=()
[ -f "$here/llamasharp-0.30-known-$version.txt" ] && known=(--known "$here/llamasharp-0.30-known-$version.txt")
# Our own changes to llama.cpp beside the ABI patch (a faster kernel), for the versions that have one.
perf_patch=$here/sovereign-f16-f32-gemm-$version.patch
[ -f "$perf_patch" ] || perf_patch=""
patch_sum=$(cat "$patch_file" ${perf_patch:+"$perf_patch"} | sha256sum | cut -c1-16)
mkdir -p "$cache"

# 1. Sources: the bundle's llama.cpp with the ABI patch applied (reused while the patch is unchanged).
if [ -n "$source_tar" ]; then
  source_dir=$cache/src-from-tar
  if [ ! -f "$source_dir/.sovereign-source" ] || [ "$(cat "$source_dir/.sovereign-source")" != "$(sha256sum "$source_tar" | cut -c1-16)" ]; then
    rm -rf "$source_dir" && mkdir -p "$source_dir"
    tar -xJf "$source_tar" -C "$source_dir"
    sha256sum "$source_tar" | cut -c1-16 >"$source_dir/.sovereign-source"
  fi
elif [ -z "$source_dir" ]; then
  source_dir=$cache/src-$version
  if [ ! -f "$source_dir/.sovereign-patch" ] || [ "$(cat "$source_dir/.sovereign-patch")" != "$patch_sum" ]; then
    tgz=$cache/node-llama-cpp-$version.tgz
    [ -f "$tgz" ] || (cd "$cache" && npm pack "node-llama-cpp@$version" >/dev/null)
    rm -rf "$cache/package" "$source_dir"
    tar -xzf "$tgz" -C "$cache" package/llama/gitRelease.bundle
    git clone -q "$cache/package/llama/gitRelease.bundle" "$source_dir"
    rm -rf "$cache/package"
    git -C "$source_dir" apply "$patch_file"
    [ -z "$perf_patch" ] || git -C "$source_dir" apply "$perf_patch"
    echo "$patch_sum" >"$source_dir/.sovereign-patch"
  fi
fi
grep -q 'LLamaSharp 0.30.0 ABI' "$source_dir/include/llama.h" || { echo "$source_dir is not patched with $patch_file" >&2; exit 1; }

if [ -n "$pack" ]; then
  # What add_subdirectory(ggml) and (src) read; the other GPU backends' sources stay behind.
  tar -C "$source_dir" -cJf "$pack" \
    --exclude=ggml/src/ggml-vulkan --exclude=ggml/src/ggml-sycl --exclude=ggml/src/ggml-metal \
    --exclude=ggml/src/ggml-opencl --exclude=ggml/src/ggml-cann --exclude=ggml/src/ggml-hexagon \
    --exclude=ggml/src/ggml-webgpu --exclude=ggml/src/ggml-musa --exclude=ggml/src/ggml-zdnn \
    CMakeLists.txt LICENSE cmake include src ggml
  echo "$pack: $(du -h "$pack" | cut -f1)"
  exit 0
fi

# 2. Configure and build libllama (and the ggml it links).
case $cpu_target in
  native) variant=cpu; flags=(-DGGML_NATIVE=ON) ;;
  x86-64-v3) variant=cpu-$cpu_target; flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON) ;;
  x86-64-v4) variant=cpu-$cpu_target; flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=ON) ;;
  *) echo "--cpu-target must be native, x86-64-v3 or x86-64-v4 (got $cpu_target)" >&2; exit 2 ;;
esac
if [ -n "$cuda" ]; then
  variant=cuda-$cuda
  flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$cuda")
fi
build=$cache/build-$variant
if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$source_dir" "$build/CMakeCache.txt"; then
  build=$cache/build-$variant-$(echo "$source_dir" | sha1sum | cut -c1-8) # that one belongs to another source tree
fi
out=${out:-$cache/lib-$variant}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f "$build/CMakeCache.txt" ] && generator=() # keep the generator the build directory was made with
cmake -S "$source_dir" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_MTMD=OFF \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$ORIGIN' "${flags[@]}" >"$cache/configure-$variant.log"
cmake --build "$build" -j"$jobs" --target llama >"$cache/build-$variant.log" 2>&1 || { tail -30 "$cache/build-$variant.log" >&2; exit 1; }

# 3. The directory --native-lib-dir points at: each library under its soname (what libllama's NEEDED entries
#    and its $ORIGIN runpath find) and under the plain name LLamaSharp's resolver asks for.
rm -rf "$out" && mkdir -p "$out"
for lib in "$build"/bin/lib*.so; do
  name=$(basename "$lib")
  soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  soname=${soname:-$name}
  if [ "$name" = libllama.so ]; then
    cp -L "$lib" "$out/libllama.so"
  else
    cp -L "$lib" "$out/$soname"
    [ "$soname" = "$name" ] || ln -s "$soname" "$out/$name"
  fi
done
[ -e "$out/libllama.so.0" ] || ln -s libllama.so "$out/libllama.so.0"
{
  echo "llama.cpp from node-llama-cpp $version ($(git -C "$source_dir" describe --tags --always 2>/dev/null || echo "source tarball"))"
  echo "patch: $(basename "$patch_file")${perf_patch:+ + $(basename "$perf_patch")} sha256 $patch_sum"
  echo "variant: $variant; cmake flags: ${flags[*]}"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(nproc) cores"
} >"$out/BUILD-INFO.txt"

# 4. The ABI check (needs .NET and a C++ compiler; the GPU machine has no .NET and skips it).
if command -v dotnet >/dev/null; then
  "$here/check-abi.sh" --source "$source_dir" --lib "$out" "${known[@]}"
fi
if grep -q SOVEREIGN_F16_F32_GEMM "$source_dir/ggml/src/ggml-cpu/llamafile/sgemm.cpp" && [ -z "$cuda" ] && command -v cc >/dev/null; then
  "$here/check-f16-gemm.sh" "$out" "$source_dir" | grep -E 'within tolerance|negative control|FAIL|:$'
fi
echo "$out"
