//! Protected zones and administrative regions on the image grid.
//!
//! Vector layers (GeoJSON polygons and multipolygons, holes included) are rasterized onto the
//! grid of the imagery: a pixel is inside when its centre is inside, by the even-odd rule, so
//! holes stay out and the parts of a multipolygon add up. A centre exactly on an edge follows a
//! half-open rule (inside on the left and bottom edges of a ring's crossing interval), so every
//! pixel has one answer and adjacent polygons never both claim it.
//!
//! The documented zone names are [`BASIC_FARMLAND`], [`ECO_REDLINE`] and [`URBAN_BOUNDARY`];
//! any other name works too.

use crate::error::{Error, Result};
use crate::geo::{Crs, GeodeticFrame, LonLat};
use crate::io::geojson::{Feature, FeatureLayer};
use crate::raster::{GeoReference, Raster};
use std::borrow::Cow;
use std::ops::Range;

/// Permanent basic farmland (永久基本农田).
pub const BASIC_FARMLAND: &str = "basic_farmland";
/// Ecological protection red line (生态保护红线).
pub const ECO_REDLINE: &str = "eco_redline";
/// Urban development boundary (城镇开发边界): change outside it is flagged.
pub const URBAN_BOUNDARY: &str = "urban_boundary";

/// The grid that vectors are rasterized onto.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetGrid {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Transform and CRS of the imagery.
    pub georef: GeoReference,
}

/// A named zone as a mask on the grid (1 inside, 0 outside).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The layer name (`basic_farmland`, ...).
    pub name: String,
    /// The mask.
    pub mask: Raster<u8>,
}

/// Administrative regions on the grid: each pixel holds the index + 1 of its region in
/// `codes` (0 = outside every region; where regions overlap, the first in the file wins).
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    /// Region codes (for example 6-digit county codes), in file order.
    pub codes: Vec<String>,
    /// Region index + 1 per pixel.
    pub index: Raster<u32>,
}

/// The layer in the grid's CRS: as it is when it names the grid's EPSG code; otherwise
/// converted vertex by vertex through longitude/latitude, from RFC 7946 longitude/latitude
/// (no `crs` member, EPSG:4326 or 4490) or from any other EPSG CRS it names. Edges are not
/// densified, as ogr2ogr does not: at the scale of zone boundaries the curvature is far
/// below a pixel.
pub(crate) fn in_grid_crs<'a>(
    layer: &'a FeatureLayer,
    grid: &TargetGrid,
    what: &str,
) -> Result<Cow<'a, FeatureLayer>> {
    let refuse = |reason: String| Error::GridMismatch {
        what: format!("{what}: {reason}"),
    };
    let grid_crs =
        (grid.georef.crs).ok_or_else(|| refuse("the imagery has no CRS to place it in".into()))?;
    if layer.crs == Some(grid_crs) {
        return Ok(Cow::Borrowed(layer));
    }
    let layer_crs = layer.crs.unwrap_or(Crs::epsg(4326));
    let from = LonLat::new(&layer_crs, GeodeticFrame::Wgs84)
        .map_err(|e| refuse(format!("its CRS cannot be used ({e})")))?;
    let to = LonLat::new(&grid_crs, GeodeticFrame::Wgs84)
        .map_err(|e| refuse(format!("the imagery's CRS cannot be used ({e})")))?;
    let mut projected = layer.clone();
    for feature in &mut projected.features {
        for polygon in &mut feature.polygons {
            let rings = std::iter::once(&mut polygon.exterior).chain(&mut polygon.holes);
            for p in rings.flatten() {
                let converted =
                    (from.to_lon_lat(p[0], p[1])).and_then(|(lon, lat)| to.from_lon_lat(lon, lat));
                let Some((x, y)) = converted else {
                    return Err(refuse(format!(
                        "its vertex ({}, {}) in {layer_crs} has no place in the imagery's {grid_crs}",
                        p[0], p[1]
                    )));
                };
                *p = [x, y];
            }
        }
    }
    projected.crs = Some(grid_crs);
    Ok(Cow::Owned(projected))
}

/// Rasterizes the union of `features` onto the grid, calling `burn(feature, pixel)` for every
/// pixel whose centre lies inside a feature.
fn rasterize(
    features: &[Feature],
    grid: &TargetGrid,
    rows: Range<usize>,
    mut burn: impl FnMut(usize, usize),
) -> Result<()> {
    let [x0, a, b, y0, d, e] = grid.georef.transform.0;
    let det = a * e - b * d;
    if det == 0.0 || !det.is_finite() {
        return Err(Error::InvalidParameter {
            name: "geotransform".into(),
            value: grid.georef.transform.to_string(),
            reason: "it cannot be inverted".into(),
        });
    }
    // Map coordinates to fractional pixel coordinates (col, row).
    let to_pixel = |[x, y]: [f64; 2]| {
        let (dx, dy) = (x - x0, y - y0);
        [(e * dx - b * dy) / det, (a * dy - d * dx) / det]
    };
    let mut crossings = Vec::new();
    for (f, feature) in features.iter().enumerate() {
        let rings: Vec<Vec<[f64; 2]>> = feature
            .polygons
            .iter()
            .flat_map(|p| std::iter::once(&p.exterior).chain(&p.holes))
            .map(|ring| ring.iter().copied().map(to_pixel).collect())
            .collect();
        let (mut top, mut bottom) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in rings.iter().flatten() {
            top = top.min(p[1]);
            bottom = bottom.max(p[1]);
        }
        if !top.is_finite() {
            continue;
        }
        let first_row = ((top - 0.5).ceil().max(0.0) as usize).max(rows.start);
        let last_row = ((bottom - 0.5).floor()).min(rows.end as f64 - 1.0);
        if last_row < first_row as f64 {
            continue;
        }
        for row in first_row..=last_row as usize {
            let y = row as f64 + 0.5;
            crossings.clear();
            for ring in &rings {
                let n = ring.len();
                for i in 0..n {
                    let (p, q) = (ring[i], ring[(i + 1) % n]);
                    // Half-open in y: an edge counts when y is in [min, max).
                    if (p[1] <= y) != (q[1] <= y) {
                        crossings.push(p[0] + (y - p[1]) * (q[0] - p[0]) / (q[1] - p[1]));
                    }
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                // Centres col + 0.5 in [left, right): half-open in x as well.
                let start = (pair[0] - 0.5).ceil().max(0.0);
                let end = ((pair[1] - 0.5).ceil()).min(grid.width as f64);
                for col in start as usize..end.max(start) as usize {
                    burn(f, (row - rows.start) * grid.width + col);
                }
            }
        }
    }
    Ok(())
}

/// Rasterizes a zone layer: every polygon of every feature is inside the zone.
pub fn zone_from_layer(name: &str, layer: &FeatureLayer, grid: &TargetGrid) -> Result<Zone> {
    zone_rows_from_layer(name, layer, grid, 0..grid.height)
}

/// Rasterizes rows `rows` of a zone layer on `grid`: the mask covers those rows only (its
/// georeference is that of its first row). Every strip of a tiled run is rasterized against
/// the whole grid, so strips join up to exactly the whole-grid mask.
pub fn zone_rows_from_layer(
    name: &str,
    layer: &FeatureLayer,
    grid: &TargetGrid,
    rows: Range<usize>,
) -> Result<Zone> {
    let rows = rows.start.min(grid.height)..rows.end.min(grid.height);
    let layer = in_grid_crs(layer, grid, &format!("zone layer '{name}'"))?;
    let mut data = vec![0u8; grid.width * rows.len()];
    rasterize(&layer.features, grid, rows.clone(), |_, i| data[i] = 1)?;
    Ok(Zone {
        name: name.to_string(),
        mask: Raster {
            width: grid.width,
            height: rows.len(),
            data,
            nodata: 255,
            georef: Some(rows_georef(grid, rows.start)),
        },
    })
}

/// The georeference of a strip starting at `row`.
fn rows_georef(grid: &TargetGrid, row: usize) -> GeoReference {
    crate::io::align::window_georef(
        &grid.georef,
        &crate::io::Window {
            col: 0,
            row,
            width: grid.width,
            height: 1,
        },
    )
}

/// A zone from a raster on the same grid: nonzero pixels (other than its nodata) are inside.
pub fn zone_from_raster(name: &str, raster: &Raster<u8>, grid: &TargetGrid) -> Result<Zone> {
    if (raster.width, raster.height) != (grid.width, grid.height)
        || raster.georef.is_some_and(|g| g != grid.georef)
    {
        return Err(Error::GridMismatch {
            what: format!(
                "zone raster '{name}' is {}×{} on {}, the imagery {}×{} on {}",
                raster.width,
                raster.height,
                GeoReference::describe(raster.georef.as_ref()),
                grid.width,
                grid.height,
                grid.georef
            ),
        });
    }
    let data = raster
        .data
        .iter()
        .map(|&v| u8::from(v != 0 && v != raster.nodata))
        .collect();
    Ok(Zone {
        name: name.to_string(),
        mask: Raster {
            width: grid.width,
            height: grid.height,
            data,
            nodata: 255,
            georef: Some(grid.georef),
        },
    })
}

/// Rasterizes administrative regions, taking each region's code from the property `field`
/// (strings and numbers both work). Features without the field are an error naming them.
pub fn regions_from_layer(layer: &FeatureLayer, field: &str, grid: &TargetGrid) -> Result<Regions> {
    region_rows_from_layer(layer, field, grid, 0..grid.height)
}

/// Rasterizes rows `rows` of the regions layer on `grid` (as [`zone_rows_from_layer`]).
pub fn region_rows_from_layer(
    layer: &FeatureLayer,
    field: &str,
    grid: &TargetGrid,
    rows: Range<usize>,
) -> Result<Regions> {
    let rows = rows.start.min(grid.height)..rows.end.min(grid.height);
    let layer = in_grid_crs(layer, grid, "the regions layer")?;
    let codes = layer
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| match f.properties.get(field) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
            _ => Err(Error::InvalidParameter {
                name: "region field".into(),
                value: field.to_string(),
                reason: format!("feature {i} has no string or number property '{field}'"),
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut data = vec![0u32; grid.width * rows.len()];
    rasterize(&layer.features, grid, rows.clone(), |f, i| {
        if data[i] == 0 {
            data[i] = f as u32 + 1;
        }
    })?;
    Ok(Regions {
        codes,
        index: Raster {
            width: grid.width,
            height: rows.len(),
            data,
            nodata: 0,
            georef: Some(rows_georef(grid, rows.start)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::geojson::parse_geojson;
    use crate::raster::GeoTransform;

    fn grid() -> TargetGrid {
        // 10×10 pixels of 10 m, origin (1000, 2000), north up, EPSG:32651.
        TargetGrid {
            width: 10,
            height: 10,
            georef: GeoReference {
                transform: GeoTransform([1000.0, 10.0, 0.0, 2000.0, 0.0, -10.0]),
                crs: Some(crate::geo::Crs::epsg(32651)),
            },
        }
    }

    /// A collection in EPSG:32651 of one feature coded 320100, whose geometry is `GEOMETRY`.
    const ONE_FEATURE: &str = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32651"}},
               "features":[{"type":"Feature","properties":{"code":"320100"},"geometry":GEOMETRY}]}"#;

    fn layer(geometry: &str) -> FeatureLayer {
        parse_geojson(&ONE_FEATURE.replace("GEOMETRY", geometry)).unwrap()
    }

    fn inside(zone: &Zone) -> Vec<(usize, usize)> {
        (0..100)
            .filter(|&i| zone.mask.data[i] == 1)
            .map(|i| (i % 10, i / 10))
            .collect()
    }

    #[test]
    fn a_square_covers_the_pixels_whose_centres_it_contains() {
        // x 1020..1050, y 1950..1980 → cols 2..5, rows 2..5 (centres inside).
        let l = layer(
            r#"{"type":"Polygon","coordinates":[[[1020,1950],[1050,1950],[1050,1980],[1020,1980],[1020,1950]]]}"#,
        );
        let z = zone_from_layer("basic_farmland", &l, &grid()).unwrap();
        let expected: Vec<(usize, usize)> =
            (2..5).flat_map(|r| (2..5).map(move |c| (c, r))).collect();
        let mut got = inside(&z);
        got.sort_by_key(|&(c, r)| (r, c));
        assert_eq!(got, expected);
    }

    #[test]
    fn holes_stay_out_and_multipolygon_parts_add_up() {
        let l = layer(
            r#"{"type":"MultiPolygon","coordinates":[
                [[[1000,1900],[1050,1900],[1050,1950],[1000,1950],[1000,1900]],
                 [[1020,1920],[1030,1920],[1030,1930],[1020,1930],[1020,1920]]],
                [[[1080,1980],[1100,1980],[1100,2000],[1080,2000],[1080,1980]]]]}"#,
        );
        let z = zone_from_layer("eco_redline", &l, &grid()).unwrap();
        // The first part: 5×5 pixels (cols 0..5, rows 5..10) minus the 1-pixel hole at (2, 7).
        // The second: 2×2 pixels at cols 8..10, rows 0..2.
        assert_eq!(inside(&z).len(), 25 - 1 + 4);
        assert_eq!(z.mask.data[7 * 10 + 2], 0, "the hole");
        assert_eq!(z.mask.data[9], 1);
    }

    #[test]
    fn adjacent_polygons_never_share_a_pixel() {
        let fc = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32651"}},"features":[
            {"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[[1000,1900],[1045,1900],[1045,2000],[1000,2000],[1000,1900]]]}},
            {"type":"Feature","properties":{"code":100},"geometry":{"type":"Polygon","coordinates":[[[1045,1900],[1100,1900],[1100,2000],[1045,2000],[1045,1900]]]}}]}"#;
        let r = regions_from_layer(&parse_geojson(fc).unwrap(), "code", &grid()).unwrap();
        assert_eq!(r.codes, vec!["A".to_string(), "100".to_string()]);
        // The boundary x = 1045 is the centre of column 4: it belongs to the right polygon only.
        for row in 0..10 {
            let cols: Vec<u32> = (0..10).map(|c| r.index.data[row * 10 + c]).collect();
            assert_eq!(cols, vec![1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
        }
    }

    #[test]
    fn a_lon_lat_layer_is_projected_onto_a_utm_grid() {
        // The square of the first test, its corners converted to lon/lat by the inverse
        // projection: the same pixels come out.
        let utm = LonLat::new(&Crs::epsg(32651), GeodeticFrame::Wgs84).unwrap();
        let corners = [
            [1020.0, 1950.0],
            [1050.0, 1950.0],
            [1050.0, 1980.0],
            [1020.0, 1980.0],
        ];
        let ring: Vec<String> = corners
            .iter()
            .chain(&corners[..1])
            .map(|&[x, y]| {
                let (lon, lat) = utm.to_lon_lat(x + 500_000.0, y + 3_000_000.0).unwrap();
                format!("[{lon},{lat}]")
            })
            .collect();
        let mut g = grid();
        g.georef.transform.0[0] += 500_000.0;
        g.georef.transform.0[3] += 3_000_000.0;
        let l = parse_geojson(&format!(
            r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}"#,
            ring.join(",")
        ))
        .unwrap();
        let z = zone_from_layer("basic_farmland", &l, &g).unwrap();
        assert_eq!(inside(&z).len(), 9);
        assert_eq!(z.mask.data[2 * 10 + 2], 1);
    }

    #[test]
    fn a_layer_in_another_crs_is_converted_and_an_unusable_one_refused() {
        // The same square in Web Mercator gives the same pixels on the UTM grid.
        let utm = LonLat::new(&Crs::epsg(32651), GeodeticFrame::Wgs84).unwrap();
        let mercator = LonLat::new(&Crs::epsg(3857), GeodeticFrame::Wgs84).unwrap();
        let corners = [
            [1020.0, 1950.0],
            [1050.0, 1950.0],
            [1050.0, 1980.0],
            [1020.0, 1980.0],
        ];
        let ring: Vec<String> = (corners.iter().chain(&corners[..1]))
            .map(|&[x, y]| {
                let (lon, lat) = utm.to_lon_lat(x + 500_000.0, y + 3_000_000.0).unwrap();
                let (mx, my) = mercator.from_lon_lat(lon, lat).unwrap();
                format!("[{mx},{my}]")
            })
            .collect();
        let mut g = grid();
        g.georef.transform.0[0] += 500_000.0;
        g.georef.transform.0[3] += 3_000_000.0;
        let mut l = layer(&format!(
            r#"{{"type":"Polygon","coordinates":[[{}]]}}"#,
            ring.join(",")
        ));
        l.crs = Some(Crs::epsg(3857));
        let z = zone_from_layer("basic_farmland", &l, &g).unwrap();
        assert_eq!(inside(&z).len(), 9);
        // A geocentric layer is refused, named.
        l.crs = Some(Crs::epsg(4978));
        let e = zone_from_layer("basic_farmland", &l, &g)
            .unwrap_err()
            .to_string();
        assert!(e.contains("EPSG:4978") && e.contains("geocentric"), "{e}");
        let r = regions_from_layer(
            &layer(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#),
            "name",
            &grid(),
        );
        assert!(r.unwrap_err().to_string().contains("'name'"));
    }
}
