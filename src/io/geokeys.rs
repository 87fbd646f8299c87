//! GeoTIFF georeferencing tags: ModelPixelScale + ModelTiepoint or ModelTransformation to a
//! GDAL-order affine transform and back, the GeoKeyDirectory (raster type, and the CRS through
//! [`super::crs_keys`]), and the GDAL_NODATA text tag.

use super::crs_keys::{self, EncodedKeys, KeyValues};
use crate::geo::Crs;
use crate::raster::{GeoReference, GeoTransform};

/// Tag ModelPixelScale (3 doubles).
pub(crate) const TAG_MODEL_PIXEL_SCALE: u16 = 33550;
/// Tag ModelTiepoint (6 doubles per tie point).
pub(crate) const TAG_MODEL_TIEPOINT: u16 = 33922;
/// Tag ModelTransformation (16 doubles, row-major 4×4).
pub(crate) const TAG_MODEL_TRANSFORMATION: u16 = 34264;
/// Tag GeoKeyDirectory (shorts).
pub(crate) const TAG_GEO_KEY_DIRECTORY: u16 = 34735;
/// Tag GDAL_NODATA (ASCII).
pub(crate) const TAG_GDAL_NODATA: u16 = 42113;

const KEY_RASTER_TYPE: u16 = 1025;
const RASTER_PIXEL_IS_POINT: u16 = 2;

/// What the GeoKeyDirectory says, as far as landwatch cares.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GeoKeys {
    /// The CRS, when the keys give one.
    pub crs: Option<Crs>,
    /// GTRasterTypeGeoKey = RasterPixelIsPoint.
    pub pixel_is_point: bool,
}

/// Parses the GeoKeyDirectory shorts with the GeoDoubleParams and GeoAsciiParams they point
/// into. Malformed directories yield what could be read, never a panic.
pub(crate) fn parse_geo_keys(dir: &[u16], doubles: &[f64], ascii: &str) -> GeoKeys {
    let values = KeyValues::parse(dir, doubles, ascii);
    GeoKeys {
        crs: values.crs(),
        pixel_is_point: values.short(KEY_RASTER_TYPE) == Some(RASTER_PIXEL_IS_POINT),
    }
}

/// The CRS a GeoKeyDirectory describes, with the GeoDoubleParams and GeoAsciiParams it
/// points into: for tools that read GeoTIFF tags themselves, and the fuzz targets. `None`
/// when the keys describe no CRS; a CRS landwatch cannot use comes back as
/// [`Crs::Unsupported`].
pub fn crs_from_geo_keys(directory: &[u16], doubles: &[f64], ascii: &str) -> Option<Crs> {
    KeyValues::parse(directory, doubles, ascii).crs()
}

/// Builds the GeoKeys of a CRS (see [`super::crs_keys`]), with RasterPixelIsArea.
pub(crate) fn build_geo_keys(crs: Option<&Crs>) -> EncodedKeys {
    crs_keys::encode(crs)
}

/// The affine transform from the model tags, GDAL's way: a 4×4 ModelTransformation wins;
/// otherwise the first tie point with the pixel scale (y scale negated). Returns `None` when
/// the tags do not define an affine transform (absent, too short, tie points without scale,
/// or non-finite values). With `pixel_is_point`, the origin moves half a pixel up-left, as
/// GDAL does, so that the transform addresses pixel corners.
pub(crate) fn transform_from_tags(
    scale: Option<&[f64]>,
    tiepoints: Option<&[f64]>,
    matrix: Option<&[f64]>,
    pixel_is_point: bool,
) -> Option<GeoTransform> {
    let mut gt = if let Some(m) = matrix.filter(|m| m.len() >= 16) {
        [m[3], m[0], m[1], m[7], m[4], m[5]]
    } else {
        let s = scale.filter(|s| s.len() >= 2)?;
        let t = tiepoints.filter(|t| t.len() >= 6)?;
        [
            t[3] - t[0] * s[0],
            s[0],
            0.0,
            t[4] + t[1] * s[1],
            0.0,
            -s[1],
        ]
    };
    if pixel_is_point {
        gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
        gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
    }
    gt.iter().all(|v| v.is_finite()).then_some(GeoTransform(gt))
}

/// The model tags that encode a transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ModelTags {
    /// ModelPixelScale and one ModelTiepoint, for north-up grids.
    ScaleTiepoint([f64; 3], [f64; 6]),
    /// ModelTransformation, for rotated or south-up grids.
    Matrix([f64; 16]),
}

/// The model tags to write for a transform: scale and tie point for north-up grids (no
/// rotation, y decreasing), the 4×4 matrix otherwise.
pub(crate) fn tags_from_transform(gt: &GeoTransform) -> ModelTags {
    let c = gt.0;
    if c[2] == 0.0 && c[4] == 0.0 && c[5] < 0.0 {
        ModelTags::ScaleTiepoint([c[1], -c[5], 0.0], [0.0, 0.0, 0.0, c[0], c[3], 0.0])
    } else {
        ModelTags::Matrix([
            c[1], c[2], 0.0, c[0], c[4], c[5], 0.0, c[3], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
        ])
    }
}

/// Parses GDAL_NODATA text ("0", "-9999", "nan", "1e+20"); `None` when it is not a number.
pub(crate) fn parse_nodata(text: &str) -> Option<f64> {
    text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .parse()
        .ok()
}

/// Formats a nodata value the way GDAL writes it ("nan" for NaN; shortest exact decimal).
pub(crate) fn format_nodata(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v}")
    }
}

/// A georeference from optional parts: a transform is needed, the CRS is optional.
pub(crate) fn georef(transform: Option<GeoTransform>, keys: GeoKeys) -> Option<GeoReference> {
    transform.map(|transform| GeoReference {
        transform,
        crs: keys.crs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_pick_the_right_crs() {
        let parse = |k: &EncodedKeys| parse_geo_keys(&k.directory, &k.doubles, &k.ascii);
        let keys = |code: u32| build_geo_keys(Some(&Crs::epsg(code)));
        let k = parse(&keys(32651));
        assert_eq!(k.crs, Some(Crs::epsg(32651)));
        assert!(!k.pixel_is_point);
        assert_eq!(parse(&keys(4326)).crs, Some(Crs::epsg(4326)));
        assert_eq!(parse(&build_geo_keys(None)).crs, None);
        // EPSG:4549 is projected although its number lies among geographic ones.
        let model = |k: &EncodedKeys| k.directory[4..].chunks(4).find(|e| e[0] == 1024).unwrap()[3];
        assert_eq!(model(&keys(4549)), 1);
        assert_eq!(model(&keys(4490)), 2);
        // Geographic model with both keys: the geographic one wins.
        let dir = [
            1, 1, 0, 4, 1024, 0, 1, 2, 1025, 0, 1, 2, 2048, 0, 1, 4326, 3072, 0, 1, 32651,
        ];
        let k = parse_geo_keys(&dir, &[], "");
        assert_eq!(
            k,
            GeoKeys {
                crs: Some(Crs::epsg(4326)),
                pixel_is_point: true
            }
        );
        // Truncated directories give no CRS and no panic.
        assert_eq!(parse_geo_keys(&[1, 1, 0, 9, 3072, 0], &[], "").crs, None);
        assert_eq!(parse_geo_keys(&[1], &[], "").crs, None);
    }

    #[test]
    fn transforms_follow_gdal() {
        let gt = transform_from_tags(
            Some(&[30.0, 30.0, 0.0]),
            Some(&[0.0, 0.0, 0.0, 203325.0, 3604935.0, 0.0]),
            None,
            false,
        )
        .unwrap();
        assert_eq!(gt.0, [203325.0, 30.0, 0.0, 3604935.0, 0.0, -30.0]);
        // Tie point at pixel (10, 20).
        let gt = transform_from_tags(
            Some(&[2.0, 4.0, 0.0]),
            Some(&[10.0, 20.0, 0.0, 100.0, 200.0, 0.0]),
            None,
            false,
        )
        .unwrap();
        assert_eq!(gt.apply(10.0, 20.0), (100.0, 200.0));
        // PixelIsPoint: the tie point is a pixel centre.
        let gt = transform_from_tags(
            Some(&[2.0, 4.0, 0.0]),
            Some(&[0.0, 0.0, 0.0, 100.0, 200.0, 0.0]),
            None,
            true,
        )
        .unwrap();
        assert_eq!(gt.0, [99.0, 2.0, 0.0, 202.0, 0.0, -4.0]);
        let rotated = GeoTransform([10.0, 1.0, 0.5, 20.0, 0.25, -1.0]);
        let ModelTags::Matrix(m) = tags_from_transform(&rotated) else {
            panic!("rotated grid written as scale + tie point")
        };
        assert_eq!(
            transform_from_tags(None, None, Some(&m), false),
            Some(rotated)
        );
        let north = GeoTransform([10.0, 1.0, 0.0, 20.0, 0.0, -2.0]);
        let ModelTags::ScaleTiepoint(s, t) = tags_from_transform(&north) else {
            panic!("north-up grid written as a matrix")
        };
        assert_eq!(
            transform_from_tags(Some(&s), Some(&t), None, false),
            Some(north)
        );
        assert_eq!(
            transform_from_tags(Some(&[1.0]), Some(&t), None, false),
            None
        );
        assert_eq!(
            transform_from_tags(Some(&[f64::NAN, 1.0]), Some(&t), None, false),
            None
        );
    }

    #[test]
    fn nodata_text() {
        assert_eq!(parse_nodata("-9999\0"), Some(-9999.0));
        assert!(parse_nodata("nan").unwrap().is_nan());
        assert_eq!(parse_nodata("garbage"), None);
        for v in [
            0.0,
            -9999.0,
            1e20,
            0.1,
            f64::INFINITY,
            3.4028234663852886e38,
        ] {
            assert_eq!(parse_nodata(&format_nodata(v)), Some(v));
        }
        assert_eq!(format_nodata(f64::NAN), "nan");
    }
}
