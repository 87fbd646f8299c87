#!/usr/bin/env bash
# Runs a fixed set of configurations of two built commands (the enforce and index examples of
# one commit) into OUTROOT, for a byte-for-byte A/B of a refactoring against the commit
# before (compare two roots with scripts/ab-compare.sh):
#   scripts/ab-outputs.sh ENFORCE INDEX OUTROOT        (BIG=1 adds the 8000² Beihai job,
#                                                      which needs /tmp/peer-big from
#                                                      scripts/bench-job-vs-peer.sh)
# Every run writes into the same scratch path (RUN, default /tmp/ab-run) so that the paths
# printed and recorded are the same for both commits; the result is then moved to OUTROOT.
# Taizhou with every method on the CPU and on the GPU (lavapipe counts), strips of 37 rows,
# and five catalogue indices and a formula on the Sentinel-2 stack.
set -euo pipefail
E=$(realpath "$1"); I=$(realpath "$2"); FINAL=$3; R=${RUN:-/tmp/ab-run}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cd "$(dirname "$0")/.."
rm -rf "$R"; mkdir -p "$R"
T=data/landsat_taizhou
run() { name=$1; shift; "$E" "$@" --out "$R/$name" > "$R/$name.stdout" 2>&1 || echo "FAIL $name"; }
"$E" > "$R/default.stdout" 2>&1 && cp -r out/enforce "$R/default"
for m in contextual combined cva postclass dndvi dbsi dndbi; do
  for b in cpu gpu; do
    run "taizhou_${m}_$b" --before $T/Taizhou_t1.tif --after $T/Taizhou_t2.tif --sensor landsat-dn --method $m --backend $b --raw-change \
      --zones basic_farmland=$T/illustrative/basic_farmland.geojson --regions $T/illustrative/counties.geojson --region-field code
  done
done
run taizhou_tile_gpu --before $T/Taizhou_t1.tif --after $T/Taizhou_t2.tif --sensor landsat-dn --backend gpu --tile-size 37
run taizhou_tile_cpu --before $T/Taizhou_t1.tif --after $T/Taizhou_t2.tif --sensor landsat-dn --backend cpu --tile-size 37
for b in cpu gpu; do
  for n in NDVI EVI SAVI NDBI MNDWI; do
    "$I" --input data/sentinel2_arid/s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif --sensor sentinel2-l2a --name $n --backend $b --out "$R/idx_${n}_$b.tif" >/dev/null 2>&1 || echo FAIL idx $n $b
  done
  "$I" --input data/sentinel2_arid/s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif --formula "where(N > R, sqrt(abs(N-R))/(N+R+0.1), min(S1,S2)**2)" --backend $b --out "$R/idx_formula_$b.tif" >/dev/null 2>&1 || echo FAIL formula $b
done
if [ "${BIG:-0}" = 1 ]; then
  /usr/bin/time -f "big: %e s" "$E" --before /tmp/peer-big/beihai_mirror_8000_t1.tif --after /tmp/peer-big/beihai_mirror_8000_t2.tif --sensor sentinel2-l1c --out "$R/big8000" > "$R/big8000.stdout"
fi
rm -rf "$FINAL"; mv "$R" "$FINAL"
