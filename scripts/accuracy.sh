#!/usr/bin/env bash
# Change-detection accuracy of landwatch on every labelled scene under SHARED_DIR/data, next to
# the peer pipeline (SHARED_DIR/peer, rasterio + numpy + scipy) run on the same scenes.
#
# Per scene: `enforce` with default settings (only the sensor preset depends on the scene), once
# per alternative method below, and once with --sensor gf-4band (the first four bands) on OSCD
# scenes; then the peer's `score.py all`. scripts/accuracy_table.py scores every change.tif
# (changed = code not in {0, 255}) and prints the tables, also written to out/accuracy/accuracy.md.
# The labels are read from SHARED_DIR, never copied; nothing is written there.
#
# Needs the peer's Python environment (PEER_PYTHON overrides it):
#   python3 -m venv ~/.venvs/peer && ~/.venvs/peer/bin/pip install rasterio numpy scipy scikit-image
# Usage: scripts/accuracy.sh [SHARED_DIR]     (default: ../shared beside the checkout)
set -euo pipefail

# Methods run besides the default (which runs without --method, whatever the default is).
METHODS="combined cva postclass dndvi dbsi dndbi"

cd "$(dirname "$0")/.."
shared="${1:-../shared}"
py="${PEER_PYTHON:-$HOME/.venvs/peer/bin/python}"
out="out/accuracy"
die() { echo "accuracy.sh: $*" >&2; exit 1; }
[ -d "$shared/data" ] || die "no $shared/data: pass the shared folder as the first argument"
[ -f "$shared/peer/score.py" ] || die "no $shared/peer/score.py (the peer pipeline)"
[ -x "$py" ] || die "no Python at $py: create the peer's venv (see the top of this script) or set PEER_PYTHON"
"$py" -c "import rasterio, numpy, scipy, skimage" 2>/dev/null || die "$py lacks rasterio/numpy/scipy/scikit-image"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" PYTHONDONTWRITEBYTECODE=1
start=$SECONDS

cargo build --release --quiet --example enforce
bin=target/release/examples/enforce
rm -rf "$out" && mkdir -p "$out"

# run SCENE RUN ARGS...: one enforce run into $out/SCENE/RUN, its log beside it.
run() {
  local dir="$out/$1/$2"; shift 2
  mkdir -p "$dir"
  if ! "$bin" --before "$t1" --after "$t2" --out "$dir" "$@" >"$dir/enforce.log" 2>&1; then
    tail -n 20 "$dir/enforce.log" >&2
    die "enforce failed: $* (log: $dir/enforce.log)"
  fi
}

scenes=$("$py" scripts/accuracy_table.py scenes "$shared/data")
[ -n "$scenes" ] || die "no labelled scene under $shared/data"
while IFS=$'\t' read -r name sensor kind t1 t2; do
  echo "== landwatch: $name ($sensor)"
  run "$name" default --sensor "$sensor"
  for m in $METHODS; do run "$name" "$m" --sensor "$sensor" --method "$m"; done
  if [ "$kind" = oscd ]; then run "$name" gf4 --sensor gf-4band; fi
done <<<"$scenes"

echo "== peer pipeline (score.py all) on the same scenes"
mkdir -p "$out/peer"
"$py" "$shared/peer/score.py" all --shared "$shared/data" --out "$out/peer" \
  --results "$out/peer/RESULTS.md" --repeat 1 >"$out/peer/score.log" 2>&1 ||
  { tail -n 20 "$out/peer/score.log" >&2; die "the peer pipeline failed (log: $out/peer/score.log)"; }

echo
"$py" scripts/accuracy_table.py report "$shared/data" "$out" "$METHODS"
echo
echo "wrote $out/accuracy.md in $((SECONDS - start)) s"
