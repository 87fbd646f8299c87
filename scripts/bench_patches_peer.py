#!/usr/bin/env python3
"""The peer pipeline's labelling and polygonizing (pipeline.py: scipy.ndimage.label with an
8-connected structure, rasterio.features.shapes on the label raster) timed on a change
mask, in Mpx/s. Labels are computed per change code (pixels of different codes are
different patches, as in landwatch) and, as the peer does, on the binary changed mask.

usage: bench_patches_peer.py CHANGE.tif
"""
import sys
import time

import numpy as np
import rasterio
from rasterio import features
from scipy import ndimage


def best(runs, f):
    t, out = float("inf"), None
    for _ in range(runs):
        s = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - s)
    return t, out


def per_code(codes, s8):
    lab = np.zeros(codes.shape, np.int32)
    n = 0
    for code in np.unique(codes):
        if code in (0, 255):
            continue
        l, k = ndimage.label(codes == code, structure=s8)
        lab[l > 0] = l[l > 0] + n
        n += k
    return lab, n


def main():
    with rasterio.open(sys.argv[1]) as src:
        codes = src.read(1)
        transform = src.transform
    mpx = codes.size / 1e6
    s8 = np.ones((3, 3), bool)
    changed = (codes != 0) & (codes != 255)
    t, (_, n) = best(3, lambda: ndimage.label(changed, structure=s8))
    print(f"  peer scipy.ndimage.label, binary mask 8: {t:.3f} s, {mpx / t:.0f} Mpx/s, {n} patches")
    t, (lab, n) = best(3, lambda: per_code(codes, s8))
    print(f"  peer scipy.ndimage.label, per code 8: {t:.3f} s, {mpx / t:.0f} Mpx/s, {n} patches")
    t, polys = best(1, lambda: [g for g, _ in features.shapes(
        lab, mask=lab > 0, connectivity=8, transform=transform)])
    print(f"  peer rasterio.features.shapes 8: {t:.3f} s, {mpx / t:.1f} Mpx/s, {len(polys)} polygons")


if __name__ == "__main__":
    main()
