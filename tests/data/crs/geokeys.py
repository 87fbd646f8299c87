#!/usr/bin/env python3
"""Prints, as Markdown, the GeoTIFF georeferencing tags GDAL writes for the inputs of
tests/crs_matrix.rs: the Taizhou first date warped the way the test warps it into each target
CRS, and the LOCAL_CS copy of the refusal test.

For each file: the GeoKeyDirectory entries (key id, name, where the value is stored, value),
GeoDoubleParams, GeoAsciiParams, the model tags and GDAL_NODATA, read straight from the TIFF
bytes (classic TIFF, either byte order), not through GDAL or libgeotiff.

Usage (from the repository root; needs gdalwarp and gdal_translate on PATH):
    python3 tests/data/crs/geokeys.py
"""

import os
import struct
import subprocess
import sys
import tempfile

SRC = "data/landsat_taizhou/Taizhou_t1.tif"
SRC2 = "data/landsat_taizhou/Taizhou_t2.tif"
TARGETS = [
    "EPSG:32651",
    "EPSG:4549",
    "EPSG:4510",
    "EPSG:4490",
    "EPSG:4326",
    "EPSG:3857",
    "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=krass +units=m +no_defs",
    "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +ellps=krass +units=m +no_defs",
]
LOCAL_CS = 'LOCAL_CS["arbitrary",UNIT["unknown",1]]'

KEY_NAMES = {
    1024: "GTModelTypeGeoKey", 1025: "GTRasterTypeGeoKey", 1026: "GTCitationGeoKey",
    2048: "GeographicTypeGeoKey", 2049: "GeogCitationGeoKey",
    2050: "GeogGeodeticDatumGeoKey", 2051: "GeogPrimeMeridianGeoKey",
    2052: "GeogLinearUnitsGeoKey", 2053: "GeogLinearUnitSizeGeoKey",
    2054: "GeogAngularUnitsGeoKey", 2055: "GeogAngularUnitSizeGeoKey",
    2056: "GeogEllipsoidGeoKey", 2057: "GeogSemiMajorAxisGeoKey",
    2058: "GeogSemiMinorAxisGeoKey", 2059: "GeogInvFlatteningGeoKey",
    2060: "GeogAzimuthUnitsGeoKey", 2061: "GeogPrimeMeridianLongGeoKey",
    2062: "GeogTOWGS84GeoKey",
    3072: "ProjectedCSTypeGeoKey", 3073: "PCSCitationGeoKey", 3074: "ProjectionGeoKey",
    3075: "ProjCoordTransGeoKey", 3076: "ProjLinearUnitsGeoKey",
    3077: "ProjLinearUnitSizeGeoKey", 3078: "ProjStdParallel1GeoKey",
    3079: "ProjStdParallel2GeoKey", 3080: "ProjNatOriginLongGeoKey",
    3081: "ProjNatOriginLatGeoKey", 3082: "ProjFalseEastingGeoKey",
    3083: "ProjFalseNorthingGeoKey", 3084: "ProjFalseOriginLongGeoKey",
    3085: "ProjFalseOriginLatGeoKey", 3086: "ProjFalseOriginEastingGeoKey",
    3087: "ProjFalseOriginNorthingGeoKey", 3088: "ProjCenterLongGeoKey",
    3089: "ProjCenterLatGeoKey", 3090: "ProjCenterEastingGeoKey",
    3091: "ProjCenterNorthingGeoKey", 3092: "ProjScaleAtNatOriginGeoKey",
    3093: "ProjScaleAtCenterGeoKey", 3094: "ProjAzimuthAngleGeoKey",
    3095: "ProjStraightVertPoleLongGeoKey",
    4096: "VerticalCSTypeGeoKey", 4097: "VerticalCitationGeoKey",
    4098: "VerticalDatumGeoKey", 4099: "VerticalUnitsGeoKey",
}
# Meanings of the SHORT values that occur here.
MEANINGS = {
    1024: {1: "ModelTypeProjected", 2: "ModelTypeGeographic", 3: "ModelTypeGeocentric"},
    1025: {1: "RasterPixelIsArea", 2: "RasterPixelIsPoint"},
    2054: {9102: "Angular_Degree"},
    3075: {1: "CT_TransverseMercator", 7: "CT_Mercator", 11: "CT_AlbersEqualArea"},
    3076: {9001: "Linear_Meter"},
}
TAG_PIXEL_SCALE, TAG_TIEPOINT, TAG_TRANSFORMATION = 33550, 33922, 34264
TAG_KEYS, TAG_DOUBLES, TAG_ASCII, TAG_NODATA = 34735, 34736, 34737, 42113
TYPES = {1: "B", 2: "s", 3: "H", 4: "I", 5: "II", 11: "f", 12: "d", 16: "Q"}
SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 11: 4, 12: 8, 16: 8}


def read_tags(path):
    """The first IFD's tags as {tag: tuple of values or str}."""
    with open(path, "rb") as f:
        data = f.read()
    bo = {b"II": "<", b"MM": ">"}[data[:2]]
    if struct.unpack(bo + "H", data[2:4])[0] != 42:
        sys.exit(f"{path}: not a classic TIFF")
    ifd = struct.unpack(bo + "I", data[4:8])[0]
    (count,) = struct.unpack(bo + "H", data[ifd:ifd + 2])
    tags = {}
    for i in range(count):
        e = ifd + 2 + 12 * i
        tag, typ, n = struct.unpack(bo + "HHI", data[e:e + 8])
        if typ not in TYPES:
            continue
        size = SIZES[typ] * n
        at = e + 8 if size <= 4 else struct.unpack(bo + "I", data[e + 8:e + 12])[0]
        raw = data[at:at + size]
        if typ == 2:
            tags[tag] = raw.rstrip(b"\0").decode("latin-1")
        else:
            tags[tag] = struct.unpack(bo + TYPES[typ][-1] * n, raw)
    return tags


def geokeys(tags):
    """Markdown lines for the georeferencing tags of one file."""
    lines = []
    keys = tags.get(TAG_KEYS)
    doubles = tags.get(TAG_DOUBLES, ())
    ascii_params = tags.get(TAG_ASCII, "")
    model = []
    if TAG_PIXEL_SCALE in tags:
        model.append("ModelPixelScale %s" % list(tags[TAG_PIXEL_SCALE]))
    if TAG_TIEPOINT in tags:
        model.append("ModelTiepoint %s" % list(tags[TAG_TIEPOINT]))
    if TAG_TRANSFORMATION in tags:
        model.append("ModelTransformation %s" % list(tags[TAG_TRANSFORMATION]))
    if TAG_NODATA in tags:
        model.append("GDAL_NODATA %r" % tags[TAG_NODATA])
    lines.append("Other tags: " + ("; ".join(model) if model else "none") + ".")
    lines.append("")
    if keys is None:
        lines.append("No GeoKeyDirectory.")
        return lines
    version, revision, minor, n = keys[:4]
    lines.append(f"GeoKeyDirectory header: version {version}, revision {revision}.{minor}, "
                 f"{n} keys.")
    lines.append("")
    lines.append("| key | name | stored in | value |")
    lines.append("|---:|---|---|---|")
    for i in range(n):
        key, location, count, offset = keys[4 + 4 * i:8 + 4 * i]
        name = KEY_NAMES.get(key, "?")
        if location == 0:
            where = "SHORT"
            meaning = MEANINGS.get(key, {}).get(offset)
            if offset == 32767:
                meaning = "user-defined"
            value = f"{offset}" + (f" ({meaning})" if meaning else "")
        elif location == TAG_DOUBLES:
            where = f"GeoDoubleParams[{offset}..{offset + count}]"
            value = ", ".join(repr(v) for v in doubles[offset:offset + count])
        elif location == TAG_ASCII:
            where = f"GeoAsciiParams[{offset}..{offset + count}]"
            value = '"%s"' % ascii_params[offset:offset + count].replace("|", "\\|")
        else:
            where, value = f"tag {location}", f"count {count}, offset {offset}"
        lines.append(f"| {key} | {name} | {where} | {value} |")
    lines.append("")
    lines.append("GeoDoubleParams: %s" % (list(doubles) if doubles else "none"))
    lines.append("")
    lines.append("GeoAsciiParams: %s" % (repr(ascii_params) if ascii_params else "none"))
    return lines


def gdal(*args):
    env = dict(os.environ, GDAL_PAM_ENABLED="NO")
    subprocess.run(args, check=True, env=env)


def main():
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, srs in enumerate(TARGETS):
            t1 = os.path.join(tmp, f"t1_{i}.tif")
            t2 = os.path.join(tmp, f"t2_{i}.tif")
            gdal("gdalwarp", "-q", "-r", "near", "-dstnodata", "0", "-t_srs", srs, SRC, t1)
            # The second date, warped the same way: its keys are compared with the first.
            gdal("gdalwarp", "-q", "-r", "near", "-dstnodata", "0", "-t_srs", srs, SRC2, t2)
            tags1, tags2 = read_tags(t1), read_tags(t2)
            same = all(tags1.get(t) == tags2.get(t) for t in (TAG_KEYS, TAG_DOUBLES, TAG_ASCII))
            out.append(f"### `-t_srs {srs}`")
            out.append("")
            out += geokeys(tags1)
            out.append("")
            out.append("The second date's GeoKeys are %s." % ("identical" if same else "DIFFERENT"))
            out.append("")
        local = os.path.join(tmp, "local_cs.tif")
        gdal("gdal_translate", "-q", "-a_srs", LOCAL_CS, SRC, local)
        out.append(f"### `gdal_translate -a_srs '{LOCAL_CS}'`")
        out.append("")
        out += geokeys(read_tags(local))
        out.append("")
        baseline = os.path.join(tmp, "baseline.tif")
        gdal("gdal_translate", "-q", "-co", "PROFILE=BASELINE", SRC, baseline)
        out.append("### `gdal_translate -co PROFILE=BASELINE` (sidecars off)")
        out.append("")
        out += geokeys(read_tags(baseline))
    print("\n".join(out))


if __name__ == "__main__":
    main()
