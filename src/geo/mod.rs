//! Coordinate reference systems in pure Rust: which EPSG codes landwatch understands,
//! the inverse Transverse Mercator projection (UTM and CGCS2000 Gauss-Krüger zones) to
//! longitude/latitude, and the ellipsoidal area of pixels.

pub mod area;
pub mod crs;
pub mod ellipsoid;
pub mod tmerc;

pub use area::{PixelArea, geographic_cell_area, nominal_pixel_m};
pub use crs::Crs;
pub use ellipsoid::Ellipsoid;
pub use tmerc::TransverseMercator;
