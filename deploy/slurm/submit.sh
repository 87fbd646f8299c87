#!/usr/bin/env bash
# Plans a landwatch enforcement job, submits its shards as Slurm job arrays and the merge
# behind them.
#
#   deploy/slurm/submit.sh [SUBMIT OPTIONS] [--] PLAN ARGUMENTS
#   deploy/slurm/submit.sh [SUBMIT OPTIONS] --manifest=OUT/manifest.json
#
# PLAN ARGUMENTS are `landwatch plan`'s: the options of `landwatch enforce` and --shards N or
# --shard-rows R, e.g.
#
#   deploy/slurm/submit.sh --sbatch=--partition=cpu --shard-sbatch=--mem=8G -- \
#       --before T1.tif --after T2.tif --sensor landsat-dn --zones basic_farmland=bf.geojson \
#       --regions counties.geojson --region-field code --out /scratch/run1 --shards 64
#
# Steps: `landwatch plan` (here, on the submitting host) writes OUT/manifest.json and prints
# the number of shards N; the shards go in as `sbatch --array` jobs of enforce.sbatch, as many
# arrays as Slurm's MaxArraySize (from `scontrol show config`) requires, each with its
# --index-offset; the merge (merge.sbatch) goes in with --dependency=afterok on all of them
# and --kill-on-invalid-dep=yes, so a shard that fails for good cancels it. The merge's job id
# is printed on stdout; everything else goes to stderr.
#
# After a failure (fixed), submit the same plan again with --manifest=OUT/manifest.json
# instead of the plan's arguments: the shards already complete end at once. (Planning again
# writes a new manifest, and every shard is then computed again.)
#
# SUBMIT OPTIONS:
#   --manifest=FILE      submit this existing plan (no `landwatch plan`); needs python3 to
#                        read the number of shards from it
#   --wait               wait for the merge to end; exit 0 when it completed, else with the
#                        merge's exit code or a failed shard's (for CI)
#   --poll=S             with --wait, seconds between looks at the merge's state (default 10)
#   --sbatch=OPT         an sbatch option for every job, repeatable (--sbatch=--partition=p,
#                        --sbatch=--time=2:00:00, --sbatch=--account=a)
#   --shard-sbatch=OPT   an sbatch option for the shard arrays only (--shard-sbatch=--mem=16G,
#                        --shard-sbatch=--cpus-per-task=8)
#   --merge-sbatch=OPT   an sbatch option for the merge only
#   --max-parallel=P     at most P tasks of each array running at once (--array=...%P)
#   --log-dir=DIR        the jobs' logs (default OUT/logs): shard-<arrayjob>_<task>.out and
#                        merge-<job>.out
#   -h, --help
#
# Environment: LANDWATCH, the landwatch binary (default `landwatch` on PATH; made absolute
# here and passed to the jobs), and what enforce.sbatch reads (LANDWATCH_TRIES, ...). sbatch's
# own SBATCH_* input variables (SBATCH_PARTITION, SBATCH_TIMELIMIT, ...) apply as usual.
#
# Exit codes: plan's when planning fails (2 bad arguments, ...); 1 when a submission fails
# (the arrays already submitted are cancelled); with --wait, as above.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "submit: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; }

wait_merge=0
all_opts=() shard_opts=() merge_opts=()
max_parallel=
log_dir=
poll=10
existing=
while [[ $# -gt 0 ]]; do
  case $1 in
    --wait) wait_merge=1 ;;
    --sbatch=*) all_opts+=("${1#*=}") ;;
    --shard-sbatch=*) shard_opts+=("${1#*=}") ;;
    --merge-sbatch=*) merge_opts+=("${1#*=}") ;;
    --sbatch|--shard-sbatch|--merge-sbatch|--max-parallel|--log-dir|--poll|--manifest)
      [[ $# -ge 2 ]] || { say "$1 needs a value"; exit 2; }
      case $1 in
        --sbatch) all_opts+=("$2") ;;
        --shard-sbatch) shard_opts+=("$2") ;;
        --merge-sbatch) merge_opts+=("$2") ;;
        --max-parallel) max_parallel=$2 ;;
        --log-dir) log_dir=$2 ;;
        --poll) poll=$2 ;;
        --manifest) existing=$2 ;;
      esac
      shift ;;
    --max-parallel=*) max_parallel=${1#*=} ;;
    --log-dir=*) log_dir=${1#*=} ;;
    --poll=*) poll=${1#*=} ;;
    --manifest=*) existing=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
  shift
done
if [[ ! $poll =~ ^[1-9][0-9]*$ ]]; then
  say "--poll takes a positive number of seconds, not '$poll'"
  exit 2
fi
if [[ -n $max_parallel && ! $max_parallel =~ ^[1-9][0-9]*$ ]]; then
  say "--max-parallel takes a positive number, not '$max_parallel'"
  exit 2
fi

# The binary, absolute, so that the jobs run the same one wherever they start.
landwatch=${LANDWATCH:-landwatch}
if [[ $landwatch != */* ]]; then
  landwatch=$(command -v "$landwatch") || { say "no '${LANDWATCH:-landwatch}' on PATH (set LANDWATCH)"; exit 2; }
fi
landwatch=$(realpath "$landwatch")
[[ -x $landwatch ]] || { say "$landwatch is not executable (set LANDWATCH)"; exit 2; }
export LANDWATCH=$landwatch

if [[ -n $existing ]]; then
  # An existing plan: the number of shards from its manifest.
  [[ $# -eq 0 ]] || { say "--manifest takes no plan arguments: $*"; exit 2; }
  [[ -f $existing ]] || { say "no manifest $existing"; exit 2; }
  manifest=$(realpath "$existing")
  out=$(dirname "$manifest")
  n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["shards"]))' \
    "$manifest") || { say "cannot read the number of shards from $manifest"; exit 2; }
  say "$manifest: planned before, $n shards"
else
  # OUT as `landwatch plan` takes it: --out DIR or --out=DIR (plan refuses a job without).
  out=
  args=("$@")
  for (( i = 0; i < ${#args[@]}; i++ )); do
    case ${args[i]} in
      --out=*) out=${args[i]#--out=} ;;
      --out) out=${args[i+1]:-} ;;
    esac
  done
  say "planning: $landwatch plan $*"
  rc=0
  n=$("$landwatch" plan "$@") || rc=$?
  if [[ $rc -ne 0 ]]; then
    say "landwatch plan failed with exit code $rc"
    exit "$rc"
  fi
  manifest=$(realpath -m "${out:-.}/manifest.json")
  [[ -n $out && -f $manifest ]] || { say "landwatch plan wrote no $manifest"; exit 1; }
fi
if [[ ! $n =~ ^[1-9][0-9]*$ ]]; then
  say "not a number of shards: '$n'"
  exit 1
fi
log_dir=$(realpath -m "${log_dir:-$out/logs}")
mkdir -p "$log_dir"

max_array=$(scontrol show config 2>/dev/null | awk -F' *= *' '$1 == "MaxArraySize" {print $2}')
if [[ ! $max_array =~ ^[1-9][0-9]*$ ]]; then
  max_array=1001
  say "MaxArraySize not readable from scontrol; assuming Slurm's default, $max_array"
fi
say "$n shards; MaxArraySize $max_array: $(( (n + max_array - 1) / max_array )) array(s)"

arrays=()
cancel_submitted() {
  if [[ ${#arrays[@]} -gt 0 ]]; then
    say "cancelling the arrays already submitted: ${arrays[*]}"
    scancel "${arrays[@]}" || true
  fi
}
submit() { # sbatch arguments...; prints the job id
  local id
  id=$(sbatch --parsable "$@") || return 1
  echo "${id%%;*}"
}

for (( offset = 0; offset < n; offset += max_array )); do
  count=$(( n - offset < max_array ? n - offset : max_array ))
  if ! id=$(submit --array="0-$(( count - 1 ))${max_parallel:+%$max_parallel}" \
      --output="$log_dir/shard-%A_%a.out" "${all_opts[@]}" "${shard_opts[@]}" \
      "$here/enforce.sbatch" "$manifest" "$offset"); then
    say "sbatch failed for shards $offset-$(( offset + count - 1 ))"
    cancel_submitted
    exit 1
  fi
  say "shards $offset-$(( offset + count - 1 )): array job $id (--index-offset $offset)"
  arrays+=("$id")
done

dependency=afterok$(printf ':%s' "${arrays[@]}")
merge_args=(--dependency="$dependency" --kill-on-invalid-dep=yes
  --output="$log_dir/merge-%j.out" "${all_opts[@]}" "${merge_opts[@]}")
if ! merge=$(submit "${merge_args[@]}" "$here/merge.sbatch" "$manifest"); then
  say "sbatch failed for the merge"
  cancel_submitted
  exit 1
fi
say "merge: job $merge ($dependency); logs in $log_dir"
echo "$merge"
[[ $wait_merge -eq 1 ]] || exit 0

# JobState and ExitCode ("code:signal") of each record of a job (an array has one per task).
job_states() { scontrol show job -o "$1" 2>/dev/null | sed -n \
  's/.* ArrayTaskId=\([^ ]*\).* JobState=\([^ ]*\).* ExitCode=\([^ ]*\).*/\1 \2 \3/p; t
   s/.* JobState=\([^ ]*\).* ExitCode=\([^ ]*\).*/- \1 \2/p'; }
# --wait: the merge's state, polled (`sbatch --wait` polls ever more slowly, and returns 0
# for a job cancelled because its dependency failed, DependencyNeverSatisfied).
trap 'say "interrupted: the jobs go on (scancel ${arrays[*]} $merge to stop them)"; exit 130' INT TERM
final=" COMPLETED FAILED CANCELLED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED BOOT_FAIL DEADLINE "
while :; do
  state='' exit_code=''
  read -r _ state exit_code < <(job_states "$merge") || true
  [[ -z $state || $final == *" $state "* ]] && break
  sleep "$poll"
done
if [[ -z $state ]] && command -v sacct >/dev/null; then
  # The record left slurmctld (MinJobAge): ask the accounting database, if there is one.
  read -r state exit_code < <(sacct -n -X -P -j "$merge" -o State,ExitCode 2>/dev/null \
    | awk -F'|' '{ split($1, s, " "); print s[1], $2 }') || true
fi
case ${state:-} in
  COMPLETED)
    say "merge job $merge completed; outputs in $(realpath -m "$out")"
    exit 0 ;;
  "")
    say "merge job $merge: its record is gone and there is no accounting; state unknown"
    exit 1 ;;
esac
say "merge job $merge: $state, exit code $exit_code"
code=${exit_code%%:*}
if [[ $state == CANCELLED ]]; then
  # Cancelled for want of its dependency: name the shards that failed.
  code=1
  first=1
  for i in "${!arrays[@]}"; do
    offset=$(( i * max_array ))
    while read -r task tstate texit; do
      [[ $tstate == COMPLETED ]] && continue
      [[ $task =~ ^[0-9]+$ ]] && shard=$(( offset + task )) || shard="$task (+$offset)"
      say "shard $shard (array job ${arrays[i]}, task $task): $tstate, exit code $texit"
      if (( first )) && [[ ${texit%%:*} != 0 ]]; then code=${texit%%:*}; first=0; fi
    done < <(job_states "${arrays[i]}")
  done
fi
exit $(( code == 0 ? 1 : code ))
