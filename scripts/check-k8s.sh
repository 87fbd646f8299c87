#!/usr/bin/env bash
# Checks deploy/k8s/ without a cluster, and against one when kubectl reaches a server.
#
# 1. The templates use only the documented variables (LANDWATCH_IMAGE, OUT, SHARDS,
#    PARALLELISM), and render with envsubst to files with none left.
# 2. kubectl, offline: `kubectl set image --local` decodes each Job into kubectl's typed
#    batch/v1 objects (a field of the wrong type fails; an unknown field is dropped silently,
#    hence step 3) and finds the container `landwatch`; `kubectl label --local` parses the PVC.
#    `kubectl apply --dry-run=client` cannot run offline: it asks the API server for its
#    resource list first (and, with --validate, for its OpenAPI schema).
# 3. kubernetes-validate (PyPI; the Kubernetes OpenAPI schemas as JSON schemas, shipped in
#    the package) in strict mode, against Kubernetes 1.29 (the first with
#    backoffLimitPerIndex on by default), 1.33 and its newest: types, required fields and
#    unknown fields. Installed into target/check-k8s-venv on first use.
# 4. scripts/check_k8s_rules.py: the API server's Job validation rules that no schema holds
#    (restartPolicy Never with podFailurePolicy, actions, exit-code lists, Indexed with
#    backoffLimitPerIndex, ...) and landwatch's contract (FailJob on 1 and 2, Ignore on
#    DisruptionTarget, the manifest path shared by plan, shards and merge).
# 5. Only when kubectl reaches a cluster (KUBECONFIG or ~/.kube/config): `kubectl apply
#    --dry-run=server`, the API server's own validation and admission, nothing created.
#    Skipped, and said so, otherwise.
# 6. The pods' commands and arguments as the Jobs give them, run here (no container, no
#    Kubernetes) with a landwatch binary (LANDWATCH, or target/release/landwatch; skipped
#    without one): as uid 10001 when run as root, in a stand-in for /data, with the image's
#    demo folder and /dev/termination-log at temporary paths. The plan's termination message
#    gives N; shard i runs with JOB_COMPLETION_INDEX=i; the merge must then succeed.
# shellcheck disable=SC2016 # ${...} in single quotes are envsubst's, not the shell's
set -euo pipefail
cd "$(dirname "$0")/.."

vars='${LANDWATCH_IMAGE} ${OUT} ${SHARDS} ${PARALLELISM}'
export LANDWATCH_IMAGE=registry.example.com/landwatch:check OUT=/data/out SHARDS=4 PARALLELISM=2
files=(pvc.yaml plan-job.yaml shards-job.yaml merge-job.yaml)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-k8s: FAIL: $*" >&2; exit 1; }

echo "== 1. templates"
for f in "${files[@]}"; do
  [[ -f deploy/k8s/$f ]] || fail "deploy/k8s/$f is missing"
  while read -r v; do
    [[ -z $v || " $vars " == *" $v "* ]] || fail "$f uses $v, not one of $vars"
  done < <(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "deploy/k8s/$f" | sort -u)
  envsubst "$vars" <"deploy/k8s/$f" >"$tmp/$f"
  ! grep -n '\${' "$tmp/$f" || fail "$f still holds \${...} after envsubst"
  echo "ok    $f renders"
done
for f in deploy/k8s/*; do
  [[ " ${files[*]} " == *" ${f#deploy/k8s/} "* ]] || fail "$f: a file this check does not know"
done

echo "== 2. kubectl, offline (typed decode)"
command -v kubectl >/dev/null || fail "kubectl is not installed"
kubectl version --client 2>/dev/null | sed -n 1p
for f in plan-job.yaml shards-job.yaml merge-job.yaml; do
  kubectl set image --local -f "$tmp/$f" "landwatch=$LANDWATCH_IMAGE" -o yaml >"$tmp/$f.kubectl" \
    || fail "kubectl cannot decode $f"
  echo "ok    $f decodes as $(kubectl label --local -f "$tmp/$f" check=1 -o name)"
done
echo "ok    pvc.yaml parses as $(kubectl label --local -f "$tmp/pvc.yaml" check=1 -o name)"

echo "== 3. kubernetes-validate --strict (JSON schemas of the Kubernetes API)"
venv=target/check-k8s-venv
if [[ ! -x $venv/bin/kubernetes-validate ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0
fi
for k in 1.29.0 1.33.0 1.37.0; do
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$k" "${files[@]/#/$tmp/}" \
    || fail "kubernetes-validate --strict -k $k"
  echo "ok    schemas of Kubernetes $k"
done

echo "== 4. Job validation rules and landwatch's contract"
"$venv/bin/python" scripts/check_k8s_rules.py "$tmp" || fail "scripts/check_k8s_rules.py"

echo "== 5. server-side dry run"
if [[ -n ${KUBECONFIG:-} || -f $HOME/.kube/config ]] && kubectl version --request-timeout=5s >/dev/null 2>&1; then
  kubectl apply --dry-run=server -f "$tmp" || fail "kubectl apply --dry-run=server"
  echo "ok    kubectl apply --dry-run=server"
else
  echo "skip  no cluster reachable (KUBECONFIG): server-side dry run not run"
fi
echo "== 6. the pods' commands, run here"
bin=${LANDWATCH:-target/release/landwatch}
if [[ ! -x $bin ]] || ! "$bin" plan --help >/dev/null 2>&1; then
  echo "skip  no landwatch with plan/shard/merge ($bin)"
else
  root=$tmp/pods
  mkdir -p "$root/bin" "$root/share" "$root/data" "$root/render"
  install -m 755 "$bin" "$root/bin/landwatch"
  cp -r data/landsat_taizhou "$root/share/"
  chmod -R a+rX "$tmp"
  as_pod=()
  if [[ $(id -u) -eq 0 ]]; then
    chown 10001:10001 "$root/data"
    as_pod=(setpriv --reuid=10001 --regid=10001 --clear-groups)
  fi
  # Rendered with OUT under the stand-in for /data; python reads each Job's command, args,
  # env and workingDir and maps the image's paths to the stand-ins.
  for f in plan-job.yaml shards-job.yaml merge-job.yaml; do
    OUT=$root/data/out envsubst "$vars" <"deploy/k8s/$f" >"$root/render/$f"
  done
  "$venv/bin/python" - "$root" "${as_pod[@]}" <<'EOF' || fail "the pods' commands"
import os, subprocess, sys, yaml
root, as_pod = sys.argv[1], sys.argv[2:]
def pod(name, extra_env=None):
    job = yaml.safe_load(open(f"{root}/render/{name}"))
    c = job["spec"]["template"]["spec"]["containers"][0]
    fix = lambda a: (a.replace("/usr/share/landwatch/data", f"{root}/share")
                      .replace("/dev/termination-log", f"{root}/termination-log"))
    argv = [fix(a) for a in c.get("command", ["landwatch"]) + c.get("args", [])]
    env = dict(os.environ, PATH=f"{root}/bin:" + os.environ["PATH"], **(extra_env or {}))
    env.pop("SLURM_ARRAY_TASK_ID", None)
    for e in c.get("env", []):
        env[e["name"]] = "2"  # RAYON_NUM_THREADS, from limits.cpu in the pod
    cwd = c["workingDir"].replace("/data", f"{root}/data", 1)
    r = subprocess.run(as_pod + argv, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL  {name}: exit code {r.returncode}: {r.stderr.strip()}")
    return r
open(f"{root}/termination-log", "w").close()
os.chmod(f"{root}/termination-log", 0o666)
pod("plan-job.yaml")
n = int(open(f"{root}/termination-log").read())
print(f"ok    plan-job.yaml: the plan ran; its termination message: {n}")
for i in range(n):
    r = pod("shards-job.yaml", {"JOB_COMPLETION_INDEX": str(i)})
    print(f"ok    shards-job.yaml, JOB_COMPLETION_INDEX={i}: {r.stdout.strip()}")
pod("merge-job.yaml")
if not os.path.exists(f"{root}/data/out/summary.json"):
    sys.exit("FAIL  merge-job.yaml: no summary.json")
print("ok    merge-job.yaml: the merge wrote the outputs")
EOF
fi
echo "check-k8s: deploy/k8s/ passes"
