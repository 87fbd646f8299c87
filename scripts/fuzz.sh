#!/usr/bin/env bash
# Fuzzes landwatch: builds the cargo-fuzz targets of fuzz/, runs each for MINUTES (default 5,
# fractions allowed) on its corpus fuzz/corpus/<target>/, at most FUZZ_JOBS (default 2) at
# once, then minimises every corpus that ran with `cargo fuzz cmin` and prints, per target,
# the runs executed, libFuzzer's last coverage line (cov, ft), the corpus size before, after
# fuzzing and after cmin, and any crash, timeout, OOM or leak artifact it wrote.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]      e.g. scripts/fuzz.sh 15 geojson formula
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`); it installs nothing. Logs and artifacts go to fuzz/artifacts/
# (ignored by git); the minimised corpora stay in fuzz/corpus/ (tracked). Each libFuzzer job
# runs with RAYON_NUM_THREADS=1, so a job uses one core. Exits 1 when a target crashed.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"

minutes="${1:-5}"
if [[ $# -gt 0 ]]; then shift; fi
seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); if (s < 1) s = 1; print s }')
jobs="${FUZZ_JOBS:-2}"
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Longest input per target: a little above what the code under test accepts or the seeds need.
max_len() {
    case "$1" in
        formula) echo 4096 ;;    # the language refuses formulas over 1024 characters
        geokeys) echo 2048 ;;    # directories of a few dozen keys
        # The illustrative layers are 0.6 to 1.6 kB. At 16384 an hour grew a 3.5 MB minimised
        # corpus; a cmin of it at 4096 kept 8332 of its 8341 edges (20957 of 21578 features) in
        # 2.5 MB (docs/FUZZING.md).
        geojson) echo 4096 ;;
        *) echo 16384 ;;         # TIFFs: the seeds are 1.6 to 6.5 kB
    esac
}
common=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)

logs=artifacts/logs
mkdir -p "$logs"
stamp="$logs/.start"
touch "$stamp"

count() { find "corpus/$1" -type f 2>/dev/null | wc -l; }
bytes() { find "corpus/$1" -type f -printf '%s\n' 2>/dev/null | awk '{ b += $1 } END { print b + 0 }'; }

echo "== building ${targets[*]}"
cargo +nightly fuzz build

declare -A before
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    before[$t]="$(count "$t") files, $(bytes "$t") B"
done

run_one() {
    local t=$1 rc=0
    cargo +nightly fuzz run "$t" -- -max_total_time="$seconds" -max_len="$(max_len "$t")" \
        "${common[@]}" -print_final_stats=1 >"$logs/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$logs/$t.rc"
}

echo "== fuzzing for $seconds s each, $jobs at a time (logs in fuzz/$logs/)"
for t in "${targets[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
        wait -n || true
    done
    echo "   $t"
    run_one "$t" &
done
wait

declare -A fuzzed
for t in "${targets[@]}"; do
    fuzzed[$t]="$(count "$t") files, $(bytes "$t") B"
done

# cmin (with libFuzzer's set-cover merge, smaller than the greedy one) renames every input to
# the SHA-1 of its content; files with other names are pinned
# seeds (the TIFFs of corpus/read_geotiff, which tests/io_errors.rs reads): they are put back
# under their names, and their hash-named copies removed.
echo "== minimising the corpora"
pinned=$(mktemp -d)
trap 'rm -rf "$pinned"' EXIT
for t in "${targets[@]}"; do
    mkdir -p "$pinned/$t"
    find "corpus/$t" -maxdepth 1 -type f -regextype posix-extended \
        ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$pinned/$t/" \;
    # cargo-fuzz 0.13 exits 0 when the merge itself failed ("Failed to minimize corpus"), and
    # then leaves the corpus as it was: look for that line too.
    if ! cargo +nightly fuzz cmin "$t" -- -set_cover_merge=1 -max_len="$(max_len "$t")" \
        "${common[@]}" >"$logs/$t.cmin.log" 2>&1 ||
        grep -q 'Failed to minimize corpus' "$logs/$t.cmin.log"; then
        echo "   cmin of $t failed, corpus left unminimised: see fuzz/$logs/$t.cmin.log"
    fi
    for f in "$pinned/$t"/*; do
        [[ -e "$f" ]] || continue
        cp "$f" "corpus/$t/"
        rm -f "corpus/$t/$(sha1sum "$f" | cut -d' ' -f1)"
    done
done

failed=0
echo
echo "== results ($minutes min per target, $jobs at a time, $(date -u +%Y-%m-%dT%H:%MZ))"
echo "   machine: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores"
for t in "${targets[@]}"; do
    log="$logs/$t.log"
    final_stat() { awk -v k="stat::$1:" '$1 == k { v = $2 } END { print v }' "$log"; }
    runs=$(final_stat number_of_executed_units)
    speed=$(final_stat average_exec_per_sec)
    rss=$(final_stat peak_rss_mb)
    merged=$(grep -o 'MERGE-OUTER: [0-9]* new files.*' "$logs/$t.cmin.log" 2>/dev/null | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | sed 's/^#[0-9]*[[:space:]]*//')
    found=$(find "artifacts/$t" -maxdepth 1 -type f -newer "$stamp" \
        \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) \
        2>/dev/null | sort)
    echo "-- $t: exit $(cat "$logs/$t.rc" 2>/dev/null || echo '?')"
    echo "   runs: ${runs:-?} (${speed:-?} exec/s), peak RSS ${rss:-?} MB"
    echo "   last stats: ${last:-none}"
    echo "   corpus: ${before[$t]} before; ${fuzzed[$t]} after fuzzing; $(count "$t") files, $(bytes "$t") B after cmin"
    echo "   cmin: ${merged:-no result}"
    if [[ -n "$found" ]]; then
        failed=1
        echo "   ARTIFACTS:"
        sed 's/^/     fuzz\//' <<<"$found"
    else
        echo "   artifacts: none"
    fi
done
exit "$failed"
