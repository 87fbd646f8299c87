#!/usr/bin/env bash
# The whole enforcement job against the Python peer pipeline, back to back on this machine:
# for each size, three `enforce` runs and one peer run under /usr/bin/time, on the real
# Sentinel-2 Beihai pair mirror-tiled by the peer's own builder (scale.build_big).
#
#   scripts/bench-job-vs-peer.sh [SIZE ...]          (default: 16000 8000)
#
# Needs ../shared/peer and ../shared/data (not in this repository), the peer's virtualenv
# (PEER_PYTHON, default ~/.venvs/peer/bin/python; see ../shared/peer/README.md) and GNU time.
# Pairs go to WORK (default /tmp/peer-big; 3.8 GB for 16000²). Prints one line per run and
# each landwatch run's stages; the peer's own stage table is in WORK/peer<SIZE>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
peer_dir=$(cd ../shared/peer && pwd)
data=$(cd ../shared/data/oscd_beihai && pwd)
python=${PEER_PYTHON:-$HOME/.venvs/peer/bin/python}
work=${WORK:-/tmp/peer-big}
mkdir -p "$work"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cargo build --release --example enforce 2>&1 | tail -1
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(16000 8000)
for s in "${sizes[@]}"; do
  for t in t1 t2; do
    f="$work/beihai_mirror_${s}_$t.tif"
    [ -s "$f" ] || (cd "$peer_dir" && "$python" -c "import sys, scale; scale.build_big(sys.argv[1], sys.argv[2], int(sys.argv[3]), 'ALL_CPUS')" \
      "$data/beihai_${t}_B02_B03_B04_B08_B11_B12_10m.tif" "$f" "$s")
  done
  # Both tools read from the page cache: the peer's 15 GB run evicts it, and the peer itself
  # runs right after landwatch has read the same files.
  cat "$work/beihai_mirror_${s}_t1.tif" "$work/beihai_mirror_${s}_t2.tif" > /dev/null
  for i in 1 2 3; do
    /usr/bin/time -f "landwatch $s² run $i: %e s wall, %M KB peak RSS" target/release/examples/enforce \
      --before "$work/beihai_mirror_${s}_t1.tif" --after "$work/beihai_mirror_${s}_t2.tif" \
      --out "$work/landwatch$s" --sensor sentinel2-l1c > /dev/null
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("  stages:", {k: round(v, 2) for k, v in d["stages_seconds"].items()}, "patches:", d["patch_count"])' \
      "$work/landwatch$s/summary.json"
  done
  (cd "$peer_dir" && /usr/bin/time -f "peer $s²: %e s wall, %M KB peak RSS" "$python" pipeline.py \
    "$work/beihai_mirror_${s}_t1.tif" "$work/beihai_mirror_${s}_t2.tif" --out "$work/peer$s" --scale 1e-4 \
    > "$work/peer$s.log")
done
