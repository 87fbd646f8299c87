//! From changed pixels to enforcement patches (图斑): morphology, connected-component
//! labelling, the minimum-area sieve, patch attributes and polygons.
//!
//! Labels are canonical: patches are numbered 1..n in raster order of their first pixel
//! (row-major), 0 is background, so that every backend and every tiling gives the same
//! label raster.

/// Which neighbours join a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Connectivity {
    /// Edge neighbours only (up, down, left, right).
    Four,
    /// Edge and corner neighbours (the default, as GDAL's sieve and polygonize with 8).
    #[default]
    Eight,
}

/// A label raster: canonical patch ids, 0 = no patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major patch ids, 1..=count, 0 for background.
    pub ids: Vec<u32>,
    /// Number of patches.
    pub count: u32,
}

/// Pixels that belong to no patch: unchanged (0) and nodata (255) change codes.
pub fn is_background(code: u8) -> bool {
    code == crate::change::UNCHANGED || code == crate::change::CHANGE_NODATA
}

pub mod area;
pub mod attributes;
pub mod label;
pub mod morphology;
pub mod output;
pub mod polygon;
pub mod sieve;
pub mod tiled;
pub(crate) mod unionfind;

pub use area::AreaSum;
pub use attributes::{PatchAttributes, PatchLayers, PixelBox, attributes};
pub use label::{label, label_codes};
pub use output::{PatchOutputs, PatchVectors, write_patch_vectors, write_patches};
pub use polygon::{PatchPolygons, polygonize, trace_patch};
pub use sieve::{Sieved, sieve};
pub use tiled::{CodeSource, TiledPatches, TilingOptions, patches_tiled};
