#!/usr/bin/env bash
# Re-runs the attack of issue 15 on the `enforce` and `index` CLIs and reports every case.
#
#   scripts/attack.sh                 build (release), run every case, print the table
#   ATTACK_ONLY='^(raster|vec)-' scripts/attack.sh    only the cases whose id matches
#
# One line per case:  case-id | what | expected | observed | PASS/FAIL/SKIP
# then a summary; the exit status is 1 when any case failed, 0 otherwise.
#
# What every case expects of a hardened tool:
#   - a bad input or command line gets exit 2 (an I/O failure during the run 74, an internal
#     one 1, a folder busy with another job 75), never a panic, a signal or a timeout, and a message that names the file (or the flag) at fault, without
#     Rust Debug text (Some(..), None, `Name { field: .. }`);
#   - a refused or failed run into a folder holding a good run leaves every file there
#     byte-identical and adds nothing (hidden files included; only `.landwatch.lock` may
#     appear or change);
#   - no hidden or temp leftovers after any run that exited (SIGINT and SIGTERM included);
#     after kill -9 the next run into the folder succeeds and leaves none;
#   - concurrent jobs into one folder never leave a mixed set;
#   - planted symlinks are never followed; an output path equal to an input is refused;
#   - CSV cells are never spreadsheet formulas.
#
# Needs: cargo, python3 with GDAL and numpy (ATTACK_PYTHON, default /usr/bin/python3),
# coreutils timeout. The full-disk and read-only cases need root (mount, chattr, setpriv)
# and report SKIP where that is not permitted.
#
# Environment: ATTACK_TIMEOUT (s per run, 120), ATTACK_BACKEND (cpu), ATTACK_BIG (side of the
# mirror-tiled pair used for interrupted and concurrent runs, 4000: about 5 s a job on 2 cores),
# ATTACK_KEEP=1 (keep the scratch folder, with every case's stdout and stderr), ATTACK_ONLY
# (regex of case ids), ATTACK_REPORT (a file to copy the table to).
#
# Cases against index (ids index-*, idx-*) run the same attack on its one output file: it is
# written through a temporary .ndvi.tif.tmp-* and renamed, so the same rules apply.

set -u -o pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
PY=${ATTACK_PYTHON:-/usr/bin/python3}
[[ -x $PY ]] || PY=python3
TO=${ATTACK_TIMEOUT:-120}
BACKEND=${ATTACK_BACKEND:-cpu}
BIG_N=${ATTACK_BIG:-4000}
ONLY=${ATTACK_ONLY:-}
HELPERS=$ROOT/scripts/attack
CHECK=("$PY" "$HELPERS/check.py")

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Build, scratch folder, inputs

log "attack: building the examples (release)..."
cargo build --release --example enforce --example index >&2 || { log "attack: build failed"; exit 2; }
TARGET=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') || exit 2
ENF=$TARGET/release/examples/enforce
IDX=$TARGET/release/examples/index
[[ -x $ENF && -x $IDX ]] || { log "attack: $ENF or $IDX missing after the build"; exit 2; }

TMPBASE=${TMPDIR:-/tmp}
S=$(mktemp -d "$TMPBASE/landwatch-attack.XXXXXX") || exit 2
chmod 755 "$S" # the read-only case runs the CLI as an unprivileged user
MOUNTS=()
IMMUTABLE=()
BGPIDS=()

cleanup() {
    local i p
    for p in "${BGPIDS[@]}"; do
        pkill -9 -P "$p" 2>/dev/null # the CLI under this timeout, then the timeout
        kill -9 "$p" 2>/dev/null
    done
    for ((i = ${#IMMUTABLE[@]} - 1; i >= 0; i--)); do chattr -i "${IMMUTABLE[i]}" 2>/dev/null; done
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null; done
    if [[ ${ATTACK_KEEP:-0} == 1 ]]; then
        log "attack: scratch folder kept: $S"
    else
        rm -rf --one-file-system "$S"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "attack: scratch folder $S; generating the malformed inputs..."
"$PY" "$HELPERS/make_inputs.py" "$ROOT" "$S/inputs" || { log "attack: make_inputs.py failed"; exit 2; }
R=$S/inputs/rasters
V=$S/inputs/vectors
DATA=$ROOT/data/landsat_taizhou
ILL=$DATA/illustrative
T1=$DATA/Taizhou_t1.tif
T2=$DATA/Taizhou_t2.tif

key=$(cat "$T1" "$T2" "$HELPERS/make_inputs.py" | sha256sum | cut -c1-12)
BIG=$TMPBASE/landwatch-attack-cache/big-$BIG_N-$key
for old in "$TMPBASE"/landwatch-attack-cache/big-*; do
    [[ -d $old && $old != "$BIG" ]] && rm -rf "$old" # pairs made by an older generator
done
log "attack: mirror-tiled ${BIG_N}x$BIG_N pair (cached in $BIG)..."
"$PY" "$HELPERS/make_inputs.py" --big "$ROOT" "$BIG_N" "$BIG" || { log "attack: big pair failed"; exit 2; }

# The names a run of the demo job may create (change_raw.tif with --raw-change).
OUTPUTS=(class_before.tif class_after.tif change.tif patches.tif patches.geojson patches.csv
    regions.csv summary.json quicklook.png report.html change_raw.tif)
# Files that are byte-identical across runs of one job (summary.json and report.html hold timings).
DETERMINISTIC=(class_before.tif class_after.tif change.tif patches.tif patches.geojson patches.csv
    regions.csv quicklook.png)

# base KEY=VALUE...: sets ARGS to the demo job (as `fn demo` in examples/enforce.rs), with
# overrides: before after sensor farm eco urban regions field (an empty value drops the option).
base() {
    local before=$T1 after=$T2 sensor=landsat-dn field=code
    local farm=$ILL/basic_farmland.geojson eco=$ILL/eco_redline.geojson
    local urban=$ILL/urban_boundary.geojson regions=$ILL/counties.geojson kv
    for kv in "$@"; do local "${kv%%=*}=${kv#*=}"; done
    ARGS=(--before "$before" --after "$after")
    [[ -n $sensor ]] && ARGS+=(--sensor "$sensor")
    [[ -n $farm ]] && ARGS+=(--zones "basic_farmland=$farm")
    [[ -n $eco ]] && ARGS+=(--zones "eco_redline=$eco")
    [[ -n $urban ]] && ARGS+=(--zones "urban_boundary=$urban")
    [[ -n $regions ]] && ARGS+=(--regions "$regions" --region-field "$field")
    ARGS+=(--backend "$BACKEND")
}

# ---------------------------------------------------------------------------------------------
# Running and judging

NPASS=0
NFAIL=0
NSKIP=0
TABLE=$S/table.txt
: >"$TABLE"

want() { [[ -z $ONLY || $1 =~ $ONLY ]]; }

now_us() { local t=${EPOCHREALTIME/./}; printf '%s' "$((10#$t))"; }

# run_cli DIR TIMEOUT CMD...: runs CMD with a timeout, stdout and stderr into DIR; sets RC, SECS.
run_cli() {
    local dir=$1 to=$2
    shift 2
    local t0
    t0=$(now_us)
    TO_USED=$to
    # (in a subshell whose stderr is dropped: bash's own "Aborted" or "Killed" notices)
    (timeout -k 5 "$to" "$@" >"$dir/stdout" 2>"$dir/stderr" </dev/null) 2>/dev/null
    RC=$?
    SECS=$(((($(now_us) - t0) + 50000) / 100000))
    SECS="$((SECS / 10)).$((SECS % 10))"
}

# newcase ID [good|index|empty|none [NAME]]: a case folder C, its output folder OUT=C/NAME
# (default out: a copy of the good demo run or of the index run, empty, or absent) and SNAP,
# the snapshot of OUT before the run.
newcase() {
    C=$S/cases/$1
    OUT=$C/${3:-out}
    mkdir -p "$C"
    case ${2:-good} in
        good) cp -a "$GOOD" "$OUT" ;;
        index) cp -a "$GOOD_INDEX" "$OUT" ;;
        empty) mkdir -p "$OUT" ;;
        none) ;;
    esac
    SNAP=$C/before.snap
    if [[ -d $OUT ]]; then "${CHECK[@]}" snap "$OUT" >"$SNAP"; else : >"$SNAP"; fi
    PROBS=()
    NOTE=
    : >"$C/stdout"
    : >"$C/stderr"
    RC=
    SECS=0
}

# The first line of the run's messages worth showing, made safe for the table.
message() {
    local f line
    for f in "$C/stderr" "$C/stdout"; do
        line=$(grep -m1 -i -E 'error|refus|warn|panicked|cannot|invalid|not |denied|abort' "$f")
        [[ -n $line ]] && break
    done
    [[ -z $line ]] && line=$(grep -m1 -v '^[[:space:]]*$' "$C/stderr")
    line=${line//"$S/"/} # paths relative to the scratch folder (inputs/..., cases/...)
    line=${line//"$ROOT/"/}
    line=${line//|//}
    line=${line//$'\t'/ }
    line=${line//$'\r'/ }
    printf '%s' "${line:0:170}"
}

# expect_exit CODE...: the exit status is one of CODEs.
expect_exit() {
    local c why
    for c in "$@"; do [[ $RC == "$c" ]] && return 0; done
    why="exit $RC"
    if [[ $RC == 124 || $RC == 137 ]]; then
        why+=" (timed out after ${TO_USED:-$TO}s)"
    elif [[ $RC == 101 ]]; then
        why+=" (panic)"
    elif ((RC > 128)); then
        # 128+N: killed by signal N, or the program's own exit code (130 is enforce's
        # "interrupted"); the status alone cannot tell which.
        why+=" (128+$((RC - 128)), as for SIG$(kill -l $((RC - 128)) 2>/dev/null || echo '?'))"
    fi
    PROBS+=("$why, expected $(IFS=/; printf '%s' "$*")")
}

# no_panic: nothing panicked.
no_panic() {
    local line
    line=$(grep -h -m1 'panicked at' "$C/stderr" "$C/stdout" | head -n1)
    if [[ -n $line ]]; then
        line=$(grep -h -A1 -m1 'panicked at' "$C/stderr" | tail -n1)
        PROBS+=("panicked: ${line:0:100}")
    fi
}

# names 'a|b|c': the messages (stderr, stdout) name one of a, b, c.
names() {
    local IFS='|' n
    for n in $1; do
        grep -q -F -- "$n" "$C/stderr" "$C/stdout" && return 0
    done
    PROBS+=("message does not name ${1%%|*}")
}

# no_debug: no Rust Debug text in the messages.
DEBUG_RE='Some\(|(found|=|:|is|was|got) None\b|\bNone[,)}]|[A-Za-z_]+ \{ [a-z_]+: '
no_debug() {
    local m
    m=$(grep -h -o -m1 -E "$DEBUG_RE" "$C/stderr" "$C/stdout" | head -n1)
    [[ -n $m ]] && PROBS+=("Debug text in message ('$m')")
}

# unchanged: OUT is as snapshotted in SNAP.
unchanged() {
    local now=$C/after.snap d
    if [[ -d $OUT ]]; then "${CHECK[@]}" snap "$OUT" >"$now"; else : >"$now"; fi
    d=$("${CHECK[@]}" diff "$SNAP" "$now")
    [[ -n $d ]] && PROBS+=("folder changed: $d")
}

# no_leftovers DIR...: no hidden or temp entries directly in DIRs.
no_leftovers() {
    local l
    l=$("${CHECK[@]}" leftovers "$@" | head -n 4 | tr '\n' ' ')
    [[ -n $l ]] && PROBS+=("leftovers: ${l% }")
}

# complete_set [NAME...]: OUT holds a complete set of regular files (the demo's 10 by default).
complete_set() {
    local want_names=("$@") n missing=() odd
    ((${#want_names[@]})) || want_names=("${OUTPUTS[@]:0:10}")
    for n in "${want_names[@]}"; do [[ -e $OUT/$n || -L $OUT/$n ]] || missing+=("$n"); done
    ((${#missing[@]})) && PROBS+=("incomplete set, missing: ${missing[*]}")
    odd=$("${CHECK[@]}" regular "$OUT" "${want_names[@]}" change_raw.tif | sort -u | tr '\n' ' ')
    [[ -n $odd ]] && PROBS+=("not regular files: $odd")
}

# csv_clean: no CSV cell of OUT starts a spreadsheet formula.
csv_clean() {
    local bad
    bad=$("${CHECK[@]}" csv "$OUT"/*.csv | head -n 3 | tr '\n' ' ')
    [[ -n $bad ]] && PROBS+=("formula cells: ${bad% }")
}

# judge_refusal CODES NAMES: the run was refused cleanly.
judge_refusal() {
    local IFS='|'
    # shellcheck disable=SC2086
    expect_exit $1
    unset IFS
    no_panic
    names "$2"
    no_debug
    unchanged
    no_leftovers "$OUT" "$C"
}

# record ID WHAT EXPECTED VERDICT OBSERVED
record() {
    local line="$1 | $2 | $3 | $5 | $4"
    printf '%s\n' "$line" | tee -a "$TABLE"
    case $4 in
        PASS) NPASS=$((NPASS + 1)) ;;
        FAIL) NFAIL=$((NFAIL + 1)) ;;
        *) NSKIP=$((NSKIP + 1)) ;;
    esac
}

# finish ID WHAT EXPECTED: PASS when no problem was found, else FAIL with the problems.
finish() {
    local obs="exit $RC${SECS:+, ${SECS}s}${NOTE:+, $NOTE}"
    local msg
    msg=$(message)
    [[ -n $msg ]] && obs+=": \"$msg\""
    if ((${#PROBS[@]} == 0)); then
        record "$1" "$2" "$3" PASS "$obs"
    else
        local p all=""
        for p in "${PROBS[@]}"; do all+="${all:+; }$p"; done
        record "$1" "$2" "$3" FAIL "$obs => ${all//|//}"
    fi
}

skip() { record "$1" "$2" "$3" SKIP "$4"; }

# ecase ID WHAT CODES NAMES ENFORCE-ARGS...: enforce is refused (exit CODES, a message naming
# one of NAMES) into a folder holding a good run, which stays untouched.
ecase() {
    local id=$1 what=$2 codes=$3 nm=$4
    shift 4
    want "$id" || return 0
    newcase "$id" good
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "$@"
    judge_refusal "$codes" "$nm"
    finish "$id" "$what" "exit $codes, names ${nm%%|*}, folder untouched"
}

# icase ID WHAT CODES NAMES INDEX-ARGS...: the same for index, into a folder holding ndvi.tif.
icase() {
    local id=$1 what=$2 codes=$3 nm=$4
    shift 4
    want "$id" || return 0
    newcase "$id" index
    run_cli "$C" "$TO" "$IDX" --out "$OUT/ndvi.tif" "$@"
    judge_refusal "$codes" "$nm"
    finish "$id" "$what" "exit $codes, names ${nm%%|*}, folder untouched"
}

# wcase ID WHAT NAMES ENFORCE-ARGS...: refused (exit 2) as in ecase, or run (exit 0) with a
# warning naming one of NAMES (the layer or its file) and a complete set.
wcase() {
    local id=$1 what=$2 nm=$3
    shift 3
    want "$id" || return 0
    newcase "$id" good
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "$@"
    if [[ $RC == 0 ]]; then
        local IFS='|' n ok=
        for n in $nm; do
            grep -h -i 'warn' "$C/stderr" "$C/stdout" | grep -v -E '^ *WARNING region' | grep -q -F -- "$n" && ok=1
        done
        unset IFS
        [[ -n $ok ]] || PROBS+=("exit 0 without a warning naming ${nm%%|*}")
        no_panic
        no_debug
        complete_set
        no_leftovers "$OUT" "$C"
    else
        judge_refusal 2 "$nm"
    fi
    finish "$id" "$what" "exit 2 naming ${nm%%|*} (untouched), or exit 0 with a warning naming it"
}

# ---------------------------------------------------------------------------------------------
# References: the demo job into fresh folders, twice, and ndvi.tif of index.

mkdir -p "$S/ref"
GOOD=$S/ref/good
base
C=$S/ref
run_cli "$S/ref" "$TO" "$ENF" --out "$GOOD" "${ARGS[@]}"
if [[ $RC != 0 ]]; then
    log "attack: the demo job failed (exit $RC); no case can be judged:"
    cat "$S/ref/stderr" >&2
    exit 2
fi
GOOD_PATCHES=$("${CHECK[@]}" patches "$S/ref/stdout")
"${CHECK[@]}" snap "$GOOD" >"$S/ref/good.snap"
GOOD_INDEX=$S/ref/index
mkdir -p "$GOOD_INDEX"
run_cli "$S/ref" "$TO" "$IDX" --input "$T1" --sensor landsat-dn --name NDVI --out "$GOOD_INDEX/ndvi.tif"
if [[ $RC != 0 ]]; then
    log "attack: index on the Taizhou stack failed (exit $RC):"
    cat "$S/ref/stderr" >&2
    exit 2
fi

printf '%s\n' "case-id | what | expected | observed | verdict" | tee -a "$TABLE"

# ---------------------------------------------------------------------------------------------
# Bad arguments: exit 2 and a message naming the flag, folder untouched.

# NAMES is the flag; for an unknown value the value itself also counts as named.
arg() { # ID WHAT NAMES ARG...
    local id=$1 what=$2 flag=$3
    shift 3
    base
    ecase "$id" "$what" 2 "$flag" "${ARGS[@]}" "$@"
}
arg arg-tile-size-0 "--tile-size 0" --tile-size --tile-size 0
arg arg-tile-size-1e9 "--tile-size 1000000000" --tile-size --tile-size 1000000000
arg arg-tile-size-u64max "--tile-size 18446744073709551615" --tile-size --tile-size 18446744073709551615
arg arg-tile-size-neg "--tile-size -1" --tile-size --tile-size -1
arg arg-min-area-neg "--min-area-m2 -5" --min-area-m2 --min-area-m2 -5
arg arg-min-area-nan "--min-area-m2 NaN" --min-area-m2 --min-area-m2 NaN
arg arg-min-area-inf "--min-area-m2 inf" --min-area-m2 --min-area-m2 inf
arg arg-warning-share-2 "--warning-share 2" --warning-share --warning-share 2
arg arg-warning-share-neg "--warning-share -1" --warning-share --warning-share -1
arg arg-warning-share-nan "--warning-share NaN" --warning-share --warning-share NaN
arg arg-zones-duplicate "--zones basic_farmland=... twice" "--zones|basic_farmland" --zones "basic_farmland=$ILL/eco_redline.geojson"
arg arg-zones-no-eq "--zones without NAME=" --zones --zones "$ILL/eco_redline.geojson"
arg arg-unknown-flag "unknown flag --frobnicate" --frobnicate --frobnicate 1
arg arg-missing-value "--region-field without a value (last)" --region-field --region-field
arg arg-unknown-sensor "--sensor landsat-42" "--sensor|landsat-42" --sensor landsat-42
arg arg-unknown-method "--method nope" "--method|nope" --method nope
arg arg-unknown-backend "--backend quantum" "--backend|quantum" --backend quantum
arg arg-context-unknown "--context no_such_setting=1" "--context|no_such_setting" --context no_such_setting=1
arg arg-seed-sigma-nan "--seed-sigma NaN" --seed-sigma --seed-sigma NaN
arg arg-max-pixels-text "--max-pixels lots" --max-pixels --max-pixels lots
arg arg-bands-unknown "--bands red,nope" "--bands|nope" --bands red,nope
if want arg-scale-alone; then
    base
    ecase arg-scale-alone "--scale without --offset" 2 "--scale" "${ARGS[@]}" --scale 0.0001
fi
if want arg-no-out; then
    base
    newcase arg-no-out good
    run_cli "$C" "$TO" "$ENF" "${ARGS[@]}"
    judge_refusal 2 "--out"
    finish arg-no-out "no --out" "exit 2, names --out, folder untouched"
fi
icase arg-index-unknown-flag "index: unknown flag" 2 "--frobnicate" --input "$T1" --name NDVI --frobnicate 1
icase arg-index-missing-value "index: --name without a value (last)" 2 "--name" --input "$T1" --name
icase arg-index-unknown-name "index: --name NOPE" 2 "--name|NOPE" --input "$T1" --name NOPE
icase arg-index-unknown-sensor "index: --sensor nope" 2 "--sensor|nope" --input "$T1" --sensor nope --name NDVI
icase arg-index-set-nan "index: --set L=NaN" 2 "--set|L = NaN|L=NaN" --input "$T1" --name SAVI --set L=NaN
icase arg-index-formula "index: --formula '(N - R'" 2 "--formula|(N - R" --input "$T1" --formula "(N - R"
if want arg-index-no-out; then
    newcase arg-index-no-out index
    run_cli "$C" "$TO" "$IDX" --input "$T1" --name NDVI
    judge_refusal 2 "--out"
    finish arg-index-no-out "index: no --out" "exit 2, names --out, folder untouched"
fi

# ---------------------------------------------------------------------------------------------
# Malformed rasters, as the before image (or where noted), through enforce; exit 2 naming the
# file, folder untouched.

rcase() { # ID WHAT NAMES [base overrides...]; NAMES: the file(s) at fault, 'a.tif|b.tif'
    local id=$1 what=$2 nm=$3
    shift 3
    base "$@"
    ecase "$id" "$what" 2 "$nm" "${ARGS[@]}"
}
rbefore() { rcase "$1" "$2" "$3" before="$R/$3"; } # ID WHAT FILE

rbefore raster-empty "empty file" empty.tif
rbefore raster-text "text file named .tif" text.tif
rbefore raster-garbage "64 KiB of random bytes" garbage.tif
rbefore raster-png "PNG named .tif" png.tif
rbefore raster-directory "a directory as the before image" directory.tif
rbefore raster-missing "missing before image" no_such_file.tif
rbefore raster-trunc-4 "truncated at 4 bytes" trunc_4.tif
rbefore raster-trunc-100 "truncated at 100 bytes" trunc_100.tif
rbefore raster-trunc-half "truncated at half" trunc_half.tif
rbefore raster-trunc-ifd "truncated inside the IFD" trunc_in_ifd.tif
rbefore raster-trunc-offsets "truncated inside the strip offsets" trunc_in_offsets.tif
rbefore raster-bad-magic "BigTIFF magic on a classic header" bad_magic.tif
rbefore raster-ifd-eof "IFD offset beyond the end" ifd_beyond_eof.tif
rbefore raster-ifd-count "bit flips in the IFD entry count" ifd_bitflip_count.tif
rbefore raster-ifd-types "bit flips in IFD field types" ifd_bitflip_types.tif
rbefore raster-strips-eof "strip offsets beyond the end" strips_beyond_eof.tif
rbefore raster-bytecounts "strip byte counts 0xFFFFFFF0" bytecounts_huge.tif
rbefore raster-deflate "corrupt deflate streams" deflate_corrupt.tif
rbefore raster-zero-width "ImageWidth 0" zero_width.tif
rbefore raster-zero-height "ImageLength 0" zero_height.tif
rbefore raster-absurd-dims "65535x65535 declared, 400x400 stored" absurd_dims.tif
rbefore raster-cint16 "complex int16 samples" complex_cint16.tif
rbefore raster-cfloat32 "complex float32 samples" complex_cfloat32.tif
rbefore raster-sampleformat-void "SampleFormat 4 (undefined)" sampleformat_void.tif
rbefore raster-float8 "8-bit IEEE float samples" float8.tif
rbefore raster-nodata-all "every pixel nodata" nodata_all.tif
rcase raster-nan-bands "NaN-filled float32 bands" nan_bands.tif before="$R/nan_bands.tif" after="$R/t2_float32_dn.tif"
rcase raster-after-trunc "after image truncated at half" trunc_half.tif after="$R/trunc_half.tif"
rcase raster-after-missing "missing after image" no_such_after.tif after="$R/no_such_after.tif"
rcase raster-bands-4 "after has 4 bands, before 6" t2_4band.tif after="$R/t2_4band.tif"
rcase raster-bands-1 "after has 1 band" t2_1band.tif after="$R/t2_1band.tif"
rcase raster-grid-shift "after grid shifted by 33 pixels" t2_shifted.tif after="$R/t2_shifted.tif"
rcase raster-grid-size "after 399x400" t2_cropped.tif after="$R/t2_cropped.tif"
rcase raster-grid-pixel "after with 15 m pixels" t2_15m.tif after="$R/t2_15m.tif"
rcase raster-grid-crs "after in EPSG:32650, before 32651" t2_utm50.tif after="$R/t2_utm50.tif"
rcase raster-s2-bands "Sentinel-2 6 bands vs 4 bands" "s2_4band.tif|s2_6band.tif" before="$R/s2_6band.tif" after="$R/s2_4band.tif" \
    sensor=sentinel2-l2a farm= eco= urban= regions=
rcase raster-s2-grid "Sentinel-2 10 m vs 20 m grid" "s2_20m.tif|s2_4band.tif" before="$R/s2_4band.tif" \
    after="$R/s2_20m.tif" sensor= farm= eco= urban= regions=
rcase raster-nogeo "no georeferencing, GeoJSON zones" "t1_nogeo.tif|t2_nogeo.tif" before="$R/t1_nogeo.tif" after="$R/t2_nogeo.tif"
rcase raster-local-cs "LOCAL_CS CRS, GeoJSON zones" "t1_local_cs.tif|t2_local_cs.tif" before="$R/t1_local_cs.tif" after="$R/t2_local_cs.tif"
rcase raster-unknown-epsg "ProjectedCSType EPSG:32799 (does not exist)" "t1_epsg32799.tif|t2_epsg32799.tif" \
    before="$R/t1_epsg32799.tif" after="$R/t2_epsg32799.tif"
rcase raster-mask-grid "zone mask on another grid" mask_other_grid.tif farm="$R/mask_other_grid.tif"
rcase raster-mask-trunc "zone mask truncated" mask_truncated.tif farm="$R/mask_truncated.tif"
rcase raster-mask-missing "zone mask missing" no_such_mask.tif farm="$R/no_such_mask.tif"

# The tile-reuse bomb: 100000x100000 declared in 1.2 MB; refused quickly, citing the limit.
bomb() { # ID WHAT CLI
    local id=$1 what=$2 cli=$3
    want "$id" || return 0
    if [[ $cli == enforce ]]; then
        newcase "$id" good
        base before="$R/tile_bomb.tif" after="$R/tile_bomb.tif"
        run_cli "$C" 30 "$ENF" --out "$OUT" "${ARGS[@]}"
    else
        newcase "$id" index
        run_cli "$C" 30 "$IDX" --out "$OUT/ndvi.tif" --input "$R/tile_bomb.tif" --sensor landsat-dn --name NDVI
    fi
    judge_refusal 2 tile_bomb.tif
    grep -q -i -E 'max-pixels|limit' "$C/stderr" || PROBS+=("message does not mention the size limit (--max-pixels)")
    [[ ${SECS%.*} -lt 10 ]] || PROBS+=("took ${SECS}s to refuse")
    finish "$id" "$what" "exit 2 within 10 s, names the file and the size limit"
}
bomb raster-bomb "tile-reuse bomb 100000x100000 (enforce)" enforce
bomb raster-bomb-index "tile-reuse bomb 100000x100000 (index)" index

# A float32 stack holding DN values (0..255 where reflectance 0..1 is expected): refused or
# warned about, not a silent result. With --sensor landsat-dn the DN scaling may also simply
# apply: then the result is the demo's (the same patch count as the u8 stacks).
dn_case() { # ID WHAT SENSOR
    local id=$1 what=$2 sensor=$3
    want "$id" || return 0
    newcase "$id" good
    base before="$R/t1_float32_dn.tif" after="$R/t2_float32_dn.tif" sensor="$sensor"
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}"
    if [[ $RC == 0 ]]; then
        local n
        n=$("${CHECK[@]}" patches "$C/stdout")
        if ! grep -h -i 'warn' "$C/stderr" "$C/stdout" | grep -v -E '^ *WARNING region' |
            grep -q -i -E 'float|DN|reflectance|range|value|scale|t1_float32|t2_float32' &&
            ! [[ -n $sensor && $n == "$GOOD_PATCHES" ]]; then
            PROBS+=("exit 0 with $n patches (the u8 stacks give $GOOD_PATCHES) and no warning about the values")
        fi
        no_panic
        no_debug
        no_leftovers "$OUT" "$C"
    else
        judge_refusal 2 "t1_float32_dn.tif|t2_float32_dn.tif"
    fi
    finish "$id" "$what" "refused naming the file, or a warning, or (with the sensor) the u8 result"
}
dn_case raster-float32-dn "float32 stacks holding DN, no --sensor" ""
dn_case raster-float32-dn-sensor "float32 stacks holding DN, --sensor landsat-dn" landsat-dn

# The same malformed files through index.
for f in empty text garbage png directory trunc_4 trunc_100 trunc_half trunc_in_ifd trunc_in_offsets \
    bad_magic ifd_beyond_eof ifd_bitflip_count ifd_bitflip_types strips_beyond_eof bytecounts_huge \
    deflate_corrupt zero_width zero_height absurd_dims complex_cint16 complex_cfloat32 \
    sampleformat_void float8 no_such_file; do
    icase "index-${f//_/-}" "index --input $f.tif" 2 "$f.tif" --input "$R/$f.tif" --sensor landsat-dn --name NDVI
done

# ---------------------------------------------------------------------------------------------
# Bad vector files: exit 2 naming the file, folder untouched (or, for geometry types the job
# cannot use, a warning naming the layer).

vcase() { # ID WHAT FILE [base overrides; default: the farmland layer]
    local id=$1 what=$2 file=$3
    shift 3
    (($#)) || set -- farm="$V/$file"
    base "$@"
    ecase "$id" "$what" 2 "$file" "${ARGS[@]}"
}
vwarn() { # ID WHAT FILE: the farmland layer
    base farm="$V/$3"
    wcase "$1" "$2" "basic_farmland|$3" "${ARGS[@]}"
}
vcase vec-invalid-json "zones: JSON cut in half" invalid_json.geojson
vcase vec-binary "zones: binary bytes" binary.geojson
vcase vec-empty "zones: empty file" empty.geojson
vcase vec-array "zones: a JSON array" array.geojson
vcase vec-no-type "zones: an object without type" no_type.geojson
vcase vec-topology "zones: a TopoJSON Topology" topology.geojson
vcase vec-features-object "zones: features is an object" features_not_array.geojson
vwarn vec-points-only "zones: only a Point" points_only.geojson
vwarn vec-linestring "zones: polygons and a LineString" with_linestring.geojson
vwarn vec-point "zones: polygons and a Point" with_point.geojson
vwarn vec-geometrycollection "zones: polygons and a GeometryCollection" with_geometrycollection.geojson
vwarn vec-null-geometry "zones: polygons and a null geometry" with_null_geometry.geojson
vwarn vec-missing-coordinates "zones: polygons and a Polygon without coordinates" missing_coordinates.geojson
vcase vec-null-coordinates "zones: Polygon with null coordinates" null_coordinates.geojson
vcase vec-string-coordinates "zones: coordinates are strings" string_coordinates.geojson
vwarn vec-unclosed-ring "zones: a ring not closed" unclosed_ring.geojson
vwarn vec-two-point-ring "zones: a ring of 2 positions" two_point_ring.geojson
vcase vec-nan "zones: NaN coordinate (not JSON)" nan_coordinates.geojson
vwarn vec-huge "zones: coordinates of 1e308" huge_coordinates.geojson
vcase vec-crs-unknown "zones: crs urn:ogc:def:crs:EPSG::32799" crs_unknown_epsg.geojson
vcase vec-crs-garbage "zones: crs name 'not a crs at all'" crs_garbage.geojson
vcase vec-deep-nesting "zones: 100000 nested arrays" deep_nesting.geojson
vcase vec-directory "zones: a directory" directory.geojson
vcase vec-missing "zones: missing file" no_such_zones.geojson
vcase vec-regions-no-field "regions without the code field" regions_no_code.geojson regions="$V/regions_no_code.geojson"
vcase vec-regions-missing "regions: missing file" no_such_regions.geojson regions="$V/no_such_regions.geojson"
vcase vec-regions-empty "regions: empty file" empty.geojson regions="$V/empty.geojson"
vcase vec-regions-directory "regions: a directory" directory.geojson regions="$V/directory.geojson"
vcase vec-regions-invalid "regions: JSON cut in half" invalid_json.geojson regions="$V/invalid_json.geojson"

if want vec-many-vertices; then
    newcase vec-many-vertices good
    base farm="$V/many_vertices.geojson"
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}"
    if [[ $RC == 0 ]]; then
        no_panic
        complete_set
        no_leftovers "$OUT" "$C"
    else
        judge_refusal 2 many_vertices.geojson
    fi
    ((${SECS%.*} < 60)) || PROBS+=("took ${SECS}s")
    finish vec-many-vertices "zones: one ring of 200000 vertices" "exit 0 with a full set, or refused; under 60 s"
fi

# Region codes and zone names that are spreadsheet formulas: the run succeeds and no CSV cell
# starts with = + - @ TAB CR unless it is a plain number.
inject() { # ID WHAT ENFORCE-ARGS...
    local id=$1 what=$2
    shift 2
    want "$id" || return 0
    newcase "$id" empty
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "$@"
    expect_exit 0
    no_panic
    csv_clean
    no_leftovers "$OUT" "$C"
    finish "$id" "$what" "exit 0, CSV cells neutralised"
}
for k in eq hyperlink cmd at plus minus tab cr; do
    base regions="$V/regions_inject_$k.geojson"
    case $k in
        eq) w="region code =1+2" ;;
        hyperlink) w='region code =HYPERLINK("http://x","y")' ;;
        cmd) w="region code =cmd|' /C calc'!A0" ;;
        at) w="region code @SUM(1)" ;;
        plus) w="region code +1" ;;
        minus) w="region code -1+2" ;;
        tab) w="region code TAB=1+2" ;;
        cr) w="region code CR=1+2" ;;
    esac
    inject "csv-region-$k" "${w//|//}" "${ARGS[@]}"
done
if want csv-zone-name; then
    base farm=
    newcase csv-zone-name empty
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}" --zones "@SUM(1)=$ILL/basic_farmland.geojson"
    if [[ $RC == 0 ]]; then
        csv_clean
        no_leftovers "$OUT" "$C"
    else
        judge_refusal 2 "@SUM(1)|--zones"
    fi
    no_panic
    finish csv-zone-name "zone named @SUM(1)" "exit 0 with CSV cells neutralised, or refused naming it"
fi

# ---------------------------------------------------------------------------------------------
# Outputs over inputs: refused, the input (inside the output folder) unchanged.

# io_case ID WHAT SOURCE NAME KEY [FLAG...]: SOURCE stored as <out>/NAME and given to the job
# as its input KEY (see base); the job must refuse and leave the input unchanged.
io_case() {
    local id=$1 what=$2 src=$3 name=$4 key=$5
    shift 5
    want "$id" || return 0
    newcase "$id" good
    cp "$src" "$OUT/$name"
    "${CHECK[@]}" snap "$OUT" >"$SNAP"
    base "$key=$OUT/$name"
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}" "$@"
    judge_refusal 2 "$name"
    finish "$id" "$what" "refused, input unchanged"
}

io_case io-before-class-before "before image stored as <out>/class_before.tif" "$T1" class_before.tif before
if want io-after-alias; then
    newcase io-after-alias good
    cp "$T2" "$OUT/class_after.tif"
    ln -s out "$C/alias"
    "${CHECK[@]}" snap "$OUT" >"$SNAP"
    base after="$C/alias/./class_after.tif"
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}"
    judge_refusal 2 class_after.tif
    finish io-after-alias "after image as <case>/alias/./class_after.tif, alias -> out" "refused, input unchanged"
fi
io_case io-zone-change "zone mask named <out>/change.tif" "$R/mask_good.tif" change.tif farm
io_case io-zone-change-raw "zone mask named <out>/change_raw.tif, --raw-change" "$R/mask_good.tif" change_raw.tif farm --raw-change
io_case io-regions-patches "regions named <out>/patches.geojson" "$ILL/counties.geojson" patches.geojson regions
io_case io-zone-summary "zones named <out>/summary.json" "$ILL/eco_redline.geojson" summary.json eco
if want io-index-same; then
    newcase io-index-same index
    cp "$R/s2_6band.tif" "$OUT/stack.tif"
    "${CHECK[@]}" snap "$OUT" >"$SNAP"
    run_cli "$C" "$TO" "$IDX" --input "$OUT/stack.tif" --name NDVI --out "$OUT/stack.tif"
    judge_refusal 2 stack.tif
    finish io-index-same "index --input X --out X" "refused, input unchanged"
fi
if want io-index-alias; then
    newcase io-index-alias index
    cp "$R/s2_6band.tif" "$OUT/stack.tif"
    mkdir -p "$OUT/sub"
    "${CHECK[@]}" snap "$OUT" >"$SNAP"
    run_cli "$C" "$TO" "$IDX" --input "$OUT/stack.tif" --name NDVI --out "$OUT/sub/../stack.tif"
    judge_refusal 2 stack.tif
    finish io-index-alias "index --input X --out dir/sub/../X" "refused, input unchanged"
fi

# ---------------------------------------------------------------------------------------------
# Planted symlinks pointing outside the folder: never followed.

# sym_judge VICTIMDIR: the victims are as planted; a run that went through left regular files,
# a refused one said so naming the folder (sym-target) or the planted name.
sym_judge() {
    local vd=$1 d
    d=$("${CHECK[@]}" diff "$C/victims.snap" <("${CHECK[@]}" snap "$vd"))
    [[ -n $d ]] && PROBS+=("victim outside the folder written: $d")
    no_panic
    no_debug
    if [[ $RC == 0 ]]; then
        complete_set "${OUTPUTS[@]}"
        no_leftovers "$OUT" "$C"
    else
        expect_exit 2
        names "sym-target|${2:-sym-target}"
        no_leftovers "$OUT" "$C"
    fi
}
plant_victims() { # VICTIMDIR NAME...
    local vd=$1 n
    shift
    mkdir -p "$vd"
    for n in "$@"; do printf 'victim of %s: must never change\n' "$n" >"$vd/$n"; done
    "${CHECK[@]}" snap "$vd" >"$C/victims.snap"
}
for n in "${OUTPUTS[@]}" .landwatch.lock; do
    id=sym-${n#.}
    id=${id//./-}
    want "$id" || continue
    newcase "$id" empty sym-target
    plant_victims "$C/victims" "victim-$n"
    ln -s "$C/victims/victim-$n" "$OUT/$n"
    base
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}" --raw-change
    sym_judge "$C/victims" "$n"
    finish "$id" "symlink at <out>/$n -> victim outside" "victim unchanged; outputs regular files (or refused)"
done
# Guessable temp and staging names: planted for the PID the run will have (the shell that
# plants them execs the CLI, keeping its PID), counters 0..39, every output name.
if want sym-temp-names; then
    newcase sym-temp-names empty sym-target
    plant_victims "$C/victims" "${OUTPUTS[@]}"
    mkdir -p "$C/victimdir"
    "${CHECK[@]}" snap "$C/victims" >"$C/victims.snap"
    base
    export ATK_OUT=$OUT ATK_VICTIMS=$C/victims ATK_VDIR=$C/victimdir
    run_cli "$C" "$TO" bash -c '
        for n in class_before.tif class_after.tif change.tif patches.tif patches.geojson patches.csv \
                 regions.csv summary.json quicklook.png report.html change_raw.tif; do
            for k in $(seq 0 39); do ln -s "$ATK_VICTIMS/$n" "$ATK_OUT/.$n.tmp-$$-$k"; done
            ln -s "$ATK_VICTIMS/$n" "$ATK_OUT/.$n.tmp"
            ln -s "$ATK_VICTIMS/$n" "$ATK_OUT/$n.tmp"
        done
        for s in .landwatch-staging .landwatch-staging-$$ .landwatch-staging-$$-0 .staging \
                 .landwatch.staging .landwatch-tmp .landwatch-tmp-$$ .tmp .tmp-$$; do
            ln -s "$ATK_VDIR" "$ATK_OUT/$s"
        done
        exec "$0" "$@"' "$ENF" --out "$OUT" "${ARGS[@]}" --raw-change
    unset ATK_OUT ATK_VICTIMS ATK_VDIR
    d=$(ls -A "$C/victimdir")
    [[ -n $d ]] && PROBS+=("files created in a victim folder through a planted staging link: $(echo $d | cut -c1-80)")
    # The planted links that are still there are the attacker's, not leftovers of the run; an
    # output name that became a link is the run's doing and stays.
    for f in "$OUT"/.* "$OUT"/*.tmp; do
        [[ -L $f ]] && rm -f "$f"
    done
    sym_judge "$C/victims" ".tmp-"
    finish sym-temp-names "symlinks at .NAME.tmp-PID-0..39 and staging names -> victims" \
        "victims unchanged; outputs regular files (or refused)"
fi

# index --out onto a planted link: the link is replaced by the file, the victim unchanged.
if want idx-sym-out; then
    newcase idx-sym-out empty sym-target
    plant_victims "$C/victims" victim-ndvi.tif
    ln -s "$C/victims/victim-ndvi.tif" "$OUT/ndvi.tif"
    run_cli "$C" "$TO" "$IDX" --input "$T1" --sensor landsat-dn --name NDVI --backend "$BACKEND" \
        --out "$OUT/ndvi.tif"
    d=$("${CHECK[@]}" diff "$C/victims.snap" <("${CHECK[@]}" snap "$C/victims"))
    [[ -n $d ]] && PROBS+=("victim outside the folder written: $d")
    no_panic
    no_debug
    if [[ $RC == 0 ]]; then
        complete_set ndvi.tif
    else
        expect_exit 2
        names "ndvi.tif|sym-target"
    fi
    no_leftovers "$OUT" "$C"
    finish idx-sym-out "index: symlink at --out -> victim outside" \
        "victim unchanged; ndvi.tif a regular file (or refused)"
fi

# ---------------------------------------------------------------------------------------------
# Stale files from earlier options.

if want stale-files; then
    newcase stale-files empty
    base
    run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}" --raw-change
    if [[ $RC != 0 ]]; then
        PROBS+=("the first run (--raw-change) failed with exit $RC")
    else
        base regions=
        run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}"
        expect_exit 0
        for n in change_raw.tif regions.csv; do
            if [[ -e $OUT/$n ]] && ! grep -q -F "$n" "$OUT/summary.json"; then
                PROBS+=("stale $n kept and not listed in summary.json")
            fi
        done
        no_leftovers "$OUT" "$C"
    fi
    finish stale-files "run with --raw-change --regions, then without" \
        "stale change_raw.tif and regions.csv removed (or listed as stale)"
fi

# The output stream closed early (`enforce ... | head` once head has ended): no panic, the
# outputs written all the same (or a plain exit 1, or death by SIGPIPE: 141).
if want env-stdout-closed; then
    newcase env-stdout-closed empty
    base
    run_cli "$C" "$TO" "${CHECK[@]}" closed-stdout "$ENF" --out "$OUT" "${ARGS[@]}"
    no_panic
    expect_exit 0 1 141
    complete_set
    no_leftovers "$OUT" "$C"
    finish env-stdout-closed "stdout is a closed pipe (enforce | head)" "no panic; complete set"
fi
if want idx-stdout-closed; then
    newcase idx-stdout-closed empty
    run_cli "$C" "$TO" "${CHECK[@]}" closed-stdout "$IDX" --input "$T1" --sensor landsat-dn --name NDVI \
        --backend "$BACKEND" --out "$OUT/ndvi.tif"
    no_panic
    expect_exit 0 1 141
    complete_set ndvi.tif
    no_leftovers "$OUT" "$C"
    finish idx-stdout-closed "index: stdout is a closed pipe (index | head)" "no panic; ndvi.tif written"
fi

# ---------------------------------------------------------------------------------------------
# Read-only output folders: refused (exit 2) with a message naming the folder, untouched.

# run_into CONTENT [RUNNER...]: runs into OUT the job that fits what OUT holds: index (--out
# OUT/ndvi.tif) for `index`; the demo job for `empty`; for `good`, another job (the demo with
# --min-area-m2 20000), so that a run that went through would change files.
run_into() {
    local content=$1
    shift
    if [[ $content == index ]]; then
        run_cli "$C" "$TO" "$@" "$IDX" --input "$T1" --sensor landsat-dn --name NDVI --backend "$BACKEND" \
            --out "$OUT/ndvi.tif"
    else
        base
        [[ $content == good ]] && ARGS+=(--min-area-m2 20000)
        run_cli "$C" "$TO" "$@" "$ENF" --out "$OUT" "${ARGS[@]}"
    fi
}

ro_case() { # ID WHAT KIND(bind|parent|chattr|nobody) CONTENT(good|empty|index)
    local id=$1 what=$2 kind=$3 content=$4 target
    want "$id" || return 0
    newcase "$id" "$content"
    target=$OUT
    case $kind in
        bind | chattr | nobody)
            mv "$OUT" "$C/readonly-target"
            OUT=$C/readonly-target
            ;;
        parent)
            rmdir "$OUT" 2>/dev/null
            mkdir -p "$C/readonly-parent"
            OUT=$C/readonly-parent/new-folder
            target=$C/readonly-parent
            ;;
    esac
    [[ $kind == parent ]] || target=$OUT
    "${CHECK[@]}" snap "$OUT" >"$SNAP" 2>/dev/null || : >"$SNAP"
    local runner=()
    case $kind in
        bind | parent)
            if ! { mount --bind "$target" "$target" 2>/dev/null && MOUNTS+=("$target") &&
                mount -o remount,ro,bind "$target" 2>/dev/null; }; then
                skip "$id" "$what" "exit 2, message" "read-only bind mount not permitted here"
                return 0
            fi
            ;;
        chattr)
            if ! chattr +i "$target" 2>/dev/null; then
                skip "$id" "$what" "exit 2, message" "chattr +i not supported here"
                return 0
            fi
            IMMUTABLE+=("$target")
            ;;
        nobody)
            chmod 555 "$target"
            if ! setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null ||
                setpriv --reuid=65534 --regid=65534 --clear-groups touch "$target/.probe" 2>/dev/null; then
                rm -f "$target/.probe"
                skip "$id" "$what" "exit 2, message" "cannot run as an unprivileged user here"
                return 0
            fi
            runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
            if ! "${runner[@]}" sh -c 'test -x "$1" && test -x "$2" && test -r "$3" && test -r "$4"' _ \
                "$ENF" "$IDX" "$T1" "$ILL/counties.geojson"; then
                chmod 755 "$target"
                skip "$id" "$what" "exit 2, message" "the unprivileged user cannot read the CLI or the data here"
                return 0
            fi
            ;;
    esac
    run_into "$content" "${runner[@]}"
    case $kind in
        bind | parent) umount "$target" && unset 'MOUNTS[-1]' ;;
        chattr) chattr -i "$target" && unset 'IMMUTABLE[-1]' ;;
        nobody) chmod 755 "$target" ;;
    esac
    judge_refusal 2 "$(basename "$target")"
    finish "$id" "$what" "exit 2, names the folder, untouched"
}
ro_case ro-bind-empty "empty output folder on a read-only mount" bind empty
ro_case ro-bind-good "good run on a read-only mount" bind good
ro_case ro-parent "new output folder under a read-only folder" parent empty
ro_case ro-chattr-good "good run in a chattr +i folder (files inside writable)" chattr good
ro_case ro-nobody-good "good run in a 0555 folder, run as nobody" nobody good
ro_case idx-ro-bind "index: folder holding ndvi.tif on a read-only mount" bind index
ro_case idx-ro-nobody "index: 0555 folder holding ndvi.tif, run as nobody" nobody index

# ---------------------------------------------------------------------------------------------
# Full disk: a small tmpfs. Exit 74 (an I/O failure: retryable), no partial set, no leftovers.

pages() { # total size of the regular files under DIR in 4 KiB pages
    find "$1" -type f -printf '%s\n' | awk '{ p += int(($1 + 4095) / 4096) } END { print p + 0 }'
}
# The tmpfs holds the folder's content and half its largest file more: an empty folder gets
# 2 MiB (the demo's set is about 3.5 MiB); a new copy of the largest file never fits.
disk_case() { # ID WHAT CONTENT(empty|good|index)
    local id=$1 what=$2 content=$3 size_k largest from
    want "$id" || return 0
    newcase "$id" none
    OUT=$C/full-disk-target
    mkdir -p "$OUT"
    from=$GOOD
    [[ $content == index ]] && from=$GOOD_INDEX
    if [[ $content == empty ]]; then
        size_k=2048
    else
        largest=$(find "$from" -type f -printf '%s\n' | sort -n | tail -n1)
        size_k=$(($(pages "$from") * 4 + largest / 2048 + 16))
    fi
    if ! mount -t tmpfs -o "size=${size_k}k" tmpfs "$OUT" 2>/dev/null; then
        skip "$id" "$what" "exit 74, no partial set" "mounting a tmpfs is not permitted here"
        return 0
    fi
    MOUNTS+=("$OUT")
    [[ $content != empty ]] && cp -a "$from/." "$OUT/"
    "${CHECK[@]}" snap "$OUT" >"$SNAP"
    run_into "$content"
    judge_refusal 74 "full-disk-target"
    umount "$OUT" && unset 'MOUNTS[-1]'
    finish "$id" "$what (tmpfs ${size_k}k)" "exit 74, nothing published or changed, no leftovers"
}
disk_case disk-empty "full disk, empty folder" empty
disk_case disk-good "full disk, folder holding a good run, another job" good
disk_case idx-disk "index: full disk, folder holding ndvi.tif" index

# ---------------------------------------------------------------------------------------------
# Interrupted runs on the big pair (SIGINT, SIGTERM, kill -9) into a folder holding a good run.

BIG_SECS=
big_reference() {
    [[ -n $BIG_SECS ]] && return 0
    C=$S/ref
    base before="$BIG/big_t1.tif" after="$BIG/big_t2.tif"
    run_cli "$S/ref" 600 "$ENF" --out "$S/ref/big" "${ARGS[@]}"
    BIG_SECS=$SECS
    log "attack: the big job alone: exit $RC in ${SECS}s"
    if [[ $RC != 0 ]]; then
        log "attack: the big job failed; the interrupted and concurrent cases cannot be judged:"
        cat "$S/ref/stderr" >&2
        exit 2
    fi
}

# start_bg CLI ARG...: starts CLI in the background into C/stdout and C/stderr, with the
# default signal dispositions (a background job of a script would ignore SIGINT); sets PID
# (the CLI's process, found by its executable) and TPID (the timeout wrapping it).
DEFSIG=(env --default-signal=INT,TERM)
"${DEFSIG[@]}" true 2>/dev/null ||
    DEFSIG=("$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
start_bg() {
    local exe i
    exe=$(readlink -f "$1")
    timeout -k 5 600 "${DEFSIG[@]}" "$@" >"$C/stdout" 2>"$C/stderr" </dev/null &
    TPID=$!
    BGPIDS+=("$TPID")
    PID=
    for ((i = 0; i < 200; i++)); do
        PID=$(pgrep -P "$TPID" | head -n1)
        [[ -n $PID && $(readlink "/proc/$PID/exe" 2>/dev/null) == "$exe" ]] && break
        PID=
        sleep 0.02
    done
}
start_big() {
    base before="$BIG/big_t1.tif" after="$BIG/big_t2.tif"
    start_bg "$ENF" --out "$OUT" "${ARGS[@]}"
}

# wait_writing: until something changes in OUT (the job's staging folder appears) or 40% of
# the big job's time has passed; then 0.3 s more, well inside the work. False when the run
# ended first.
wait_writing() {
    local a b t0 limit
    a=$(ls -A --full-time "$OUT" 2>/dev/null | sha256sum)
    t0=$(now_us)
    limit=$((${BIG_SECS%.*} * 400000 + 300000))
    while kill -0 "$PID" 2>/dev/null; do
        b=$(ls -A --full-time "$OUT" 2>/dev/null | sha256sum)
        if [[ $a != "$b" ]] || (($(now_us) - t0 > limit)); then
            sleep 0.3
            kill -0 "$PID" 2>/dev/null
            return
        fi
        sleep 0.05
    done
    return 1
}

# interrupt SIGNAL: sends SIGNAL to PID and waits for the run; sets RC and NOTE. False (and
# nothing judged) when the run had already ended, so that the signal came too late.
interrupt() {
    local t0 ds
    t0=$(now_us)
    if ! kill -s "$1" "$PID" 2>/dev/null; then
        { wait "$TPID"; } 2>/dev/null
        return 1
    fi
    { wait "$TPID"; } 2>/dev/null
    RC=$?
    ds=$(((($(now_us) - t0) + 50000) / 100000))
    SECS=
    NOTE="ended $((ds / 10)).$((ds % 10))s after SIG$1"
}

# enforce documents 130 ("interrupted") for Ctrl-C and SIGTERM alike; 143 (the shell's
# convention for SIGTERM) and 1 (a refused run) are accepted too.
# interrupt_case ID WHAT SIGNAL CODES PREPARE KIND START WAIT KEPT: PREPARE, a case folder of
# KIND, START the run in the background, WAIT until it is writing, send SIGNAL; then the exit
# code is one of CODES and the folder is as it was (KEPT says what was kept).
interrupt_case() {
    local id=$1 what=$2 sig=$3 codes=$4 prepare=$5 kind=$6 start=$7 wait_for=$8 kept=$9
    want "$id" || return 0
    $prepare
    newcase "$id" "$kind"
    $start
    if [[ -z $PID ]] || ! $wait_for || ! interrupt "$sig"; then
        { wait "$TPID"; } 2>/dev/null
        skip "$id" "$what" "exit $codes, untouched, no leftovers" "the run ended before it could be interrupted"
        return 0
    fi
    expect_exit ${codes//|/ }
    no_panic
    no_debug
    unchanged
    no_leftovers "$OUT" "$C"
    finish "$id" "$what" "exit $codes, $kept untouched, no leftovers"
}
sig_case() { # ID WHAT SIGNAL CODES
    interrupt_case "$1" "$2" "$3" "$4" big_reference good start_big wait_writing "good set"
}
sig_case sig-int "SIGINT (Ctrl-C) mid-run, folder holding a good run" INT "130|1"
sig_case sig-term "SIGTERM mid-run, folder holding a good run" TERM "130|143|1"

if want sig-kill9 || want sig-kill9-next; then
    big_reference
    newcase sig-kill9 good
    start_big
    if [[ -z $PID ]] || ! wait_writing || ! interrupt KILL; then
        { wait "$TPID"; } 2>/dev/null
        skip sig-kill9 "kill -9 mid-run" "good set untouched" "the run ended before it could be interrupted"
        skip sig-kill9-next "the next run into the folder a kill -9 left" "exit 0, complete set, no leftovers" \
            "no kill -9 happened"
    else
        # Leftovers cannot be cleaned by a killed process; the visible set must be intact.
        grep -v '^\.' "$SNAP" >"$C/visible.snap"
        "${CHECK[@]}" snap "$OUT" | grep -v '^\.' >"$C/after.snap"
        d=$("${CHECK[@]}" diff "$C/visible.snap" "$C/after.snap")
        [[ -n $d ]] && PROBS+=("good set changed: $d")
        left=$("${CHECK[@]}" leftovers "$OUT" | wc -l)
        want sig-kill9 && finish sig-kill9 "kill -9 mid-run, folder holding a good run ($left hidden leftovers)" \
            "visible good set untouched"
        PROBS=()
        NOTE=
        base
        run_cli "$C" "$TO" "$ENF" --out "$OUT" "${ARGS[@]}"
        expect_exit 0
        no_panic
        complete_set
        no_leftovers "$OUT" "$C"
        want sig-kill9-next && finish sig-kill9-next "the next run into the folder a kill -9 left" \
            "exit 0, complete set, no leftovers"
    fi
fi

# The same against index, which writes one file (through a temporary .ndvi.tif.tmp-*): the
# signal is sent while that temporary file exists, the worst moment.
start_index_big() {
    start_bg "$IDX" --input "$BIG/big_t1.tif" --sensor landsat-dn --name NDVI --backend "$BACKEND" \
        --out "$OUT/ndvi.tif"
}
# wait_temp: until OUT holds the temporary file of index. False when the run ended first.
wait_temp() {
    while kill -0 "$PID" 2>/dev/null; do
        compgen -G "$OUT/.ndvi.tif.tmp-*" >/dev/null && return 0
        sleep 0.005
    done
    return 1
}
idx_sig_case() { # ID WHAT SIGNAL CODES
    interrupt_case "$1" "$2" "$3" "$4" : index start_index_big wait_temp ndvi.tif
}
idx_sig_case idx-sig-int "index: SIGINT while writing, folder holding ndvi.tif" INT "130|1"
idx_sig_case idx-sig-term "index: SIGTERM while writing, folder holding ndvi.tif" TERM "130|143|1"

if want idx-kill9-next; then
    newcase idx-kill9-next index
    start_index_big
    if [[ -z $PID ]] || ! wait_temp || ! interrupt KILL; then
        { wait "$TPID"; } 2>/dev/null
        skip idx-kill9-next "index: kill -9 while writing, then the next run" "exit 0, no leftovers" \
            "the run ended before it could be interrupted"
    else
        grep -v '^\.' "$SNAP" >"$C/visible.snap"
        "${CHECK[@]}" snap "$OUT" | grep -v '^\.' >"$C/after.snap"
        d=$("${CHECK[@]}" diff "$C/visible.snap" "$C/after.snap")
        [[ -n $d ]] && PROBS+=("ndvi.tif changed by the killed run: $d")
        left=$("${CHECK[@]}" leftovers "$OUT" | wc -l)
        NOTE="the killed run left $left hidden entries"
        run_cli "$C" "$TO" "$IDX" --input "$T1" --sensor landsat-dn --name NDVI --backend "$BACKEND" \
            --out "$OUT/ndvi.tif"
        expect_exit 0
        no_panic
        no_leftovers "$OUT" "$C"
        finish idx-kill9-next "index: kill -9 while writing, then the next run into the folder" \
            "killed run: ndvi.tif untouched; next run: exit 0, no leftovers"
    fi
fi

# ---------------------------------------------------------------------------------------------
# Concurrent jobs into one folder: never a mixed set.

# Jobs: small (the demo), smallB (the demo with --min-area-m2 20000), big and bigB (the same on
# the mirror-tiled pair). Each is run alone once into a fresh folder as the reference.
job_args() {
    case $1 in
        small*) base ;;
        big*) base before="$BIG/big_t1.tif" after="$BIG/big_t2.tif" ;;
    esac
    [[ $1 == *B ]] && ARGS+=(--min-area-m2 20000)
}
conc_ref() { # JOB: its reference snapshot, $S/ref/conc/JOB.snap
    local d=$S/ref/conc
    [[ -f $d/$1.snap ]] && return 0
    mkdir -p "$d"
    C=$d
    job_args "$1"
    run_cli "$d" 600 "$ENF" --out "$d/$1" "${ARGS[@]}"
    [[ $RC == 0 ]] || log "attack: reference run of job $1 failed (exit $RC)"
    "${CHECK[@]}" snap "$d/$1" >"$d/$1.snap"
}

conc_case() { # ID WHAT JOB-A JOB-B DELAY (seconds, or a fraction of the big job's time: 0.5x)
    local id=$1 what=$2 ja=$3 jb=$4 delay=$5
    want "$id" || return 0
    conc_ref "$ja"
    conc_ref "$jb"
    if [[ $delay == *x ]]; then
        big_reference
        delay=$(awk -v f="${delay%x}" -v t="$BIG_SECS" 'BEGIN { printf "%.2f", f * t }')
    fi
    newcase "$id" empty
    local argsA argsB pa pb ra rb
    job_args "$ja"
    argsA=("${ARGS[@]}")
    job_args "$jb"
    argsB=("${ARGS[@]}")
    mkdir -p "$C/a" "$C/b"
    timeout -k 5 600 "$ENF" --out "$OUT" "${argsA[@]}" >"$C/a/stdout" 2>"$C/a/stderr" </dev/null &
    pa=$!
    BGPIDS+=("$pa")
    sleep "$delay"
    local overlap=yes
    kill -0 "$pa" 2>/dev/null || overlap=no
    timeout -k 5 600 "$ENF" --out "$OUT" "${argsB[@]}" >"$C/b/stdout" 2>"$C/b/stderr" </dev/null &
    pb=$!
    BGPIDS+=("$pb")
    { wait "$pa"; } 2>/dev/null
    ra=$?
    { wait "$pb"; } 2>/dev/null
    rb=$?
    if [[ $overlap == no ]]; then
        skip "$id" "$what" "one refuses (another job) or they serialise; the set is from one job" \
            "A had ended (exit $ra) before B started ${delay}s later: nothing ran concurrently"
        return 0
    fi
    RC="A $ra, B $rb"
    SECS=
    cat "$C/a/stderr" "$C/b/stderr" >"$C/stderr"
    cat "$C/a/stdout" "$C/b/stdout" >"$C/stdout"
    no_panic
    local r x
    for x in a:$ra b:$rb; do
        r=${x#*:}
        if [[ $r != 0 && $r != 75 ]]; then
            PROBS+=("job ${x%%:*} exit $r")
        elif [[ $r == 75 ]] && ! grep -q -i -E 'another|lock|busy|in use|concurrent|already' "$C/${x%%:*}/stderr"; then
            PROBS+=("job ${x%%:*} refused without saying another job writes into the folder")
        fi
    done
    [[ $ra != 0 && $rb != 0 ]] && PROBS+=("neither job completed")
    local ref=$S/ref/conc origin
    origin=$("${CHECK[@]}" origin "$OUT" "$ref/$ja.snap" "$ref/$jb.snap" "${DETERMINISTIC[@]}")
    case $origin in
        A) [[ $ra == 0 ]] || PROBS+=("the set is job A's, but A exited $ra") ;;
        B) [[ $rb == 0 ]] || PROBS+=("the set is job B's, but B exited $rb") ;;
        *) PROBS+=("${origin:0:300}") ;;
    esac
    no_leftovers "$OUT" "$C"
    NOTE="B started after ${delay}s; final set from ${origin%%:*}"
    finish "$id" "$what" "one refuses (another job) or they serialise; the set is from one job"
}
conc_case conc-small-together "demo A and demo B (--min-area-m2 20000) started together" small smallB 0
conc_case conc-small-later "demo A, demo B 0.1 s later" small smallB 0.1
conc_case conc-big-together "big A and big B (--min-area-m2 20000) started together" big bigB 0
conc_case conc-big-small-early "big A, demo B a quarter into A's time" big smallB 0.25x
conc_case conc-big-small-mid "big A, demo B half-way through A's time" big smallB 0.5x
conc_case conc-big-small-late "big A, demo B three quarters into A's time" big smallB 0.75x

# ---------------------------------------------------------------------------------------------

printf '\nattack: %d passed, %d failed, %d skipped (of %d cases) in %d s\n' "$NPASS" "$NFAIL" "$NSKIP" \
    "$((NPASS + NFAIL + NSKIP))" "$SECONDS" | tee -a "$TABLE"
[[ -n ${ATTACK_REPORT:-} ]] && cp "$TABLE" "$ATTACK_REPORT"
((NFAIL == 0))
