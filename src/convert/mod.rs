//! Opt-in conversions to the types of other crates, each behind a Cargo feature:
//!
//! - `ndarray`: [`Raster<T>`](crate::Raster) ↔ `Array2<T>` (rows × columns) and
//!   [`BandStack`](crate::BandStack) ↔ `Array3<T>` (bands × rows × columns), and views
//!   without copying;
//! - `geo-types`: GeoJSON-layer polygons and features ↔ `geo_types::Polygon` /
//!   `MultiPolygon`, and patch polygons as `MultiPolygon` in pixel-corner or map
//!   coordinates.
//!
//! The conversions are trait impls and inherent methods on landwatch's types; this module
//! adds one name, `Sample` (feature `ndarray`). An array or a geometry carries no
//! georeference, nodata value or band roles: the conversions drop them one way and take
//! them from the caller the other way.
//!
//! With `ndarray`:
//!
//! ```rust
//! # #[cfg(feature = "ndarray")]
//! # mod example {
//! use landwatch::{BandRole, BandStack, Engine, INDEX_NODATA, Raster, SpectralIndex};
//! use ndarray::{Array2, Array3};
//!
//! # pub
//! fn main() -> landwatch::Result<()> {
//!     // Red and near-infrared DN of 2 × 3 pixels: bands × rows × columns.
//!     let dn = Array3::from_shape_vec(
//!         (2, 2, 3),
//!         vec![1000u16, 2000, 500, 800, 900, 1000, 3000, 2000, 1500, 800, 2700, 0],
//!     )
//!     .unwrap();
//!     let stack = BandStack::from_array3(dn, &[BandRole::Red, BandRole::Nir])?;
//!     let ndvi = Engine::cpu().index(&stack, SpectralIndex::Ndvi)?.output;
//!     assert_eq!(ndvi.view()?[[0, 0]], 0.5); // [[row, column]], no copy
//!     let array: Array2<f32> = ndvi.try_into()?; // drops the georeference
//!     let back = Raster::from_array(array.mapv(|v| v.max(0.0)), INDEX_NODATA);
//!     assert_eq!((back.width, back.height, back.georef), (3, 2, None));
//!     Ok(())
//! }
//! # }
//! # fn main() {
//! #     #[cfg(feature = "ndarray")]
//! #     example::main().unwrap();
//! # }
//! ```
//!
//! With `geo-types`:
//!
//! ```rust
//! # #[cfg(feature = "geo-types")]
//! # mod example {
//! use geo_types::MultiPolygon;
//! use landwatch::GeoTransform;
//! use landwatch::patch::{Connectivity, label_codes, polygonize};
//!
//! # pub
//! fn main() -> landwatch::Result<()> {
//!     // A ring of changed pixels around an unchanged one: one patch with a hole.
//!     let codes = [1, 1, 1, 1, 0, 1, 1, 1, 1];
//!     let labels = label_codes(&codes, 3, 3, Connectivity::Eight)?;
//!     let patch = &polygonize(&labels)?[0];
//!     // The change raster's `georef.transform`: 30 m pixels of a UTM grid.
//!     let transform = GeoTransform([500_000.0, 30.0, 0.0, 3_600_000.0, 0.0, -30.0]);
//!     let shape: MultiPolygon<f64> = patch.to_multi_polygon(&transform);
//!     assert_eq!(shape.0.len(), 1);
//!     assert_eq!(shape.0[0].interiors().len(), 1); // the hole
//!     Ok(())
//! }
//! # }
//! # fn main() {
//! #     #[cfg(feature = "geo-types")]
//! #     example::main().unwrap();
//! # }
//! ```

#[cfg(feature = "geo-types")]
mod geo_types;
#[cfg(feature = "ndarray")]
mod ndarray;

#[cfg(feature = "ndarray")]
pub use self::ndarray::Sample;
