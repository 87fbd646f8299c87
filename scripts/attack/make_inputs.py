#!/usr/bin/env python3
"""Generates the malformed inputs of scripts/attack.sh.

usage: make_inputs.py REPO_ROOT OUT_DIR            malformed rasters and vector files
       make_inputs.py --big REPO_ROOT N OUT_DIR    a mirror-tiled N x N Taizhou pair (cached)

Every raster is derived from the bundled data (data/landsat_taizhou, data/sentinel2_arid)
with GDAL, numpy and byte-level patches of the TIFF structure; every vector file from the
illustrative zones and counties of the Taizhou demo. The file names are what attack.sh uses.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")  # no .aux.xml sidecars next to the inputs


# ---------------------------------------------------------------------------------------------
# TIFF structure helpers (classic TIFF, either byte order)


class Tiff:
    def __init__(self, path):
        self.buf = bytearray(open(path, "rb").read())
        self.e = "<" if self.buf[:2] == b"II" else ">"
        assert struct.unpack(self.e + "H", self.buf[2:4])[0] == 42, path
        self.ifd = struct.unpack(self.e + "I", self.buf[4:8])[0]
        (self.n,) = struct.unpack(self.e + "H", self.buf[self.ifd : self.ifd + 2])
        self.entries = {}
        for i in range(self.n):
            p = self.ifd + 2 + 12 * i
            tag, typ, cnt = struct.unpack(self.e + "HHI", self.buf[p : p + 8])
            self.entries[tag] = (p, typ, cnt)

    SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 12: 8, 16: 8}
    FMT = {1: "B", 3: "H", 4: "I", 12: "d"}

    def _where(self, tag):
        p, typ, cnt = self.entries[tag]
        size = self.SIZES[typ] * cnt
        if size <= 4:
            return p + 8, typ, cnt
        return struct.unpack(self.e + "I", self.buf[p + 8 : p + 12])[0], typ, cnt

    def values(self, tag):
        at, typ, cnt = self._where(tag)
        f = self.FMT[typ]
        return list(struct.unpack_from(self.e + f * cnt, self.buf, at))

    def set_values(self, tag, vals):
        at, typ, cnt = self._where(tag)
        assert len(vals) == cnt
        struct.pack_into(self.e + self.FMT[typ] * cnt, self.buf, at, *vals)

    def set_all(self, tag, v):
        self.set_values(tag, [v] * self.entries[tag][2])

    def save(self, path):
        open(path, "wb").write(self.buf)


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def translate(src, dst, **kw):
    gdal.Translate(dst, src, **kw)


def write_array(path, like, arrays, dtype, nodata=None, srs_wkt=None, geo=True, creation=None):
    """Writes `arrays` (bands) as a GeoTIFF on the grid of `like` (a gdal.Dataset)."""
    h, w = arrays[0].shape
    opts = creation or ["COMPRESS=DEFLATE", "INTERLEAVE=PIXEL"]
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, len(arrays), dtype, opts)
    if geo:
        ds.SetGeoTransform(like.GetGeoTransform())
        ds.SetProjection(srs_wkt if srs_wkt is not None else like.GetProjection())
    for i, a in enumerate(arrays):
        b = ds.GetRasterBand(i + 1)
        b.WriteArray(a)
        if nodata is not None:
            b.SetNoDataValue(nodata)
    ds = None


# ---------------------------------------------------------------------------------------------
# The tile-reuse bomb: a small file that declares `size` x `size` pixels, 6 bands of u8,
# every tile offset pointing at one deflate tile.


def tile_bomb(path, size=100_000, tile=256, bands=6):
    raw = bytes(tile * tile * bands)
    comp = zlib.compress(raw, 9)
    across = (size + tile - 1) // tile
    ntiles = across * across
    e = "<"
    entries = []  # (tag, type, count, payload bytes)

    def short(tag, *v):
        entries.append((tag, 3, len(v), struct.pack(e + "H" * len(v), *v)))

    def long_(tag, *v):
        entries.append((tag, 4, len(v), struct.pack(e + "I" * len(v), *v)))

    def double(tag, *v):
        entries.append((tag, 12, len(v), struct.pack(e + "d" * len(v), *v)))

    # ImageWidth/Length as LONG, the rest in tag order.
    long_(256, size)
    long_(257, size)
    short(258, *([8] * bands))
    short(259, 8)  # deflate
    short(262, 1)
    short(277, bands)
    short(284, 1)
    short(322, tile)
    short(323, tile)
    tile_data_at = None  # patched below
    long_(324, *([0] * ntiles))  # TileOffsets, filled below
    long_(325, *([len(comp)] * ntiles))
    short(339, *([1] * bands))
    double(33550, 30.0, 30.0, 0.0)
    double(33922, 0.0, 0.0, 0.0, 203325.0, 3604935.0, 0.0)
    # GeoKeys: version 1.1.0, 3 keys: model type projected, raster pixel-is-area, EPSG 32651.
    short(34735, 1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32651)
    entries.sort(key=lambda t: t[0])
    # Layout: header | tile data | IFD | out-of-line values.
    header = 8
    tile_at = header
    ifd_at = tile_at + len(comp)
    ifd_at += ifd_at % 2
    ifd_size = 2 + 12 * len(entries) + 4
    extra_at = ifd_at + ifd_size
    out = bytearray(b"II*\x00" + struct.pack(e + "I", ifd_at))
    out += comp
    if len(out) % 2:
        out += b"\0"
    ifd = bytearray(struct.pack(e + "H", len(entries)))
    extra = bytearray()
    for tag, typ, cnt, payload in entries:
        if tag == 324:
            payload = struct.pack(e + "I" * ntiles, *([tile_at] * ntiles))
        if len(payload) <= 4:
            ifd += struct.pack(e + "HHI", tag, typ, cnt) + payload.ljust(4, b"\0")
        else:
            ifd += struct.pack(e + "HHII", tag, typ, cnt, extra_at + len(extra))
            extra += payload
            if len(extra) % 2:
                extra += b"\0"
    ifd += struct.pack(e + "I", 0)
    out += ifd + extra
    write_bytes(path, out)


# ---------------------------------------------------------------------------------------------


def rasters(root, out):
    tz = os.path.join(root, "data/landsat_taizhou")
    t1, t2 = os.path.join(tz, "Taizhou_t1.tif"), os.path.join(tz, "Taizhou_t2.tif")
    s2 = os.path.join(root, "data/sentinel2_arid")
    s2_6 = os.path.join(s2, "s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif")
    s2_4 = os.path.join(s2, "s2_10m_B02_B03_B04_B08.tif")
    s2_20 = os.path.join(s2, "s2_20m_B11_B12.tif")
    r = lambda name: os.path.join(out, name)
    os.makedirs(out, exist_ok=True)
    src = open(t1, "rb").read()
    size = len(src)
    base = Tiff(t1)

    # Not TIFF at all.
    write_bytes(r("empty.tif"), b"")
    write_bytes(r("text.tif"), b"this is not a GeoTIFF, it is a text file\n" * 20)
    write_bytes(r("garbage.tif"), np.random.default_rng(7).integers(0, 256, 65536, dtype=np.uint8).tobytes())
    gdal.Translate(r("png.tif"), t1, format="PNG", bandList=[1, 2, 3])  # a PNG named .tif
    os.makedirs(r("directory.tif"), exist_ok=True)

    # Truncated at several offsets (the IFD of this file is at its end).
    for name, at in [
        ("trunc_4.tif", 4),
        ("trunc_100.tif", 100),
        ("trunc_half.tif", size // 2),
        ("trunc_in_ifd.tif", base.ifd + 50),
        ("trunc_in_offsets.tif", base._where(273)[0] + 100),  # inside the StripOffsets array
    ]:
        write_bytes(r(name), src[:at])

    # Header and IFD damage.
    t = Tiff(t1)
    t.buf[2] = 43  # BigTIFF magic with a classic header
    t.save(r("bad_magic.tif"))
    t = Tiff(t1)
    struct.pack_into("<I", t.buf, 4, size + 1_000_000)  # IFD offset beyond the end
    t.save(r("ifd_beyond_eof.tif"))
    t = Tiff(t1)
    struct.pack_into("<H", t.buf, t.ifd, 0xFFFF ^ t.n)  # bit-flipped entry count
    t.save(r("ifd_bitflip_count.tif"))
    t = Tiff(t1)
    for tag in (273, 279):  # bit flips in the types of StripOffsets and StripByteCounts
        p = t.entries[tag][0]
        t.buf[p + 2] ^= 0x50
    t.save(r("ifd_bitflip_types.tif"))
    t = Tiff(t1)
    offs = t.values(273)
    t.set_values(273, [o + 4 * size for o in offs])  # strips beyond the end of the file
    t.save(r("strips_beyond_eof.tif"))
    t = Tiff(t1)
    t.set_all(279, 0xFFFFFFF0)  # absurd strip byte counts
    t.save(r("bytecounts_huge.tif"))
    t = Tiff(t1)
    offs, counts = t.values(273), t.values(279)
    for o, c in zip(offs[:40], counts[:40]):  # corrupt the deflate streams of 40 strips
        for k in range(o + 2, o + c, 7):
            t.buf[k] ^= 0xA5
    t.save(r("deflate_corrupt.tif"))
    t = Tiff(t1)
    t.set_values(256, [0])
    t.save(r("zero_width.tif"))
    t = Tiff(t1)
    t.set_values(257, [0])
    t.save(r("zero_height.tif"))
    t = Tiff(t1)
    t.set_values(256, [65535])
    t.set_values(257, [65535])
    t.save(r("absurd_dims.tif"))  # 4.3e9 pixels declared, 134 strips present
    tile_bomb(r("tile_bomb.tif"))

    # Wrong sample formats.
    gdal.Translate(r("complex_cint16.tif"), t1, outputType=gdal.GDT_CInt16)
    gdal.Translate(r("complex_cfloat32.tif"), t1, outputType=gdal.GDT_CFloat32)
    t = Tiff(t1)
    t.set_all(339, 4)  # SampleFormat "undefined"
    t.save(r("sampleformat_void.tif"))
    t = Tiff(t1)
    t.set_all(339, 3)  # 8-bit IEEE float does not exist
    t.save(r("float8.tif"))

    # Pairs that do not match: band counts, grids, CRS.
    gdal.Translate(r("t2_4band.tif"), t2, bandList=[1, 2, 3, 4])
    gdal.Translate(r("t2_1band.tif"), t2, bandList=[1])
    gdal.Translate(r("t2_shifted.tif"), t2, outputBounds=[203325 + 990, 3604935, 215325 + 990, 3592935])
    gdal.Translate(r("t2_cropped.tif"), t2, srcWin=[0, 0, 399, 400])
    gdal.Translate(r("t2_15m.tif"), t2, outputBounds=[203325, 3604935, 203325 + 6000, 3604935 - 6000])
    gdal.Translate(r("t2_utm50.tif"), t2, outputSRS="EPSG:32650")

    # Values: nodata everywhere, float32 holding DN, NaN bands.
    ds1 = gdal.Open(t1)
    shape = (ds1.RasterYSize, ds1.RasterXSize)
    write_array(r("nodata_all.tif"), ds1, [np.zeros(shape, np.uint8)] * 6, gdal.GDT_Byte, nodata=0)
    gdal.Translate(r("t1_float32_dn.tif"), t1, outputType=gdal.GDT_Float32)
    gdal.Translate(r("t2_float32_dn.tif"), t2, outputType=gdal.GDT_Float32)
    write_array(r("nan_bands.tif"), ds1, [np.full(shape, np.nan, np.float32)] * 6, gdal.GDT_Float32)

    # Georeferencing: none, LOCAL_CS, an EPSG code that does not exist.
    gdal.Translate(r("t1_nogeo.tif"), t1, options=["-co", "PROFILE=BASELINE"])
    gdal.Translate(r("t2_nogeo.tif"), t2, options=["-co", "PROFILE=BASELINE"])
    local = 'LOCAL_CS["arbitrary local grid",UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    gdal.Translate(r("t1_local_cs.tif"), t1, outputSRS=local)
    gdal.Translate(r("t2_local_cs.tif"), t2, outputSRS=local)
    for src_path, name in ((t1, "t1_epsg32799.tif"), (t2, "t2_epsg32799.tif")):
        t = Tiff(src_path)
        keys = t.values(34735)
        for k in range(4, len(keys), 4):
            if keys[k] == 3072:
                keys[k + 3] = 32799  # not in the EPSG registry
        t.set_values(34735, keys)
        t.save(r(name))

    # Zone masks on the wrong grid, and truncated.
    mask = np.zeros(shape, np.uint8)
    mask[50:200, 50:200] = 1
    write_array(r("mask_good.tif"), ds1, [mask], gdal.GDT_Byte)
    s2ds = gdal.Open(s2_4)
    write_array(r("mask_other_grid.tif"), s2ds, [np.ones((200, 300), np.uint8)], gdal.GDT_Byte)
    mb = open(r("mask_good.tif"), "rb").read()
    write_bytes(r("mask_truncated.tif"), mb[: len(mb) // 2])

    # Links to the bundled Sentinel-2 stacks (pairs with mismatched bands and grids).
    for name, p in (("s2_6band.tif", s2_6), ("s2_4band.tif", s2_4), ("s2_20m.tif", s2_20)):
        shutil.copyfile(p, r(name))


# ---------------------------------------------------------------------------------------------


def vectors(root, out):
    ill = os.path.join(root, "data/landsat_taizhou/illustrative")
    farmland = json.load(open(os.path.join(ill, "basic_farmland.geojson")))
    counties = json.load(open(os.path.join(ill, "counties.geojson")))
    os.makedirs(out, exist_ok=True)
    v = lambda name: os.path.join(out, name)

    def dump(name, obj):
        with open(v(name), "w") as f:
            json.dump(obj, f)

    def with_features(fc, extra):
        fc = json.loads(json.dumps(fc))
        fc["features"] = fc["features"] + extra
        return fc

    def feat(geom, **props):
        return {"type": "Feature", "properties": props, "geometry": geom}

    text = open(os.path.join(ill, "basic_farmland.geojson")).read()
    write_bytes(v("invalid_json.geojson"), text[: len(text) // 2].encode())
    write_bytes(v("binary.geojson"), bytes(range(256)) * 8)
    write_bytes(v("empty.geojson"), b"")
    dump("array.geojson", [])
    dump("no_type.geojson", {"foo": 1})
    dump("topology.geojson", {"type": "Topology", "objects": {}})
    dump("features_not_array.geojson", {"type": "FeatureCollection", "features": {"a": 1}})
    x0, y0 = 204000.0, 3604000.0
    sq = [[[x0, y0], [x0 + 3000, y0], [x0 + 3000, y0 - 3000], [x0, y0 - 3000], [x0, y0]]]
    crs = farmland["crs"]
    dump("points_only.geojson", {"type": "FeatureCollection", "crs": crs,
                                 "features": [feat({"type": "Point", "coordinates": [x0, y0]}, name="p")]})
    dump("with_linestring.geojson", with_features(farmland, [feat({"type": "LineString", "coordinates": sq[0]}, name="l")]))
    dump("with_point.geojson", with_features(farmland, [feat({"type": "Point", "coordinates": [x0, y0]}, name="p")]))
    dump("with_geometrycollection.geojson", with_features(farmland, [feat(
        {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": sq}]}, name="gc")]))
    dump("with_null_geometry.geojson", with_features(farmland, [feat(None, name="null")]))
    dump("missing_coordinates.geojson", with_features(farmland, [feat({"type": "Polygon"}, name="m")]))
    dump("null_coordinates.geojson", with_features(farmland, [feat({"type": "Polygon", "coordinates": None}, name="m")]))
    dump("string_coordinates.geojson", with_features(farmland, [feat(
        {"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]}, name="s")]))
    dump("unclosed_ring.geojson", with_features(farmland, [feat({"type": "Polygon", "coordinates": [sq[0][:-1]]}, name="u")]))
    dump("two_point_ring.geojson", with_features(farmland, [feat({"type": "Polygon", "coordinates": [sq[0][:2]]}, name="t")]))
    # NaN is not JSON; serde and Python both know the literal, so it is written by hand.
    nan = json.dumps(with_features(farmland, [feat({"type": "Polygon", "coordinates": sq}, name="n")]))
    nan = nan.replace(str(x0 + 3000), "NaN", 1)
    write_bytes(v("nan_coordinates.geojson"), nan.encode())
    huge = [[[1e308, 1e308], [-1e308, 1e308], [-1e308, -1e308], [1e308, -1e308], [1e308, 1e308]]]
    dump("huge_coordinates.geojson", with_features(farmland, [feat({"type": "Polygon", "coordinates": huge}, name="h")]))
    fc = json.loads(json.dumps(farmland))
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32799"}}
    dump("crs_unknown_epsg.geojson", fc)
    fc["crs"] = {"type": "name", "properties": {"name": "not a crs at all"}}
    dump("crs_garbage.geojson", fc)
    # 5 levels of nesting is a polygon; 100000 is a parser stack bomb.
    write_bytes(v("deep_nesting.geojson"), (b'{"type":"FeatureCollection","features":' + b"[" * 100000 + b"]" * 100000 + b"}"))
    # A ring of 200 000 vertices (a circle inside the scene).
    import math
    n = 200_000
    cx, cy, rad = 209325.0, 3598935.0, 4000.0
    ring = [[cx + rad * math.cos(2 * math.pi * k / n), cy + rad * math.sin(2 * math.pi * k / n)] for k in range(n)]
    ring.append(ring[0])
    dump("many_vertices.geojson", {"type": "FeatureCollection", "crs": crs,
                                   "features": [feat({"type": "Polygon", "coordinates": [ring]}, name="c")]})
    os.makedirs(v("directory.geojson"), exist_ok=True)

    # Regions: the field missing, and codes that are spreadsheet formulas.
    fc = json.loads(json.dumps(counties))
    for f in fc["features"]:
        f["properties"] = {"name": f["properties"].get("name")}
    dump("regions_no_code.geojson", fc)
    for name, code in [
        ("eq", "=1+2"),
        ("hyperlink", '=HYPERLINK("http://x","y")'),
        ("cmd", "=cmd|' /C calc'!A0"),
        ("at", "@SUM(1)"),
        ("plus", "+1"),
        ("minus", "-1+2"),
        ("tab", "\t=1+2"),
        ("cr", "\r=1+2"),
    ]:
        fc = json.loads(json.dumps(counties))
        fc["features"][0]["properties"]["code"] = code
        fc["features"][1]["properties"]["name"] = "=2+3"
        dump(f"regions_inject_{name}.geojson", fc)


def big_pair(root, n, out):
    tz = os.path.join(root, "data/landsat_taizhou")
    os.makedirs(out, exist_ok=True)
    for date in ("t1", "t2"):
        dst = os.path.join(out, f"big_{date}.tif")
        if os.path.exists(dst):
            continue
        ds = gdal.Open(os.path.join(tz, f"Taizhou_{date}.tif"))
        bands = []
        for i in range(ds.RasterCount):
            a = ds.GetRasterBand(i + 1).ReadAsArray()
            h, w = a.shape
            bands.append(np.pad(a, ((0, n - h), (0, n - w)), mode="symmetric"))
        tmp = dst + ".part"
        write_array(tmp, ds, bands, gdal.GDT_Byte,
                    creation=["COMPRESS=DEFLATE", "ZLEVEL=1", "INTERLEAVE=PIXEL", "TILED=YES"])
        os.replace(tmp, dst)


if __name__ == "__main__":
    if sys.argv[1] == "--big":
        big_pair(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        root, out = sys.argv[1], sys.argv[2]
        rasters(root, os.path.join(out, "rasters"))
        vectors(root, os.path.join(out, "vectors"))
