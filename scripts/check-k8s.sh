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
echo "check-k8s: deploy/k8s/ passes"
