"""Scores landwatch change maps raw and after the peer pipeline's own post-processing.

The post-processing is the peer's (shared/peer/pipeline.py): a 3x3 binary opening
(scipy.ndimage) then rasterio's sieve of 8-connected patches under 20 pixels; the metrics and
the label reading are imported from the peer's score.py, so both pipelines are scored by the
same code. Usage: python score_postprocessed.py PEER_DIR LABEL.tif CHANGE.tif [CHANGE.tif ...]
"""
import os
import sys

import numpy as np
import rasterio
from rasterio import features
from scipy import ndimage

peer_dir, label_path, *changes = sys.argv[1:]
sys.path.insert(0, peer_dir)
import score  # noqa: E402  (the peer's scorer)

truth, valid, kind = score.load_label(label_path, "auto")
print(f"{'method':<12} {'F1 raw':>7} {'F1 post':>8} {'P post':>7} {'R post':>7} {'IoU post':>9}")
for path in changes:
    with rasterio.open(path) as ds:
        codes = ds.read(1)
    raw = (codes != 0) & (codes != 255)
    opened = ndimage.binary_opening(raw, structure=np.ones((3, 3), dtype=bool))
    post = features.sieve(opened.view(np.uint8), size=20, connectivity=8)
    r = score.metrics(raw, truth, valid)
    p = score.metrics(post, truth, valid)
    name = os.path.basename(path)[len("change_"):-len(".tif")]
    print(f"{name:<12} {r['f1']:7.3f} {p['f1']:8.3f} {p['precision']:7.3f} {p['recall']:7.3f} {p['iou']:9.3f}")
