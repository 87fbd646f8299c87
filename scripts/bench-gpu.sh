#!/usr/bin/env bash
# GPU–CPU parity on the real GPU, the benches, and the enforcement job end to end on a large
# mirror-tiled scene, CPU against GPU, in one command of under 8 minutes; then one table.
# Meant for a machine with a real GPU (the device machine of this workplace, or a
# workstation).
#
# Usage: scripts/bench-gpu.sh [OUT_DIR]   (logs and the table go to OUT_DIR, default out/bench-gpu)
#
# Binaries: with cargo, everything is built here first (scripts/build-gpu-bundle.sh DIR
# --no-pack). Without cargo, or with LANDWATCH_PREBUILT=DIR, prebuilt binaries are used:
# DIR (default .gpubin) made by scripts/build-gpu-bundle.sh on another machine and carried
# with the tree; they run with the repository root as working directory (the tests find
# data/ there).
#
# Offline machines with cargo: run `cargo vendor vendor > /dev/null` where the network is, and
# carry `vendor/` (and `target/`, to skip most of the build) with the tree.
#
# No Vulkan loader: carry .gl/ (ignored by git) with the .deb files of the loader and libglvnd,
# fetched where the network is, from the repository root:
#   mkdir -p .gl /tmp/amd64/partial
#   o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#   apt-get $o update
#   (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
# They are unpacked into / (dpkg -x, as root) when ldconfig knows no libvulkan. When no Vulkan
# GPU adapter shows up, VK_DRIVER_FILES is pointed at the NVIDIA container toolkit's ICD.
#
# The device machine of this workplace, with the bundle and .gl/ carried:
#   scripts/bench-gpu.sh "$OUT"      (carry: .gpubin .gl)
#
# Environment:
#   LANDWATCH_MIRROR_SIDE   side of the mirror-tiled Taizhou pair (default 8192)
#   LANDWATCH_BENCH_SOFTWARE=1  also bench a software adapter (llvmpipe; for dry runs)
#   LANDWATCH_DEADLINE      seconds the whole run may take (default 450); later steps are
#                           cut short or skipped to keep within it
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/bench-gpu}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
start=$(date +%s)
deadline=$(( start + ${LANDWATCH_DEADLINE:-450} ))
side="${LANDWATCH_MIRROR_SIDE:-8192}"
export LANDWATCH_REQUIRE_GPU=1 XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
: > "$out/steps.log"

step() { echo "== [$(( $(date +%s) - start ))s] $1" | tee -a "$out/steps.log"; }
note() { echo "   $1" | tee -a "$out/steps.log" >&2; }
# The seconds a step may take: its own limit, or what is left before the deadline.
budget() {
  local left=$(( deadline - $(date +%s) - 5 ))
  [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
# limited SECONDS LOG COMMAND...: runs COMMAND with its output in LOG, killed after SECONDS
# (or at the deadline); returns its status (124: timed out, 125: skipped, out of time).
limited() {
  local s log=$2
  s=$(budget "$1")
  shift 2
  if [ "$s" -lt 10 ]; then
    echo "skipped: out of time" > "$log"
    note "skipped (out of time): $*"
    return 125
  fi
  timeout -k 5 "$s" "$@" > "$log" 2>&1
  local rc=$?
  [ "$rc" -eq 124 ] && note "timed out after ${s}s: $*"
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && note "exit status $rc: $*"
  return "$rc"
}

# --- Vulkan loader, when the machine lacks one -------------------------------------------
if ! ldconfig -p 2>/dev/null | grep -q libvulkan && [ -d .gl ]; then
  step "Vulkan loader from .gl/"
  for f in .gl/*.deb; do dpkg -x "$f" / || note "could not unpack $f"; done
  ldconfig
fi
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$out/nvidia-smi.txt"
fi

# --- Binaries -----------------------------------------------------------------------------
prebuilt="${LANDWATCH_PREBUILT:-}"
if [ -z "$prebuilt" ] && ! command -v cargo > /dev/null; then
  prebuilt=.gpubin
fi
if [ -n "$prebuilt" ]; then
  step "prebuilt binaries from $prebuilt"
  [ -f "$prebuilt/BUILD" ] && sed 's/^/   /' "$prebuilt/BUILD" | tee -a "$out/steps.log"
  bindir=$(mktemp -d /tmp/landwatch-bin.XXXXXX)
  trap 'rm -rf "$bindir"' EXIT
  if command -v xz > /dev/null; then
    tar -C "$bindir" -xJf "$prebuilt/bins.tar.xz"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$prebuilt/bins.tar.xz" "$bindir"
  fi || { note "cannot unpack $prebuilt/bins.tar.xz"; exit 1; }
  manifest="$prebuilt/manifest.tsv"
else
  step "build (cargo)"
  if [ -d vendor ]; then
    mkdir -p .cargo
    printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n' > .cargo/config.toml
    export CARGO_NET_OFFLINE=true
  fi
  bindir=/
  scripts/build-gpu-bundle.sh "$out/bin" --no-pack > "$out/build.log" 2>&1 || {
    tail -20 "$out/build.log"
    exit 1
  }
  manifest="$out/bin/manifest.tsv"
fi
# Path of the executable of KIND NAME.
bin() { awk -F'\t' -v k="$1" -v n="$2" -v d="$bindir" '$1 == k && $2 == n { print d "/" $3 }' "$manifest"; }

# --- Adapters -------------------------------------------------------------------------------
step "adapters"
limited 60 "$out/adapters.txt" "$(bin example adapters)"
sed 's/^/   /' "$out/adapters.txt"
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! grep -q "^Auto runs on .*(Vulkan" "$out/adapters.txt" && [ -z "${VK_DRIVER_FILES:-}" ] \
  && [ -f "$nvidia_icd" ]; then
  note "no Vulkan GPU adapter: retrying with VK_DRIVER_FILES=$nvidia_icd"
  export VK_DRIVER_FILES="$nvidia_icd"
  limited 60 "$out/adapters.txt" "$(bin example adapters)"
  sed 's/^/   /' "$out/adapters.txt"
fi

# --- The large scene, built in the background while the tests run ---------------------------
scene=$(mktemp -d /tmp/landwatch-scene.XXXXXX)
step "mirror-tiling the Taizhou pair to ${side}×${side} in $scene (background)"
(
  limited 120 "$out/mirror_t1.log" "$(bin example mirror_tile)" data/landsat_taizhou/Taizhou_t1.tif "$side" "$scene/t1.tif" &
  limited 120 "$out/mirror_t2.log" "$(bin example mirror_tile)" data/landsat_taizhou/Taizhou_t2.tif "$side" "$scene/t2.tif" &
  wait
) &
mirror_pid=$!

# --- Parity ---------------------------------------------------------------------------------
step "parity on the GPU (every kernel against its CPU twin; LANDWATCH_REQUIRE_GPU=1)"
: > "$out/parity.log"
tests_run=0
tests_failed=0
for name in $(awk -F'\t' '$1 == "test" { print $2 }' "$manifest"); do
  limited 120 "$out/test_$name.log" "$(bin test "$name")"
  rc=$?
  tests_run=$((tests_run + 1))
  result=$(grep -E "^test result" "$out/test_$name.log" | tail -1)
  [ "$rc" -ne 0 ] && tests_failed=$((tests_failed + 1))
  printf '%-22s %s\n' "$name" "${result:-exit status $rc}" | tee -a "$out/parity.log"
  grep -E "^test .* FAILED|panicked" "$out/test_$name.log" | head -5
done
wait "$mirror_pid"

# --- Benches --------------------------------------------------------------------------------
quick=(--bench --warm-up-time 1 --measurement-time 2 --noplot)
export CRITERION_HOME="$out/criterion"
step "bench gpu_resident (kernels with their inputs on the device)"
limited 120 "$out/gpu_resident.log" "$(bin bench gpu_resident)" "${quick[@]}"
step "bench kernels"
limited 120 "$out/kernels.log" "$(bin bench kernels)" "${quick[@]}"
step "bench change"
limited 90 "$out/change.log" "$(bin bench change)" "${quick[@]}"
step "bench patches_gpu (on the raw change codes of the Taizhou pair)"
limited 60 "$out/taizhou_enforce.log" "$(bin example enforce)" \
  --before data/landsat_taizhou/Taizhou_t1.tif --after data/landsat_taizhou/Taizhou_t2.tif \
  --sensor landsat-dn --raw-change --out "$out/taizhou"
LANDWATCH_CHANGE_TIF="$out/taizhou/change_raw.tif" \
  limited 120 "$out/patches_gpu.log" "$(bin bench patches_gpu)" "${quick[@]}"

# --- The enforcement job end to end, CPU against GPU ------------------------------------------
zones=data/landsat_taizhou/illustrative
timed_run() {
  local backend=$1 log="$out/enforce_$1.log" t0 t1
  local cmd=("$(bin example enforce)" --before "$scene/t1.tif" --after "$scene/t2.tif"
    --sensor landsat-dn --backend "$backend" --out "$scene/enforce_$backend"
    --zones "basic_farmland=$zones/basic_farmland.geojson"
    --zones "eco_redline=$zones/eco_redline.geojson"
    --zones "urban_boundary=$zones/urban_boundary.geojson"
    --regions "$zones/counties.geojson" --region-field code)
  [ -x /usr/bin/time ] && cmd=(/usr/bin/time -v "${cmd[@]}")
  t0=$(date +%s.%N)
  limited 180 "$log" "${cmd[@]}"
  local rc=$?
  t1=$(date +%s.%N)
  cp "$scene/enforce_$backend/summary.json" "$out/summary_$backend.json" 2> /dev/null
  echo "$rc $(echo "$t1 - $t0" | awk '{ printf "%.2f", $1 - $3 }')"
}
e2e_cpu="" e2e_gpu=""
if [ -s "$scene/t1.tif" ] && [ -s "$scene/t2.tif" ]; then
  step "enforce on the ${side}×${side} pair, --backend gpu"
  e2e_gpu=$(timed_run gpu)
  note "exit status and wall seconds: $e2e_gpu"
  step "enforce on the ${side}×${side} pair, --backend cpu"
  e2e_cpu=$(timed_run cpu)
  note "exit status and wall seconds: $e2e_cpu"
  step "enforce on the ${side}×${side} pair, --backend auto (chooses by measurement)"
  e2e_auto=$(timed_run auto)
  note "exit status and wall seconds: $e2e_auto"
  python3 -c 'import json, sys; print("   auto measured:", json.load(open(sys.argv[1]))["backend"].get("measured"))' \
    "$out/summary_auto.json" 2> /dev/null | tee -a "$out/steps.log"
else
  note "no mirror-tiled scene (see mirror_t1.log, mirror_t2.log)"
fi
rm -rf "$scene"

# --- Summary --------------------------------------------------------------------------------
# The median of each criterion benchmark whose name matches $2, from its first "$3:" line.
median() {
  awk -v pat="$2" -v key="$3:" '
    $0 ~ pat { name = $1 }
    name != "" && index($0, key) { sub(/.*\[/, ""); split($0, v, " "); print "  " name, v[3], v[4]; name = "" }
  ' "$1"
}
peak_rss() { grep -o "Maximum resident set size (kbytes): [0-9]*" "$1" 2> /dev/null | awk '{ printf "%.2f GiB", $NF / 1048576 }'; }
stages() {
  python3 - "$out/summary_cpu.json" "$out/summary_gpu.json" << 'EOF' 2> /dev/null || echo "  (no summary.json)"
import json, sys
runs = []
for path in sys.argv[1:]:
    try:
        runs.append(json.load(open(path)))
    except (OSError, ValueError):
        runs.append({})
cpu, gpu = (r.get("stages_seconds", {}) for r in runs)
print("  %-12s %9s %9s %8s" % ("stage", "cpu s", "gpu s", "cpu/gpu"))
order = ["plan", "change", "morphology", "label", "sieve", "attributes", "overlay", "polygonize", "write"]
known = [s for s in order if s in cpu or s in gpu]
fmt = lambda v: "%9.2f" % v if v is not None else "%9s" % "-"
rows = [(s, cpu.get(s), gpu.get(s)) for s in dict.fromkeys(known + list(cpu) + list(gpu))]
rows.append(("total", sum(cpu.values()) or None, sum(gpu.values()) or None))
for stage, c, g in rows:
    ratio = "%7.2fx" % (c / g) if c and g else ""
    print("  %-12s %s %s %s" % (stage, fmt(c), fmt(g), ratio))
for name, r in (("cpu", runs[0]), ("gpu", runs[1])):
    b = r.get("backend", {})
    if b:
        print("  %s run: device %s%s; %s patches" % (name, b.get("device"),
              ", fallback: %s" % b["fallback"] if b.get("fallback") else "", r.get("patch_count")))
EOF
}
{
  echo
  echo "== landwatch GPU bench summary ($(date -u +%Y-%m-%dT%H:%MZ), $(( $(date +%s) - start )) s)"
  [ -s "$out/nvidia-smi.txt" ] && tail -n +2 "$out/nvidia-smi.txt"
  head -1 "$out/adapters.txt"
  grep -E "runs on" "$out/adapters.txt"
  echo "binaries: ${prebuilt:-built here with cargo}"
  echo "parity: $tests_run test binaries, $tests_failed failed"
  [ "$tests_failed" -gt 0 ] && grep -v " ok\. " "$out/parity.log" | sed 's/^/  /'
  echo "-- kernels with their inputs on the device (fraction of the device copy roofline)"
  sed -n '/^kernel /,$p' "$out/gpu_resident.log" | sed 's/^/  /'
  grep -E "skipped|failed" "$out/gpu_resident.log" | sed 's/^/  /'
  echo "-- per-pixel kernels end to end, transfers included (best of 5; fraction of the host copy roofline)"
  grep -E "^copy roofline" "$out/kernels.log" | sed 's/^/  /'
  sed -n '/^kernel /,$p' "$out/kernels.log" | grep -E "^(kernel|ndvi|class)" | sed 's/^/  /'
  echo "-- change detection end to end (4 Mpx)"
  grep -E "contextual kernels on|change detection on|fused pass on|copy roofline" "$out/change.log" | sed 's/^/  /'
  echo "-- patch kernels on the Taizhou change codes (criterion medians)"
  median "$out/patches_gpu.log" "^patches/" time
  grep -E "skipped" "$out/patches_gpu.log" | sed 's/^/  /'
  echo "-- enforce on the ${side}×${side} mirror-tiled Taizhou pair, whole process (zones, regions)"
  for b in gpu cpu; do
    run=$e2e_gpu
    [ "$b" = cpu ] && run=$e2e_cpu
    if [ -n "$run" ]; then
      echo "$run" | awk -v b="$b" -v rss="$(peak_rss "$out/enforce_$b.log")" \
        '{ printf "  %s: exit status %s, %s s wall, peak RSS %s\n", b, $1, $2, rss }'
    else
      echo "  $b: not run"
    fi
  done
  if [ -n "$e2e_cpu" ] && [ -n "$e2e_gpu" ]; then
    echo "$e2e_cpu $e2e_gpu" | awk '$1 == 0 && $3 == 0 && $4 > 0 { printf "  end-to-end speed-up GPU/CPU: %.2fx\n", $2 / $4 }'
  fi
  echo "  stage times from summary.json:"
  stages
} | tee "$out/summary.txt"
[ "$tests_failed" -eq 0 ]
