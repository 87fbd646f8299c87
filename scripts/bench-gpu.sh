#!/usr/bin/env bash
# Builds, checks GPU–CPU parity on the real GPU and runs the benches, in one command of under
# 8 minutes, then prints one table. Meant for a machine with a real GPU (the device machine
# of this workplace, or a workstation).
#
# Offline machines: run `cargo vendor vendor > /dev/null` where the network is, and carry
# `vendor/` (and `target/`, to skip most of the build) with the tree; this script then builds
# with the vendored sources.
#
# Usage: scripts/bench-gpu.sh [OUT_DIR]      (logs and the table go to OUT_DIR, default out/bench-gpu)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench-gpu}"
mkdir -p "$out"
export LANDWATCH_REQUIRE_GPU=1 XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
offline=()
if [ -d vendor ]; then
  mkdir -p .cargo
  printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n' > .cargo/config.toml
  offline=(--offline)
fi
step() { echo "== $1" | tee -a "$out/steps.log"; }
# The median of each criterion benchmark whose name matches $2, from its first "$3:" line.
median() {
  awk -v pat="$2" -v key="$3:" '
    $0 ~ pat { name = $1 }
    name != "" && index($0, key) { sub(/.*\[/, ""); split($0, v, " "); print "  " name, v[3], v[4]; name = "" }
  ' "$1"
}

step "build"
cargo build --release "${offline[@]}" --tests --benches --examples 2>&1 | tail -3

step "adapters"
cargo run --release "${offline[@]}" --quiet --example adapters | tee "$out/adapters.txt"

step "parity on the GPU (every kernel against its CPU twin)"
cargo test --release "${offline[@]}" --test parity --test reference_indices --test change_detection \
  --test patch_gpu_label --test patch_gpu_morphology --test formula_reference --test formula_catalogue \
  --test bad_input 2>&1 | tee "$out/parity.log" | grep -E "^test result|FAILED|panicked"
parity=$(grep -c "^test result: ok" "$out/parity.log")
failed=$(grep -c "FAILED" "$out/parity.log")

quick=(-- --warm-up-time 1 --measurement-time 3)
step "benches"
cargo bench "${offline[@]}" --bench roofline "${quick[@]}" > "$out/roofline.log" 2>&1
cargo bench "${offline[@]}" --bench kernels "${quick[@]}" 2>&1 | tee "$out/kernels.log" > /dev/null
cargo bench "${offline[@]}" --bench change "${quick[@]}" 2>&1 | tee "$out/change.log" > /dev/null
cargo bench "${offline[@]}" --bench formula "${quick[@]}" 2>&1 | tee "$out/formula.log" > /dev/null
LANDWATCH_BENCH_SIDE=8192 cargo bench "${offline[@]}" --bench patches 2>&1 | tee "$out/patches.log" > /dev/null

{
  echo
  echo "== landwatch GPU bench summary ($(date -u +%Y-%m-%dT%H:%MZ))"
  head -1 "$out/adapters.txt"
  grep -E "runs on" "$out/adapters.txt"
  echo "parity: $parity test binaries passed, $failed failures"
  echo "-- roofline (host memory, criterion median)"
  median "$out/roofline.log" "^roofline/" thrpt
  echo "-- per-pixel kernels (best of 5; fraction of the host copy roofline)"
  sed -n '/^kernel /,$p' "$out/kernels.log" | grep -E "^(kernel|ndvi|classify)"
  echo "-- change detection"
  grep -E "change detection on|copy roofline" "$out/change.log"
  echo "-- formula vs built-in (criterion medians)"
  median "$out/formula.log" "^formula/" time
  echo "-- patches"
  grep -E "mask:|label|polygonize|attributes|shapes" "$out/patches.log"
} | tee "$out/summary.txt"
[ "$failed" -eq 0 ]
