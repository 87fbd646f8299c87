#!/bin/bash
# The measured figures of docs/SCALE-OUT.md, on a mirror-tiled Sentinel-2 pair (see
# scripts/bench-job-vs-peer.sh for how /tmp/peer-big is made):
#   scripts/scale-out-figures.sh [BEFORE AFTER] [SHARDS]
# Prints: the single run (wall, peak memory), one shard on one core and on every core
# (per-core throughput), every shard and the merge (wall, peak memory), the sizes of the
# inputs, the shards' files and the outputs, and whether the merge equals the single run.
set -euo pipefail
BEFORE=${1:-/tmp/peer-big/beihai_mirror_8000_t1.tif}
AFTER=${2:-/tmp/peer-big/beihai_mirror_8000_t2.tif}
SHARDS=${3:-16}
LW=${LANDWATCH:-target/release/landwatch}
WORK=${WORK:-/tmp/scale-out-figures}
ARGS=(--before "$BEFORE" --after "$AFTER" --sensor sentinel2-l1c)
rm -rf "$WORK"; mkdir -p "$WORK"
t() { /usr/bin/time -f "$1 wall %e s, user %U s, peak %M KB" "${@:2}"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
     "$(grep -o -m1 -w 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
t "single run" "$LW" -q enforce "${ARGS[@]}" --out "$WORK/single"
t "plan" "$LW" -q plan "${ARGS[@]}" --out "$WORK/sharded" --shards "$SHARDS" > "$WORK/count"
N=$(cat "$WORK/count")
M="$WORK/sharded/manifest.json"
MID=$((N / 2))
PX=$(python3 -c "import json; m=json.load(open('$M')); s=m['shards'][$MID]; print((s['rows'][1]-s['rows'][0])*m['width'])")
echo "shards: $N; shard $MID holds $PX pixels"
RAYON_NUM_THREADS=1 t "shard $MID on 1 core" "$LW" -q shard --manifest "$M" --index "$MID"
rm -rf "$WORK/sharded/shards"
start=$(date +%s.%N)
seq 0 $((N - 1)) | xargs -P "$(nproc)" -I{} /usr/bin/time -f "shard {} wall %e s, peak %M KB" \
    env RAYON_NUM_THREADS=1 "$LW" -q shard --manifest "$M" --index {} 2>&1 | sort -t' ' -k2 -n
shards_done=$(date +%s.%N)
t "merge" "$LW" -q merge --manifest "$M"
end=$(date +%s.%N)
echo "shards (one core each, $(nproc) at a time) wall $(echo "$shards_done - $start" | bc) s; with the merge $(echo "$end - $start" | bc) s"
echo "sizes: inputs $(du -cb "$BEFORE" "$AFTER" | tail -1 | cut -f1) B;" \
     "shards $(du -sb "$WORK/sharded/shards" | cut -f1) B;" \
     "outputs $(du -sb --exclude=shards --exclude=manifest.json "$WORK/sharded" | cut -f1) B"
for f in change.tif patches.tif class_before.tif class_after.tif patches.csv patches.geojson patches.shp patches.dbf patches.gpkg quicklook.png; do
    cmp -s "$WORK/single/$f" "$WORK/sharded/$f" && echo "same $f" || echo "DIFFERENT $f"
done
