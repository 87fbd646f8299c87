#!/usr/bin/env python3
"""Checks on deploy/k8s/ (rendered) that no JSON schema expresses.

Part of scripts/check-k8s.sh. Two kinds of check, each a line of output:
- Rules of the API server's Job validation (pkg/apis/batch/validation in Kubernetes) that
  bear on these files and that the OpenAPI schema leaves out: podFailurePolicy needs
  restartPolicy Never; rule actions; exactly one of onExitCodes/onPodConditions; exit-code
  operator, values ascending, unique, no 0 with In; containerName naming a container;
  backoffLimitPerIndex and FailIndex only on Indexed Jobs; Indexed needs completions.
- landwatch's own contract (issue 19): FailJob on exit codes 1 and 2 exactly, Ignore on the
  DisruptionTarget condition, nothing else special-cased (so 74, 75, 130 and 137 count); the
  plan writes OUT/manifest.json and shards and merge read that same file; every pod mounts the
  claim of pvc.yaml.

Usage: check_k8s_rules.py RENDERED_DIR (pvc.yaml, plan-job.yaml, shards-job.yaml, merge-job.yaml)
"""

import sys
from pathlib import Path

import yaml

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def job_rules(name, job):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    containers = {c["name"] for c in pod["containers"]}
    indexed = spec.get("completionMode") == "Indexed"
    policy = spec.get("podFailurePolicy")
    if policy is not None:
        check(pod.get("restartPolicy") == "Never",
              f"{name}: podFailurePolicy with restartPolicy Never")
        for i, rule in enumerate(policy["rules"]):
            where = f"{name}: podFailurePolicy.rules[{i}]"
            check(rule["action"] in ("FailJob", "FailIndex", "Ignore", "Count"),
                  f"{where}: action {rule['action']} is one of FailJob, FailIndex, Ignore, Count")
            if rule["action"] == "FailIndex":
                check(indexed and "backoffLimitPerIndex" in spec,
                      f"{where}: FailIndex only with backoffLimitPerIndex")
            check(("onExitCodes" in rule) != ("onPodConditions" in rule),
                  f"{where}: exactly one of onExitCodes and onPodConditions")
            codes = rule.get("onExitCodes")
            if codes is not None:
                values = codes["values"]
                check(codes["operator"] in ("In", "NotIn"), f"{where}: operator In or NotIn")
                check(0 < len(values) <= 255, f"{where}: 1 to 255 values")
                check(values == sorted(set(values)), f"{where}: values ascending and unique")
                if codes["operator"] == "In":
                    check(0 not in values, f"{where}: no 0 among the In values")
                if "containerName" in codes:
                    check(codes["containerName"] in containers,
                          f"{where}: containerName {codes['containerName']} is a container")
            for cond in rule.get("onPodConditions", []):
                check(cond.get("status", "True") in ("True", "False", "Unknown"),
                      f"{where}: condition status True, False or Unknown")
    if "backoffLimitPerIndex" in spec or "maxFailedIndexes" in spec:
        check(indexed, f"{name}: backoffLimitPerIndex only with completionMode Indexed")
    if indexed:
        check(isinstance(spec.get("completions"), int) and spec["completions"] > 0,
              f"{name}: an Indexed Job has completions > 0")
    if "parallelism" in spec:
        check(spec["parallelism"] >= 0, f"{name}: parallelism >= 0")


def contract(name, job):
    policy = job["spec"].get("podFailurePolicy", {"rules": []})
    fail_job = [r for r in policy["rules"] if r["action"] == "FailJob"]
    ignore = [r for r in policy["rules"] if r["action"] == "Ignore"]
    check(len(fail_job) == 1 and fail_job[0].get("onExitCodes", {}).get("operator") == "In"
          and fail_job[0]["onExitCodes"]["values"] == [1, 2],
          f"{name}: FailJob on exit codes 1 and 2 (fatal), and on nothing else")
    check(len(ignore) == 1 and [c["type"] for c in ignore[0].get("onPodConditions", [])]
          == ["DisruptionTarget"],
          f"{name}: Ignore on the DisruptionTarget condition (preemption, eviction, drain)")
    others = [r for r in policy["rules"] if r["action"] not in ("FailJob", "Ignore")]
    check(not others, f"{name}: no other rule, so 74, 75, 130 and 137 count against the limit")
    pod = job["spec"]["template"]["spec"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", [])
              if "persistentVolumeClaim" in v]
    return claims


def main():
    rendered = Path(sys.argv[1])
    docs = {}
    for f in ("pvc.yaml", "plan-job.yaml", "shards-job.yaml", "merge-job.yaml"):
        docs[f] = list(yaml.safe_load_all((rendered / f).read_text()))
        check(len(docs[f]) == 1, f"{f}: one object")
    pvc = docs["pvc.yaml"][0]
    check(pvc["kind"] == "PersistentVolumeClaim", "pvc.yaml: a PersistentVolumeClaim")
    jobs = {f: docs[f][0] for f in ("plan-job.yaml", "shards-job.yaml", "merge-job.yaml")}
    for f, job in jobs.items():
        check(job["kind"] == "Job" and job["apiVersion"] == "batch/v1", f"{f}: a batch/v1 Job")
        job_rules(f, job)
        claims = contract(f, job)
        check(claims == [pvc["metadata"]["name"]],
              f"{f}: mounts the claim {pvc['metadata']['name']} of pvc.yaml")

    shards = jobs["shards-job.yaml"]["spec"]
    check(shards.get("completionMode") == "Indexed", "shards-job.yaml: completionMode Indexed")
    check("backoffLimitPerIndex" in shards or "backoffLimit" in shards,
          "shards-job.yaml: backoffLimitPerIndex or backoffLimit")

    # The plan's --out and the manifest the shards and the merge read.
    plan = jobs["plan-job.yaml"]["spec"]["template"]["spec"]["containers"][0]
    outs = [a.split("=", 1)[1] for a in plan.get("args", []) if a.startswith("--out=")]
    check(len(outs) == 1, "plan-job.yaml: one --out=DIR")
    check(any("landwatch plan" in c for c in plan.get("command", [])),
          "plan-job.yaml: runs landwatch plan")
    manifest = (outs[0] if outs else "?") + "/manifest.json"
    for f, sub in (("shards-job.yaml", "shard"), ("merge-job.yaml", "merge")):
        args = jobs[f]["spec"]["template"]["spec"]["containers"][0]["args"]
        check(args == [sub, "--manifest", manifest],
              f"{f}: runs landwatch {sub} --manifest {manifest}")
    print(f"{len(failures)} failed" if failures else "all rules hold")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
