#!/bin/bash
# Runs one shard of the bundled Taizhou job as many duplicates at once, again and again, the
# way a batch engine's retries and speculative copies would, and counts the runs that fail
# and the staging folders or lock files left behind. Both must be 0.
#
#   scripts/shard-duplicates.sh [LANDWATCH] [ROUNDS] [DUPLICATES]
#
# Defaults: target/release/landwatch, 30 rounds, 8 duplicates. One-row strips make each
# shard write for a while, so the duplicates overlap.
set -euo pipefail
bin=${1:-target/release/landwatch}
rounds=${2:-30}
copies=${3:-8}
data=data/landsat_taizhou
zones=$data/illustrative
out=$(mktemp -d /tmp/landwatch-duplicates.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$bin" -q plan --before "$data/Taizhou_t1.tif" --after "$data/Taizhou_t2.tif" \
    --sensor landsat-dn --regions "$zones/counties.geojson" --region-field code \
    --zones "basic_farmland=$zones/basic_farmland.geojson" \
    --zones "eco_redline=$zones/eco_redline.geojson" \
    --zones "urban_boundary=$zones/urban_boundary.geojson" \
    --tile-size 1 --out "$out/job" --shards 3 >/dev/null
failed=0
for _ in $(seq "$rounds"); do
    rm -rf "$out"/job/shards/s00001-* "$out"/job/shards/.s00001-*
    pids=()
    for _ in $(seq "$copies"); do
        "$bin" -q shard --manifest "$out/job/manifest.json" --index 1 2>>"$out/errors" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=$((failed + 1))
    done
done
left=$(find "$out/job/shards" -mindepth 1 -maxdepth 1 -name '.*' | wc -l)
echo "$failed of $((rounds * copies)) runs failed; $left staging folders or lock files left"
sort "$out/errors" | uniq -c | head -5
[ "$failed" -eq 0 ] && [ "$left" -eq 0 ]
