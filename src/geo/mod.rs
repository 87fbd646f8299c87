//! Coordinate reference systems in pure Rust: the CRS model (EPSG table and user-defined),
//! conversion to and from longitude/latitude, the Transverse Mercator series of its fast
//! path, and the ground area of pixels on the ellipsoid.

pub mod area;
pub mod crs;
pub mod ellipsoid;
pub mod lonlat;
pub mod tmerc;

pub use area::{AreaLattice, PixelArea, geographic_cell_area, nominal_pixel_m};
pub use crs::{Crs, EpsgCrs, GeodeticBase, Projection, Unsupported, UserCrs};
pub use ellipsoid::Ellipsoid;
pub use lonlat::{GeodeticFrame, LonLat};
pub use tmerc::TransverseMercator;
