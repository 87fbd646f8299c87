#!/usr/bin/env python3
"""Writes the starting seeds of the fuzz targets into fuzz/corpus/<target>/.

Run from anywhere: python3 fuzz/seeds/make_seeds.py. It only adds files; the corpora kept in
the repository are these seeds evolved by scripts/fuzz.sh and minimised with cargo fuzz cmin,
so re-running it is needed only to start a corpus afresh.

- geokeys: the GeoKey directories GDAL 3.6 writes for the 8 CRSs of tests/crs_matrix.rs and
  for LOCAL_CS (tests/data/crs/GEOKEYS.md), landwatch's own three-key form, and user-defined
  Mercator and Lambert conformal conic CRSs, in the target's format
  [n_dir u16 LE][n_doubles u16 LE][directory u16 LE...][doubles f64 LE...][ASCII params].
- read_window: each TIFF of corpus/read_geotiff behind windows (col, row, width, height as
  u16 LE): the whole image, its first pixel, an inner window and one past the edge.
- formula: the catalogue formulas (data/spectral_indices) whose symbols are available bands or
  constants, plus the formulas of the tests and a few malformed ones.
- geojson: the illustrative zone and county layers (data/landsat_taizhou/illustrative) and
  small layers in lon/lat, Web Mercator and with holes.
"""
import hashlib
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
DOUBLES, ASCII = 34736, 34737


def write(target, name, data):
    """Writes a seed under the SHA-1 of its content, as libFuzzer names inputs, so that cmin
    may drop it (files with other names are pinned: scripts/fuzz.sh keeps them)."""
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    digest = hashlib.sha1(data).hexdigest()
    with open(os.path.join(CORPUS, target, digest), "wb") as f:
        f.write(data)
    print(target, digest, name)


def geokeys(keys, doubles_order=None):
    """keys: [(id, value)], value an int (SHORT), float or list of floats (doubles) or str
    (ASCII, '|' appended). Doubles are stored in doubles_order (key ids) when given, as GDAL
    does not keep key order."""
    doubles, ascii, entries = [], "", []
    dbl_keys = [k for k, v in keys if isinstance(v, (float, list))]
    order = doubles_order or dbl_keys
    dbl_at = {}
    for k in order:
        v = dict(keys)[k]
        v = v if isinstance(v, list) else [v]
        dbl_at[k] = (len(doubles), len(v))
        doubles += v
    for k, v in sorted(keys):
        if isinstance(v, int):
            entries.append((k, 0, 1, v))
        elif isinstance(v, str):
            text = v + "|"
            entries.append((k, ASCII, len(text), len(ascii)))
            ascii += text
        else:
            at, n = dbl_at[k]
            entries.append((k, DOUBLES, n, at))
    directory = [1, 1, 0, len(entries)] + [x for e in entries for x in e]
    return (
        struct.pack("<HH", len(directory), len(doubles))
        + struct.pack("<%dH" % len(directory), *directory)
        + struct.pack("<%dd" % len(doubles), *doubles)
        + ascii.encode()
    )


def geokeys_seeds():
    common = [(1025, 1), (2054, 9102), (3076, 9001)]
    epsg = {
        "32651": ("WGS 84 / UTM zone 51N", "WGS 84"),
        "4549": ("CGCS2000 / 3-degree Gauss-Kruger CM 120E", "China Geodetic Coordinate System 2000"),
        "4510": ("CGCS2000 / Gauss-Kruger CM 123E", "China Geodetic Coordinate System 2000"),
        "3857": ("WGS 84 / Pseudo-Mercator", "WGS 84"),
    }
    for code, (pcs, gcs) in epsg.items():
        keys = common + [(1024, 1), (1026, pcs), (2049, gcs), (3072, int(code))]
        write("geokeys", "epsg" + code, geokeys(keys))
    for code, name, rf in [(4490, "China Geodetic Coordinate System 2000", 298.257222101),
                           (4326, "WGS 84", 298.257223563)]:
        keys = [(1024, 2), (1025, 1), (2048, code), (2049, name), (2054, 9102),
                (2057, 6378137.0), (2059, rf)]
        write("geokeys", "epsg%d" % code, geokeys(keys, doubles_order=[2059, 2057]))
    krass = "GCS Name = unknown|Datum = Unknown based on Krassovsky, 1942 ellipsoid|" \
            "Ellipsoid = Krassovsky, 1942|Primem = Greenwich|"
    user = [(1024, 1), (1025, 1), (1026, "unknown"), (2048, 32767), (2049, krass),
            (2050, 32767), (2054, 9102), (2056, 32767), (2057, 6378245.0), (2059, 298.3),
            (2061, 0.0), (3072, 32767), (3074, 32767), (3076, 9001)]
    albers = user + [(3075, 11), (3078, 25.0), (3079, 47.0), (3080, 105.0), (3081, 0.0),
                     (3082, 0.0), (3083, 0.0)]
    write("geokeys", "albers_krassovsky",
          geokeys(albers, [3078, 3079, 3081, 3080, 3082, 3083, 2057, 2059, 2061]))
    tm = user + [(3075, 1), (3080, 120.0), (3081, 0.0), (3082, 500000.0), (3083, 0.0),
                 (3092, 1.0)]
    write("geokeys", "gauss_krueger_krassovsky",
          geokeys(tm, [3081, 3080, 3092, 3082, 3083, 2057, 2059, 2061]))
    write("geokeys", "local_cs", geokeys([(1025, 1), (1026, "arbitrary"), (3076, 9001)]))
    # landwatch's own minimal form, and a GeoKey directory naming a geocentric model.
    write("geokeys", "landwatch_32651", geokeys([(1024, 1), (1025, 1), (3072, 32651)]))
    write("geokeys", "geocentric", geokeys([(1024, 3), (1025, 1)]))
    grs80 = [(1024, 1), (1025, 1), (2048, 4490), (3072, 32767), (3074, 32767), (3076, 9001)]
    write("geokeys", "mercator_2sp", geokeys(grs80 + [(3075, 7), (3078, 30.0), (3080, 110.0),
                                                      (3082, 0.0), (3083, 0.0)]))
    write("geokeys", "lcc_2sp_feet", geokeys(
        [(1024, 1), (2056, 7019), (3075, 8), (3076, 9002), (3078, 25.0), (3079, 47.0),
         (3084, 110.0), (3085, 12.0), (3086, 1000.0), (3087, 0.0)]))
    write("geokeys", "lcc_1sp_radians", geokeys(
        [(1024, 1), (2054, 9101), (2057, 6378140.0), (2058, 6356755.29), (3075, 9),
         (3076, 32767), (3077, 2.5), (3081, 0.5), (3080, 2.0), (3092, 0.9996)]))


def tiff_size(data):
    """(width, height) of the first IFD of a classic or BigTIFF file."""
    e = "<" if data[:2] == b"II" else ">"
    magic = struct.unpack(e + "H", data[2:4])[0]
    if magic == 43:
        off = struct.unpack(e + "Q", data[8:16])[0]
        n = struct.unpack(e + "Q", data[off:off + 8])[0]
        at, size, head = off + 8, 20, 12
    else:
        off = struct.unpack(e + "I", data[4:8])[0]
        n = struct.unpack(e + "H", data[off:off + 2])[0]
        at, size, head = off + 2, 12, 8
    dims = {}
    for i in range(n):
        entry = data[at + i * size: at + (i + 1) * size]
        tag, typ = struct.unpack(e + "HH", entry[:4])
        if tag in (256, 257):
            fmt = e + ("H" if typ == 3 else ("Q" if typ == 16 else "I"))
            dims[tag] = struct.unpack_from(fmt, entry, head)[0]
    return dims[256], dims[257]


def read_window_seeds():
    src = os.path.join(CORPUS, "read_geotiff")
    for name in sorted(os.listdir(src)):
        if not name.endswith(".tif"):
            continue
        data = open(os.path.join(src, name), "rb").read()
        w, h = tiff_size(data)
        windows = {"whole": (0, 0, w, h), "first": (0, 0, 1, 1),
                   "inner": (w // 3, h // 3, max(1, w // 2), max(1, h // 3)),
                   "past_edge": (w - 1, 0, 2, h)}
        for label, win in windows.items():
            write("read_window", name[:-4] + "_" + label, struct.pack("<4H", *win) + data)


def formula_seeds():
    path = os.path.join(ROOT, "data", "spectral_indices")
    indices = json.load(open(os.path.join(path, "spectral-indices-dict.json")))["SpectralIndices"]
    constants = json.load(open(os.path.join(path, "constants.json")))
    usable = {"B", "G", "R", "N", "S1", "S2"} | set(constants)
    for short, entry in sorted(indices.items()):
        if set(entry["bands"]) <= usable:
            write("formula", short, entry["formula"])
    extra = {
        "test_ndvi": "(N - R) / (N + R)",
        "test_savi_l": "(1 + L) * (N - R) / (N + R + L)",
        "test_evi_like": "g * (N - R) / (N + C1 * R - C2 * R + 1)",
        "test_where": "(N - R) / (N + R + 0.1) + where(N > 1e-3, 2 ** 0.25, L)",
        "functions": "clamp(sqrt(abs(N - R)), 0, 1) + min(exp(G), log(B + 1)) - max(S1, S2)",
        "powers": "-N ** 2 + R ^ -3 + G ** 0.5 + B ** 32 + S1 ** 1.5",
        "comparisons": "where(N != R, where(G <= B, 1, 2), where(S1 >= S2, 3, N == R))",
        "unknown_band": "(N - R) / (N + Q)",
        "unavailable_band": "RE1 - R",
        "chained": "N < R < G",
        "unclosed": "min(N, R",
        "huge_literal": "1e99 * N",
    }
    for name, text in extra.items():
        write("formula", name, text)


def geojson_seeds():
    src = os.path.join(ROOT, "data", "landsat_taizhou", "illustrative")
    for name in sorted(os.listdir(src)):
        if name.endswith(".geojson"):
            write("geojson", name[:-8], open(os.path.join(src, name), "rb").read())
    square = "[[[120.0,32.5],[120.05,32.5],[120.05,32.55],[120.0,32.55],[120.0,32.5]]]"
    write("geojson", "lonlat_feature",
          '{"type":"Feature","properties":{"code":7},"geometry":{"type":"Polygon",'
          '"coordinates":%s}}' % square)
    write("geojson", "web_mercator",
          '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},'
          '"features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":'
          '"Polygon","coordinates":[[[13358338,3830000],[13365000,3830000],[13365000,3836000],'
          '[13358338,3830000]]]}}]}')
    write("geojson", "hole_and_parts_utm",
          '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":'
          '"urn:ogc:def:crs:EPSG::32651"}},"features":[{"type":"Feature","properties":'
          '{"code":"B"},"geometry":{"type":"MultiPolygon","coordinates":[[[[203325,3604935],'
          '[209725,3604935],[209725,3598535],[203325,3598535]],[[205000,3603000],[206000,'
          '3603000],[206000,3602000]]],[[[209000,3600000],[212000,3600000],[212000,3597000],'
          '[209000,3600000]]]]}},{"type":"Feature","properties":{},"geometry":{"type":'
          '"LineString","coordinates":[[0,0],[1,1]]}}]}')
    write("geojson", "cgcs2000_gk",
          '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},'
          '"features":[{"type":"Feature","properties":{"code":1},"geometry":{"type":"Polygon",'
          '"coordinates":[[[485100,3602300],[490000,3602300],[490000,3598000],[485100,'
          '3602300]]]}}]}')


if __name__ == "__main__":
    geokeys_seeds()
    read_window_seeds()
    formula_seeds()
    geojson_seeds()
