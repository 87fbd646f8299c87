//! GeoTIFF georeferencing tags: ModelPixelScale + ModelTiepoint or ModelTransformation to a
//! GDAL-order affine transform and back, the GeoKeyDirectory (EPSG code, raster type), and
//! the GDAL_NODATA text tag.

use crate::geo::{Crs, Unsupported};
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

const KEY_MODEL_TYPE: u16 = 1024;
const KEY_RASTER_TYPE: u16 = 1025;
const KEY_GEOGRAPHIC_TYPE: u16 = 2048;
const KEY_PROJECTED_CS_TYPE: u16 = 3072;
const MODEL_PROJECTED: u16 = 1;
const MODEL_GEOGRAPHIC: u16 = 2;
const MODEL_GEOCENTRIC: u16 = 3;
const RASTER_PIXEL_IS_AREA: u16 = 1;
const RASTER_PIXEL_IS_POINT: u16 = 2;
const USER_DEFINED: u16 = 32767;

/// What the GeoKeyDirectory says, as far as landwatch cares.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GeoKeys {
    /// The CRS, when the keys give one.
    pub crs: Option<Crs>,
    /// GTRasterTypeGeoKey = RasterPixelIsPoint.
    pub pixel_is_point: bool,
}

/// Parses the GeoKeyDirectory shorts. Keys stored in other tags (double or ASCII params)
/// are skipped: none of the keys read here is ever stored that way. Malformed directories
/// yield what could be read, never a panic.
pub(crate) fn parse_geo_keys(dir: &[u16]) -> GeoKeys {
    let mut keys = GeoKeys::default();
    if dir.len() < 4 {
        return keys;
    }
    let count = usize::from(dir[3]);
    let (mut model, mut geographic, mut projected) = (None, None, None);
    for entry in dir[4..].chunks_exact(4).take(count) {
        let (id, location, value) = (entry[0], entry[1], entry[3]);
        if location != 0 {
            continue;
        }
        match id {
            KEY_MODEL_TYPE => model = Some(value),
            KEY_RASTER_TYPE => keys.pixel_is_point = value == RASTER_PIXEL_IS_POINT,
            KEY_GEOGRAPHIC_TYPE => geographic = Some(value),
            KEY_PROJECTED_CS_TYPE => projected = Some(value),
            _ => {}
        }
    }
    let usable = |v: Option<u16>| v.filter(|&c| c != 0 && c != USER_DEFINED).map(u32::from);
    let code = if model == Some(MODEL_GEOGRAPHIC) {
        usable(geographic).or(usable(projected))
    } else {
        usable(projected).or(usable(geographic))
    };
    keys.crs = match (code, model) {
        (Some(code), _) => Some(Crs::epsg(code)),
        (None, Some(MODEL_GEOCENTRIC)) => Some(Crs::Unsupported(Unsupported::Geocentric(None))),
        (None, Some(USER_DEFINED)) => Some(Crs::Unsupported(Unsupported::Engineering)),
        (None, Some(_)) => Some(Crs::Unsupported(Unsupported::Incomplete(
            "an EPSG code or projection parameters",
        ))),
        (None, None) => None,
    };
    keys
}

/// Builds a GeoKeyDirectory: model type and CRS key from the CRS (geographic or projected
/// as the EPSG table says), and RasterPixelIsArea.
pub(crate) fn build_geo_keys(crs: Option<&Crs>) -> Vec<u16> {
    let mut entries: Vec<[u16; 4]> = Vec::new();
    let code = crs
        .and_then(|c| c.epsg_code())
        .and_then(|e| u16::try_from(e).ok());
    if let (Some(crs), Some(code)) = (crs, code) {
        let geographic = crs.is_geographic();
        let model = if geographic {
            MODEL_GEOGRAPHIC
        } else {
            MODEL_PROJECTED
        };
        entries.push([KEY_MODEL_TYPE, 0, 1, model]);
        entries.push([KEY_RASTER_TYPE, 0, 1, RASTER_PIXEL_IS_AREA]);
        let key = if geographic {
            KEY_GEOGRAPHIC_TYPE
        } else {
            KEY_PROJECTED_CS_TYPE
        };
        entries.push([key, 0, 1, code]);
    } else {
        entries.push([KEY_RASTER_TYPE, 0, 1, RASTER_PIXEL_IS_AREA]);
    }
    let mut dir = vec![1, 1, 0, entries.len() as u16];
    dir.extend(entries.into_iter().flatten());
    dir
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
        let code = |dir: &[u16]| parse_geo_keys(dir).crs.and_then(|c| c.epsg_code());
        let keys = |code: u32| build_geo_keys(Some(&Crs::epsg(code)));
        let k = parse_geo_keys(&keys(32651));
        assert_eq!(k.crs, Some(Crs::epsg(32651)));
        assert!(!k.pixel_is_point);
        assert_eq!(code(&keys(4326)), Some(4326));
        assert_eq!(parse_geo_keys(&build_geo_keys(None)).crs, None);
        // EPSG:4549 is projected although its number lies among geographic ones.
        assert_eq!(keys(4549)[4..8], [KEY_MODEL_TYPE, 0, 1, MODEL_PROJECTED]);
        assert_eq!(keys(4490)[4..8], [KEY_MODEL_TYPE, 0, 1, MODEL_GEOGRAPHIC]);
        // Geographic model with both keys: the geographic one wins.
        let dir = [
            1, 1, 0, 4, 1024, 0, 1, 2, 1025, 0, 1, 2, 2048, 0, 1, 4326, 3072, 0, 1, 32651,
        ];
        let k = parse_geo_keys(&dir);
        assert_eq!(
            k,
            GeoKeys {
                crs: Some(Crs::epsg(4326)),
                pixel_is_point: true
            }
        );
        // Truncated directories give no code and no panic.
        assert_eq!(code(&[1, 1, 0, 9, 3072, 0]), None);
        assert_eq!(code(&[1]), None);
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
