#!/usr/bin/env python3
"""What each part of the contextual detector is worth: the default against variants with one
part switched off, on every labelled scene under SHARED_DIR/data.

  scripts/ablation.py [SHARED_DIR]        (default ../shared)

Runs the `enforce` example (built in release) per variant and scene, scores each change.tif as
scripts/accuracy_table.py does, and prints (and writes to out/ablation/ablation.md) the F1 per
scene and the mean for each variant. Needs the peer's Python environment (rasterio, numpy): run
it with ~/.venvs/peer/bin/python. About a minute on the 2-core development machine.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import accuracy_table  # noqa: E402

VARIANTS = [  # (name, enforce flags)
    ("default", []),
    ("no misregistration search (misregistration_m=0)", ["--context", "misregistration_m=0"]),
    ("no smoothing (smoothing_m=0)", ["--context", "smoothing_m=0"]),
    ("no hysteresis (grow = seed = 4.5 σ)", ["--grow-sigma", "4.5"]),
    ("no cloud or shadow mask (cloud_blue=10)", ["--context", "cloud_blue=10"]),
    ("no haze mask (haze_min_area_m2=1e12)", ["--context", "haze_min_area_m2=1e12"]),
]


def main():
    root = os.path.dirname(HERE)
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared")
    out = os.path.join(root, "out", "ablation")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "enforce"], cwd=root, check=True)
    binary = os.path.join(root, "target", "release", "examples", "enforce")
    scenes = accuracy_table.discover(os.path.join(shared, "data"))
    names = [sc["name"] for sc in scenes]
    lines = ["| variant | " + " | ".join(names) + " | mean |", "|---|" + "---:|" * (len(names) + 1)]
    for k, (variant, flags) in enumerate(VARIANTS):
        f1 = []
        for sc in scenes:
            run = os.path.join(out, f"{k}_{sc['name']}")
            f1.append(accuracy_table.enforce_f1(binary, sc, run, flags))
        lines.append(f"| {variant} | " + " | ".join(f"{x:.3f}" for x in f1) + f" | {sum(f1) / len(f1):.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(out, "ablation.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
