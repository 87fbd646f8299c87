#!/usr/bin/env bash
# Change-detection accuracy of every landwatch method with default settings, next to the peer
# pipeline (rasterio + numpy + scipy) on the same scenes, scored by the same code, raw and
# after the same post-processing (3x3 opening + sieve < 20 px).
#
# Needs the shared data beside the checkout (the Beihai label is CC BY-NC-SA and is read from
# there, never copied) and the peer's Python environment:
#   python3 -m venv ~/.venvs/peer && ~/.venvs/peer/bin/pip install rasterio numpy scipy scikit-image
# Usage: scripts/accuracy.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${1:-../shared}"
py="${PEER_PYTHON:-$HOME/.venvs/peer/bin/python}"
out="out/accuracy"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo build --release --quiet --example accuracy
bin=target/release/examples/accuracy
beihai="$shared/data/oscd_beihai"

echo "== landwatch, Taizhou (Landsat 7 DN, sparse reference)"
"$bin" --write "$out/taizhou"
echo "== landwatch, Beihai (Sentinel-2 L1C, OSCD reference)"
"$bin" --sensor sentinel2-l1c --dense --write "$out/beihai" \
  --before "$beihai/beihai_t1_B02_B03_B04_B08_B11_B12_10m.tif" \
  --after "$beihai/beihai_t2_B02_B03_B04_B08_B11_B12_10m.tif" \
  --reference "$beihai/beihai_change_0no_1yes.tif"

echo "== landwatch masks scored by the peer's code, raw and after the peer's post-processing"
echo "-- Taizhou"
"$py" scripts/score_postprocessed.py "$shared/peer" \
  "$shared/data/landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif" \
  "$out"/taizhou/change_*.tif
echo "-- Beihai"
"$py" scripts/score_postprocessed.py "$shared/peer" "$beihai/beihai_change_0no_1yes.tif" \
  "$out"/beihai/change_*.tif

echo "== the peer pipeline on the same scenes (its own methods, raw and post)"
"$py" "$shared/peer/score.py" all --shared "$shared/data" --out "$out/peer" \
  --results "$out/peer-RESULTS.md" --repeat 1 | grep -E "F1 raw"
