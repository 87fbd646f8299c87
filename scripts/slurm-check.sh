#!/usr/bin/env bash
# The sharded enforcement job through a real Slurm (one node, this host: scripts/
# slurm-local.sh), on the bundled Taizhou pair:
#   1. deploy/slurm/submit.sh --wait ... --shards 9 with MaxArraySize 4: the plan, three arrays
#      (--index-offset 0, 4 and 8), the merge behind --dependency=afterok. The merged outputs
#      must equal `landwatch enforce`'s on the same inputs and arguments: every file byte for
#      byte (both runs take the outputs' time from SOURCE_DATE_EPOCH), but summary.json's
#      and report.html's stage times, device and strip height.
#   2. submit.sh --manifest=OUT/manifest.json (the same plan again): every shard is complete
#      already, the merge runs again; the same outputs.
#   3. A shard that cannot succeed (its input changed after the plan: exit code 2): the
#      task fails at once, is not retried, the merge is cancelled, submit.sh --wait exits 2
#      and names the shards.
#   4. merge.sbatch before the shards are done: landwatch exits 75, the script retries, and
#      once the missing shard has run, the retry completes.
#   5. scancel of a task between retries: not retried, the task ends with 130.
# Slurm is left running, with its usual MaxArraySize. Needs root (slurm-local.sh).
# LANDWATCH: the binary (default: built with cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$SECONDS
say() { echo "slurm-check: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

if [[ -z ${LANDWATCH:-} ]]; then
  cargo build --release --quiet --bin landwatch
  LANDWATCH=${CARGO_TARGET_DIR:-$repo/target}/release/landwatch
fi
export LANDWATCH
# The outputs' recorded time (patches.gpkg, patches.dbf): the plan's, and enforce's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764460800}
"$LANDWATCH" plan --help >/dev/null 2>&1 || fail "$LANDWATCH has no plan subcommand"

SLURM_LOCAL_MAX_ARRAY_SIZE=4 scripts/slurm-local.sh
work=$(mktemp -d /tmp/slurm-check.XXXXXX)
trap 'scripts/slurm-local.sh >/dev/null 2>&1 || true' EXIT
cp -r data/landsat_taizhou "$work/in"
in=$work/in
job=(--before "$in/Taizhou_t1.tif" --after "$in/Taizhou_t2.tif" --sensor landsat-dn
  --zones "basic_farmland=$in/illustrative/basic_farmland.geojson"
  --zones "eco_redline=$in/illustrative/eco_redline.geojson"
  --zones "urban_boundary=$in/illustrative/urban_boundary.geojson"
  --regions "$in/illustrative/counties.geojson" --region-field code)

# The job's state and exit code, once it has ended (slurmctld keeps ended jobs MinJobAge s).
ended() { # job id -> "STATE EXIT_CODE"
  local line
  for _ in $(seq 600); do
    line=$(scontrol show job -o "$1" | sed -n 's/.* JobState=\([^ ]*\).* ExitCode=\([^ ]*\).*/\1 \2/p')
    case ${line%% *} in PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|"") sleep 0.5 ;; *) echo "$line"; return ;; esac
  done
  fail "job $1 did not end"
}
# `landwatch enforce` on the same inputs and arguments as the plan, into $2 ($1: unused, the
# plan's folder, for the reader).
reference() {
  "$LANDWATCH" -q enforce "${job[@]}" --out "$2"
}
# Two output sets equal but for what changes from run to run.
same() {
  python3 - "$1" "$2" <<'EOF'
import json, re, sys
from pathlib import Path
a, b = Path(sys.argv[1]), Path(sys.argv[2])
skip = {"manifest.json", "shards", "logs", ".landwatch.lock"}
names = lambda d: sorted(p.name for p in d.iterdir() if p.name not in skip)
bad = []
if names(a) != names(b):
    bad.append(f"file sets differ: {names(a)} / {names(b)}")
def norm(p):
    # What depends on how the run was cut and where it ran, not on its results: the stage
    # times, the device, the strip height (summary.json), and the same in report.html.
    if p.name == "summary.json":
        s = json.loads(p.read_text())
        s.pop("stages_seconds"); s.pop("backend"); s["settings"].pop("strip_rows")
        return s
    if p.name == "report.html":
        t = re.sub(r"<h2>Stages</h2><table>.*?</table>", "", p.read_text(), flags=re.S)
        return re.sub(r"computed on [^·]*·", "", t)
    return p.read_bytes()
for n in sorted(set(names(a)) & set(names(b))):
    if norm(a / n) != norm(b / n):
        bad.append(f"{n} differs")
for m in bad:
    print("  " + m, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

say "1. submit.sh --wait: 9 shards, MaxArraySize 4"
t=$SECONDS
deploy/slurm/submit.sh --wait --poll=1 --log-dir="$work/logs1" -- "${job[@]}" \
  --out "$work/sharded" --shards 9 >/dev/null || fail "submit.sh --wait exited $?"
say "   plan to merged outputs: $(( SECONDS - t )) s"
logs=("$work"/logs1/shard-*)
arrays=$(printf '%s\n' "${logs[@]##*/shard-}" | cut -d_ -f1 | sort -u | wc -l)
[[ ${#logs[@]} -eq 9 && $arrays -eq 3 ]] || fail "expected 9 tasks in 3 arrays: ${logs[*]}"
reference "$work/sharded" "$work/ref"
same "$work/ref" "$work/sharded" || fail "the merged outputs differ from landwatch enforce's"
say "   9 tasks in 3 arrays; the merged outputs equal landwatch enforce's"

say "2. submit.sh --manifest: the same plan again"
t=$SECONDS
deploy/slurm/submit.sh --wait --poll=1 --log-dir="$work/logs2" \
  --manifest="$work/sharded/manifest.json" >/dev/null || fail "the second submit.sh exited $?"
[[ $(grep -l 'was already complete' "$work"/logs2/shard-* | wc -l) -eq 9 ]] \
  || fail "not every shard found itself complete"
same "$work/ref" "$work/sharded" || fail "the outputs changed on the second run"
say "   every shard complete already; the same outputs ($(( SECONDS - t )) s)"

say "3. a shard that cannot succeed"
# The arrays go in held, the input changes, then they are released.
deploy/slurm/submit.sh --wait --poll=1 --shard-sbatch=--hold --log-dir="$work/logs3" -- \
  "${job[@]}" --out "$work/broken" --shards 2 >/dev/null 2>"$work/broken.err" &
submitter=$!
for _ in $(seq 100); do grep -q '^submit: merge: job' "$work/broken.err" && break; sleep 0.2; done
held=$(sed -n 's/^submit: shards .*: array job \([0-9]*\) .*/\1/p' "$work/broken.err")
[[ -n $held ]] || fail "no array submitted: $(cat "$work/broken.err")"
touch "$in/Taizhou_t2.tif"
scontrol release "$held"
rc=0
wait "$submitter" || rc=$?
sed 's/^/   | /' "$work/broken.err" >&2
[[ $rc -eq 2 ]] || fail "submit.sh --wait exited $rc, not the shards' 2"
grep -q 'CANCELLED' "$work/broken.err" || fail "the merge was not cancelled"
[[ $(grep -c '^submit: shard [0-9]' "$work/broken.err") -eq 2 ]] || fail "the failed shards are not named"
! grep -l 'attempt 2/' "$work"/logs3/shard-* || fail "exit code 2 was retried"
say "   exit code 2, not retried; the merge cancelled; submit.sh exited 2 naming both shards"

say "4. merge.sbatch before the last shard: 75, retried"
"$LANDWATCH" -q plan "${job[@]}" --out "$work/retry" --shards 2 >/dev/null 2>&1
RAYON_NUM_THREADS=1 "$LANDWATCH" -q shard --manifest "$work/retry/manifest.json" --index 0
id=$(LANDWATCH_RETRY_DELAY=3 sbatch --parsable --output="$work/retry.out" \
  deploy/slurm/merge.sbatch "$work/retry/manifest.json")
for _ in $(seq 300); do grep -q 'exit code 75 is retryable' "$work/retry.out" 2>/dev/null && break; sleep 0.1; done
grep -q 'exit code 75 is retryable' "$work/retry.out" || fail "no 75: $(cat "$work/retry.out")"
RAYON_NUM_THREADS=1 "$LANDWATCH" -q shard --manifest "$work/retry/manifest.json" --index 1
result=$(ended "$id")
grep -v '^  ' "$work/retry.out" | sed 's/^/   | /' >&2
[[ $result == "COMPLETED 0:0" ]] || fail "the merge job ended $result"
grep -q 'attempt 2/3' "$work/retry.out" || fail "no second attempt"
reference "$work/retry" "$work/ref-retry"
same "$work/ref-retry" "$work/retry" || fail "the retried merge's outputs differ from enforce's"
say "   75, then the retry completed, with the same outputs"

say "5. scancel between retries"
"$LANDWATCH" -q plan "${job[@]}" --out "$work/cancel" --shards 2 >/dev/null 2>&1
id=$(LANDWATCH_RETRY_DELAY=120 sbatch --parsable --output="$work/cancel.out" \
  deploy/slurm/merge.sbatch "$work/cancel/manifest.json")
for _ in $(seq 300); do grep -q 'again in 120 s' "$work/cancel.out" 2>/dev/null && break; sleep 0.1; done
scancel "$id"
result=$(ended "$id")
sed 's/^/   | /' "$work/cancel.out" >&2
grep -q 'stopped by a signal' "$work/cancel.out" || fail "the script did not see the signal"
! grep -q 'attempt 2/' "$work/cancel.out" || fail "a cancelled task was retried"
say "   $result: not retried"

rm -rf "$work"
say "passed in $(( SECONDS - started )) s"
