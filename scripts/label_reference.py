#!/usr/bin/env python3
"""Reference labelling with scipy.ndimage.label, one code at a time (pixels with different
change codes belong to different patches; 0 and 255 are background).

usage: label_reference.py CHANGE.tif 4|8
prints JSON: {"<code>": {"count": n, "sizes": [sorted pixel counts]}, ...}
"""
import json
import sys

import numpy as np
import rasterio
from scipy import ndimage


def main():
    path, conn = sys.argv[1], sys.argv[2]
    with rasterio.open(path) as src:
        codes = src.read(1)
    structure = ndimage.generate_binary_structure(2, 2 if conn == "8" else 1)
    out = {}
    for code in sorted(int(c) for c in np.unique(codes)):
        if code in (0, 255):
            continue
        lab, n = ndimage.label(codes == code, structure=structure)
        sizes = np.bincount(lab.ravel())[1:]
        out[str(code)] = {"count": int(n), "sizes": sorted(int(s) for s in sizes)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
