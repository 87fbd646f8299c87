#!/usr/bin/env python3
"""Helper of scripts/accuracy.sh: finds the labelled scenes and scores landwatch's runs.

  accuracy_table.py scenes DATA_DIR
      one line per labelled scene: name, sensor preset, kind (oscd|landsat), t1, t2 (tab-separated).
  accuracy_table.py report DATA_DIR OUT_DIR "METHOD ..."
      scores OUT_DIR/<scene>/<run>/change.tif (runs: default, each METHOD, gf4 for OSCD) against
      the labels, reads the peer's OUT_DIR/peer/scores.json, prints the tables in Markdown and
      writes them to OUT_DIR/accuracy.md.

Layouts: oscd_<city>/<city>_t{1,2}_*.tif + <city>_change_0no_1yes.tif (dense 0/1, every pixel
scored); landsat_<name>/*_t{1,2}.tif + *_reference_0unlabelled_1unchanged_2changed.tif (sparse:
only 1 unchanged / 2 changed scored). Changed = change code not in {0, 255}; typed = codes 1-4.
"""
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import rasterio

LAYOUTS = [  # (folder prefix, kind, sensor preset, t1 glob, t2 glob, label glob); {c} = name
    ("oscd_", "oscd", "sentinel2-l1c", "{c}_t1_*.tif", "{c}_t2_*.tif", "{c}_change_0no_1yes.tif"),
    ("landsat_", "landsat", "landsat-dn", "*_t1.tif", "*_t2.tif",
     "*_reference_0unlabelled_1unchanged_2changed.tif"),
]


def one(pattern):
    hits = sorted(glob.glob(pattern))
    if len(hits) != 1:
        sys.exit(f"accuracy: expected one file for {pattern}, found {len(hits)}")
    return hits[0]


def discover(data):
    scenes = []
    for prefix, kind, sensor, t1, t2, label in LAYOUTS:
        for d in sorted(glob.glob(os.path.join(data, prefix + "*"))):
            c = os.path.basename(d)[len(prefix):]
            if not glob.glob(os.path.join(d, label.format(c=c))):
                continue  # an unlabelled scene (e.g. for demonstrations)
            f = {k: one(os.path.join(d, g.format(c=c))) for k, g in (("t1", t1), ("t2", t2), ("label", label))}
            scenes.append(dict(name=c, kind=kind, sensor=sensor, **f))
    return scenes


def score(change_path, scene):
    with rasterio.open(scene["label"]) as ds:
        lab = ds.read(1)
    with rasterio.open(change_path) as ds:
        codes = ds.read(1)
    if codes.shape != lab.shape:
        sys.exit(f"accuracy: {change_path} is {codes.shape}, its label {lab.shape}")
    if scene["kind"] == "landsat":
        valid, truth = lab > 0, lab == 2
    else:
        valid, truth = np.ones(lab.shape, bool), lab == 1
    pred = (codes != 0) & (codes != 255)
    p, t = pred[valid], truth[valid]
    tp, fp, fn = int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    hit = codes[valid & truth & pred]
    typed = float(((hit >= 1) & (hit <= 4)).mean()) if hit.size else float("nan")
    return dict(p=prec, r=rec, f1=f1, typed=typed)


def enforce_f1(binary, scene, run, flags):
    """Runs the enforce binary on `scene` into `run` with extra `flags`; the F1 of its change.tif."""
    subprocess.run([binary, "--before", scene["t1"], "--after", scene["t2"], "--out", run,
                    "--sensor", scene["sensor"], *flags],
                   check=True, stdout=subprocess.DEVNULL, env={**os.environ, "XDG_RUNTIME_DIR": "/tmp"})
    return score(os.path.join(run, "change.tif"), scene)["f1"]


def settings_line(summary_path):
    """method, then every threshold, noise, σ and masked-share number in summary.json."""
    if not os.path.exists(summary_path):
        return ""
    with open(summary_path) as f:
        s = json.load(f)
    found = []

    def walk(node, path):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, path + [k])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                name = ".".join(path + [k]).removeprefix("settings.")
                if re.search("threshold|noise|sigma|masked_share", name, re.I):
                    short = (name.removeprefix("change_detection.")
                             .replace("threshold.noise_sigma_reflectance.", "σ_")
                             .replace("threshold.", "").replace("sky.", ""))
                    if short != "value" and short not in dict(found):
                        found.append((short, v))

    walk(s, [])
    method = s.get("settings", {}).get("method")
    out = [f"method={method}"] if method else []
    out += [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in found]
    return " ".join(out)


def mean(xs):
    xs = [x for x in xs if x is not None and x == x]
    return f"{sum(xs) / len(xs):.3f}" if xs else "–"


def f3(x):
    return "–" if x is None or x != x else f"{x:.3f}"


def report(data, out, methods):
    scenes = discover(data)
    runs = ["default"] + methods + ["gf4"]
    with open(os.path.join(out, "peer", "scores.json")) as f:
        peer_rows = json.load(f)["rows"]
    res, peer = {}, {}
    for sc in scenes:
        for run in runs:
            path = os.path.join(out, sc["name"], run, "change.tif")
            if run == "gf4" and sc["kind"] != "oscd":
                continue
            res[sc["name"], run] = score(path, sc) | {"settings": settings_line(
                os.path.join(out, sc["name"], run, "summary.json"))}
        rows = [r for r in peer_rows if r["city"] == sc["name"]]
        if not rows:
            sys.exit(f"accuracy: the peer did not score {sc['name']}")
        best = max(rows, key=lambda r: r["post"]["f1"])
        peer[sc["name"]] = (best["post"]["f1"], best["method"])

    oscd = [sc for sc in scenes if sc["kind"] == "oscd"]
    L = ["## F1 per scene", "",
         "landwatch: changed = code not in {0, 255}, raw change.tif of each run; peer: best F1 "
         "over its methods after its opening + sieve (\"F1 post\").", "",
         "| scene | default | " + " | ".join(methods) + " | 4-band (gf-4band) | peer best | peer method |",
         "|---|" + "---:|" * (len(methods) + 3) + "---|"]
    for sc in scenes:
        n = sc["name"]
        L.append(f"| {n} | " + " | ".join(f3(res[n, r]["f1"]) if (n, r) in res else "–" for r in runs)
                 + f" | {peer[n][0]:.3f} | {peer[n][1]} |")
    for label, sel in (("*mean, all scenes*", scenes), ("*mean, OSCD scenes*", oscd)):
        L.append(f"| {label} | " + " | ".join(mean([res[s['name'], r]['f1'] for s in sel if (s['name'], r) in res])
                                             for r in runs)
                 + f" | {mean([peer[s['name']][0] for s in sel])} | |")
    wins = sum(res[s["name"], "default"]["f1"] >= peer[s["name"]][0] for s in scenes)
    L += ["", f"Default at least as good as the peer's best on **{wins} of {len(scenes)}** scenes.", "",
          "## Typed share (OSCD)", "",
          "Among true changes detected by the default (label changed and code not in {0, 255}), "
          "the fraction with codes 1-4 (earth-moving, new construction, earth-moving to "
          "construction, excavation) rather than 5 (other change).", "",
          "| scene | six-band default | four-band default |", "|---|---:|---:|"]
    for sc in oscd:
        L.append(f"| {sc['name']} | {f3(res[sc['name'], 'default']['typed'])} | "
                 f"{f3(res[sc['name'], 'gf4']['typed'])} |")
    L.append(f"| *mean* | {mean([res[s['name'], 'default']['typed'] for s in oscd])} | "
             f"{mean([res[s['name'], 'gf4']['typed'] for s in oscd])} |")
    L += ["", "## Every run", "", "| scene | run | P | R | F1 | settings (summary.json) |",
          "|---|---|---:|---:|---:|---|"]
    for (n, run), m in res.items():
        L.append(f"| {n} | {run} | {m['p']:.3f} | {m['r']:.3f} | {m['f1']:.3f} | {m['settings']} |")
    text = "\n".join(L) + "\n"
    print(text, end="")
    with open(os.path.join(out, "accuracy.md"), "w") as f:
        f.write("# landwatch change accuracy (scripts/accuracy.sh)\n\n" + text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["scenes"] and len(sys.argv) == 3:
        for sc in discover(sys.argv[2]):
            print("\t".join(sc[k] for k in ("name", "sensor", "kind", "t1", "t2")))
    elif sys.argv[1:2] == ["report"] and len(sys.argv) == 5:
        report(sys.argv[2], sys.argv[3], sys.argv[4].split())
    else:
        sys.exit(__doc__)
