//! Fuzzes the GeoKeyDirectory reader, the CRS model and the proj4rs conversions behind it.
//!
//! Feeds: structured bytes to `landwatch::io::crs_from_geo_keys`:
//! `[n_dir: u16 LE][n_doubles: u16 LE][n_dir × u16 LE directory][n_doubles × f64 LE][ASCII]`,
//! the counts cut to what the input holds and the ASCII params decoded lossily as UTF-8
//! (`fuzz/seeds/make_seeds.py` writes seeds in this format). For any CRS returned: its `Display`,
//! PROJ string, ellipsoid and unit; `LonLat::new` in both frames, with a round trip of
//! (120° E, 32° N); and `PixelArea::of_grid` on two 3 × 3 grids (at that point and at the
//! CRS's origin).
//!
//! Must hold: no panic, no unbounded allocation, malformed keys give `None` or
//! `Crs::Unsupported`, and every other failure is a typed `landwatch::Error`.
#![no_main]

use landwatch::geo::{Crs, GeodeticFrame, LonLat, PixelArea};
use landwatch::io::crs_from_geo_keys;
use landwatch::raster::{GeoReference, GeoTransform};
use libfuzzer_sys::fuzz_target;

/// Splits the input into the directory shorts, the doubles and the ASCII params.
fn split(data: &[u8]) -> (Vec<u16>, Vec<f64>, String) {
    let count = |i: usize| {
        data.get(i..i + 2)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let (n_dir, n_dbl) = (count(0), count(2));
    let rest = data.get(4..).unwrap_or(&[]);
    let (dir, rest) = rest.split_at((2 * n_dir).min(rest.len()));
    let (dbl, ascii) = rest.split_at((8 * n_dbl).min(rest.len()));
    let directory = (dir.chunks_exact(2))
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let doubles = (dbl.chunks_exact(8))
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    (
        directory,
        doubles,
        String::from_utf8_lossy(ascii).into_owned(),
    )
}

/// Exercises the ground areas of a 3 × 3 grid with this transform.
fn areas(crs: Crs, transform: [f64; 6]) {
    let georef = GeoReference {
        transform: GeoTransform(transform),
        crs: Some(crs),
    };
    if let Ok(area) = PixelArea::of_grid(Some(&georef), 3, 3) {
        for i in 0..9 {
            let _ = area.at(i / 3, i % 3);
        }
    }
    let _ = landwatch::geo::nominal_pixel_m(Some(&georef), 3, 3);
}

fuzz_target!(|data: &[u8]| {
    let (directory, doubles, ascii) = split(data);
    let Some(crs) = crs_from_geo_keys(&directory, &doubles, &ascii) else {
        return;
    };
    let _ = (crs.to_string(), crs.epsg_code(), crs.is_equal_area());
    let _ = (
        crs.proj_string(),
        crs.datum_ellipsoid(),
        crs.linear_unit_m(),
    );
    let _ = LonLat::new(&crs, GeodeticFrame::Native).map(|ll| ll.to_lon_lat(0.0, 0.0));
    let anchor = match LonLat::new(&crs, GeodeticFrame::Wgs84) {
        Ok(ll) => {
            let xy = ll.from_lon_lat(120.0, 32.0);
            if let Some((x, y)) = xy {
                let _ = ll.to_lon_lat(x, y);
            }
            xy
        }
        Err(_) => None,
    };
    let pixel = if crs.is_geographic() {
        3e-4
    } else {
        30.0 / crs.linear_unit_m().unwrap_or(1.0)
    };
    let (x, y) = anchor.unwrap_or((0.0, 0.0));
    areas(crs, [x, pixel, 0.0, y, 0.0, -pixel]);
    areas(crs, [0.0, pixel, 0.0, 0.0, 0.0, -pixel]);
});
