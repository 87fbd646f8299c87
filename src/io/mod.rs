//! File input and output: GeoTIFF reading and writing, per-band inputs resampled onto one
//! grid, grid alignment checks, PNG quicklooks, CSV tables, and GeoJSON, Shapefile and
//! GeoPackage polygon layers. Every file is written atomically (temporary file, then rename),
//! but for Shapefiles' `.shp`, `.shx` and `.dbf` and GeoPackages, which are written in place
//! (the job writes them into its staging folder, published whole or not at all).

pub mod align;
pub mod atomic;
mod band_source;
pub mod bands;
mod codec;
mod crs_keys;
pub mod csv;
pub mod fields;
pub mod geojson;
mod geokeys;
pub mod geotiff;
pub mod gpkg;
pub mod layer;
pub mod output_set;
pub mod png;
pub mod prj;
pub mod sample;
pub mod shapefile;
pub mod source;
pub(crate) mod stamp;
pub mod write;

pub use align::{Grid, Window, check_same_grid, crop_stack, crop_to_intersection};
pub use atomic::{remove_in_flight, same_file, write_atomically};
pub use band_source::BandFilesSource;
pub use bands::{BandFile, Resampling, resample, stack_from_band_files};
pub use csv::{csv_line, csv_number, grid_decimals, write_csv, write_csv_lines};
pub use geojson::{
    Feature, FeatureLayer, OrderedFeature, Polygon, read_geojson, write_features, write_geojson,
    write_ordered_features,
};
pub use geokeys::crs_from_geo_keys;
pub use geotiff::{
    GeoTiff, GeoTiffInfo, ReadLimits, read_geotiff, read_geotiff_bytes, read_info, read_window,
    read_window_bytes,
};
pub use layer::read_polygon_layer;
pub use output_set::OutputSet;
pub use png::{class_map_png, composite_png, false_colour_png, true_colour_png};
pub use sample::GeoTiffSample;
pub use source::{DateSource, GeoTiffSource, MemorySource, SourceInfo};
pub use write::{
    BigTiff, GeoTiffStripWriter, Legend, Overviews, WriteOptions, side_car_paths, write_bands,
    write_geotiff, write_geotiff_with, write_image, write_stack,
};
