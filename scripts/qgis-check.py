#!/usr/bin/env python3
"""A real GIS client opens the deliverables: QGIS (3.22, Debian's python3-qgis), headless.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis-check.py OUT_DIR IMAGERY.tif MAP.png

Loads patches.gpkg, patches.shp (those present), change.tif and class_after.tif of an
enforcement job's OUT_DIR into a QGIS project, checks that every layer is valid and that its
CRS is the imagery's (IMAGERY.tif, one of the job's dates), that the vector layers hold the
same number of features as patches.geojson and list `id` first, and renders one map PNG:
class_after.tif, change.tif over it and the patches of patches.gpkg on top, each as QGIS
styles it on opening: a raster by its NAME.qml (the file's colours and names, unchanged
transparent), the patches by the GeoPackage's default style (filled in the change colours,
translucent, outlined). Prints what it checked; exits 1 on the first failure.
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402  (after the platform is set)
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPalettedRasterRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def fail(message):
    print(f"qgis-check: FAIL: {message}")
    sys.exit(1)


def main(out_dir, imagery, png):
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    image = QgsRasterLayer(imagery, "imagery")
    if not image.isValid():
        fail(f"{imagery} does not open")
    crs = image.crs()
    print(f"imagery CRS: {crs.authid()} ({crs.description()})")
    features = len(json.load(open(os.path.join(out_dir, "patches.geojson")))["features"])
    project = QgsProject.instance()
    project.setCrs(crs)
    vectors = []
    for name in ("patches.gpkg", "patches.shp"):
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            print(f"{name}: absent, skipped")
            continue
        layer = QgsVectorLayer(path, name, "ogr")
        if not layer.isValid():
            fail(f"{name} is not a valid layer")
        if layer.crs() != crs:
            fail(f"{name}: CRS {layer.crs().authid()} is not the imagery's {crs.authid()}")
        fields = [f.name() for f in layer.fields() if f.name() != "fid"]
        if not fields or fields[0] != "id":
            fail(f"{name}: the first field is {fields[:1]}, not id")
        if layer.featureCount() != features:
            fail(f"{name}: {layer.featureCount()} features, patches.geojson {features}")
        style = ""
        if name == "patches.gpkg":
            # Opened styled by the default style the GeoPackage carries (layer_styles).
            renderer = layer.renderer()
            if renderer.type() != "categorizedSymbol" or renderer.classAttribute() != "code":
                fail(f"{name}: QGIS opened it with a {renderer.type()} renderer, not by code")
            styled = {c.value(): c.label() for c in renderer.categories()}
            codes = {str(f["code"]) for f in layer.getFeatures()}
            if not codes <= set(styled):
                fail(f"{name}: codes {sorted(codes - set(styled))} have no category")
            style = ", styled by code: " + ", ".join(f"{v} {l}" for v, l in styled.items())
        print(f"{name}: valid, {crs.authid()}, {layer.featureCount()} features, "
              f"fields {fields[:4]}…{style}")
        vectors.append(layer)
    rasters = []
    for name in ("class_after.tif", "change.tif"):
        layer = QgsRasterLayer(os.path.join(out_dir, name), name)
        if not layer.isValid():
            fail(f"{name} is not a valid layer")
        if layer.crs() != crs:
            fail(f"{name}: CRS {layer.crs().authid()} is not the imagery's {crs.authid()}")
        # The layer as QGIS opened it: styled by NAME.qml, which QGIS loads by itself.
        renderer = layer.renderer()
        if renderer.type() != "paletted":
            fail(f"{name}: QGIS drew it with a {renderer.type()} renderer, not its palette")
        classes = {int(c.value): c for c in renderer.classes()}
        table = {int(e.value): e for e in QgsPalettedRasterRenderer.colorTableToClassData(
            layer.dataProvider().colorTable(1))}
        for value, entry in classes.items():
            if value in table and value != 0 and entry.color.name() != table[value].color.name():
                fail(f"{name}: code {value} is {entry.color.name()} in QGIS, "
                     f"{table[value].color.name()} in the file's colour table")
        if name == "change.tif" and (0 not in classes or classes[0].color.alpha() != 0):
            fail(f"{name}: unchanged (0) is not transparent as QGIS opened it")
        labels = ", ".join(f"{v} {c.label}" for v, c in sorted(classes.items()))
        print(f"{name}: valid, {crs.authid()}, styled on opening: {labels}")
        rasters.append(layer)
    layers = vectors[:1] + rasters[::-1]
    for layer in layers:
        project.addMapLayer(layer)
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    settings.setExtent(rasters[0].extent())
    settings.setOutputSize(QSize(800, 800))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    if not job.renderedImage().save(png, "PNG"):
        fail(f"could not write {png}")
    from qgis.core import Qgis

    names = ", ".join(layer.name() for layer in layers)
    print(f"map: {png} ({names}), rendered by QGIS {Qgis.QGIS_VERSION}")
    app.exitQgis()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])
