#!/usr/bin/env bash
# The one-call GPU check (issue 11). Run it from a copy of the working tree:
#
#   Specs/Gpu/check.sh                 package (when the .NET SDK is present and no package exists yet), then run
#   Specs/Gpu/check.sh package         publish a self-contained linux-x64 build and pack it (needs the .NET SDK)
#   Specs/Gpu/check.sh run [OPTIONS]   unpack the package and run the check on this machine's GPU; needs only the
#                                      package, Python and PyTorch (no .NET). OPTIONS go to the check:
#                                      --quick --seed N --steps N --warmup N --gemm N --python PATH|none --tolerance X
#
# The check reports the card, runs every kernel on it against the CPU backend (relative error under 1e-4, outputs
# poisoned with NaN first), times MnistNet (batch 64, 256) and ResNet-20 (batch 128) training steps here and in
# PyTorch eager on the same card, and a 4096^3 GEMM, and prints one table. Exit code 0 when every kernel agrees.
# Environment: DSL_CHECK_OUT (where the package lives, default Specs/Gpu/out), DSL_CHECK_DEVICE (default gpu;
# gpu:cpu runs the same logic on ILGPU's CPU accelerator, with --quick), PYTHON (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${DSL_CHECK_OUT:-$here/out}"
package="$out/dsl-gpu-check-linux-x64.tar.gz"
limit=$((64 * 1024 * 1024))

package() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "check.sh package: the .NET SDK (dotnet) is needed to publish; copy a package made elsewhere to $package" >&2
    exit 2
  fi
  rm -rf "$out/publish"
  mkdir -p "$out"
  # Not trimmed: ILGPU compiles kernels from their IL by reflection at run time.
  dotnet publish "$root/Specs/Specs.csproj" -c Release -r linux-x64 --self-contained true \
    -p:DebugType=none -p:InvariantGlobalization=true -nodeReuse:false -p:UseSharedCompilation=false \
    -o "$out/publish" >"$out/publish.log" 2>&1 || { tail -30 "$out/publish.log" >&2; exit 1; }
  for f in torch_step.py torch_nets.py; do
    [ -f "$out/publish/$f" ] || { echo "check.sh package: $f is missing from the build" >&2; exit 1; }
  done
  tar -C "$out/publish" -czf "$package" .
  size=$(stat -c %s "$package")
  echo "package: $package ($((size / 1024 / 1024)) MiB of at most 64)"
  if [ "$size" -ge "$limit" ]; then
    echo "check.sh package: $size bytes is over the 64 MiB that can be carried to the GPU machine" >&2
    exit 1
  fi
}

run() {
  if [ ! -f "$package" ]; then
    echo "check.sh run: no package at $package; run 'Specs/Gpu/check.sh package' where the .NET SDK is installed" >&2
    exit 2
  fi
  rm -rf "$out/app"
  mkdir -p "$out/app"
  tar -C "$out/app" -xzf "$package"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
  else
    echo "nvidia-smi: not found (the check still asks ILGPU for a CUDA or OpenCL device)"
  fi
  # The budget is 5 minutes on an H100; the limit only stops a hung driver from hanging the machine.
  DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 timeout 600 "$out/app/Specs" gpu-check \
    --device "${DSL_CHECK_DEVICE:-gpu}" --python "${PYTHON:-python3}" "$@"
}

case "${1:-}" in
  package) package ;;
  run) shift; run "$@" ;;
  "")
    if [ ! -f "$package" ]; then package; fi
    run
    ;;
  *) echo "usage: check.sh [package | run [OPTIONS]]" >&2; exit 2 ;;
esac
