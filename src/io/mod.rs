//! File input and output: GeoTIFF reading and writing, per-band inputs resampled onto one
//! grid, grid alignment checks, PNG quicklooks, CSV tables and GeoJSON features. Every file
//! is written atomically (temporary file, then rename).

pub mod atomic;
mod codec;
mod geokeys;
pub mod geotiff;
pub mod sample;
pub mod write;

pub use atomic::write_atomically;
pub use geotiff::{
    GeoTiff, GeoTiffInfo, ReadLimits, read_geotiff, read_geotiff_bytes, read_info, read_window,
};
pub use sample::GeoTiffSample;
pub use write::{
    BigTiff, WriteOptions, write_bands, write_geotiff, write_geotiff_with, write_image, write_stack,
};
