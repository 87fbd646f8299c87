#!/usr/bin/env python3
"""Leave-one-scene-out check of the contextual detector's two thresholds.

  scripts/loso.py [SHARED_DIR]        (default ../shared; run from anywhere)

Runs the `enforce` example (built in release) on every labelled scene under SHARED_DIR/data for
each (--seed-sigma, --grow-sigma) pair of a grid, scores each change.tif as
scripts/accuracy_table.py does, then for every scene picks the pair with the best mean F1 over
the *other* scenes and reports that pair's F1 on the held-out scene. Prints the grid's mean F1s,
the pair chosen on all scenes, each held-out choice and the leave-one-scene-out mean, and
writes them to out/loso/loso.md. Needs the peer's Python environment (rasterio, numpy): run it
with ~/.venvs/peer/bin/python. About 3 minutes on the 2-core development machine.
"""
import itertools
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import accuracy_table  # noqa: E402

SEEDS = [3.5, 4.0, 4.5, 5.0, 5.5]
GROWS = [1.5, 2.0, 2.5]


def main():
    root = os.path.dirname(HERE)
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared")
    out = os.path.join(root, "out", "loso")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "enforce"], cwd=root, check=True)
    binary = os.path.join(root, "target", "release", "examples", "enforce")
    scenes = accuracy_table.discover(os.path.join(shared, "data"))
    grid = [(s, g) for s, g in itertools.product(SEEDS, GROWS) if g < s]
    f1 = {}
    for seed, grow in grid:
        for sc in scenes:
            run = os.path.join(out, f"{sc['name']}_{seed}_{grow}")
            flags = ["--seed-sigma", str(seed), "--grow-sigma", str(grow)]
            f1[(seed, grow, sc["name"])] = accuracy_table.enforce_f1(binary, sc, run, flags)
    names = [sc["name"] for sc in scenes]
    mean = lambda pair, among: sum(f1[(*pair, n)] for n in among) / len(among)  # noqa: E731
    lines = ["# Leave-one-scene-out: the contextual detector's seed and grow thresholds", "",
             "| seed σ | grow σ | mean F1, all scenes |", "|---:|---:|---:|"]
    lines += [f"| {s} | {g} | {mean((s, g), names):.3f} |" for s, g in grid]
    best = max(grid, key=lambda p: mean(p, names))
    lines += ["", f"Best on all {len(names)} scenes: seed {best[0]} σ, grow {best[1]} σ "
              f"(mean F1 {mean(best, names):.3f}).", "",
              "| held-out scene | pair chosen on the others | F1 held out | F1 with the all-scene pair |",
              "|---|---|---:|---:|"]
    held = []
    for n in names:
        others = [m for m in names if m != n]
        pick = max(grid, key=lambda p: mean(p, others))
        held.append(f1[(*pick, n)])
        lines.append(f"| {n} | {pick[0]} / {pick[1]} | {held[-1]:.3f} | {f1[(*best, n)]:.3f} |")
    lines += ["", f"Leave-one-scene-out mean F1: **{sum(held) / len(held):.3f}**."]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(out, "loso.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
