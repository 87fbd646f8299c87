//! landwatch: GPU-accelerated raster analysis of satellite images for land-use enforcement.
//!
//! Every kernel is a WGSL compute shader run through wgpu, and every kernel has a CPU twin
//! that gives the same decisions bit for bit. See README.md for the two commands that matter.

pub mod error;
pub mod io;
pub mod raster;
pub mod sensor;

pub use error::{Error, GpuFailure, GpuFailureKind, Result};
pub use raster::{Band, BandData, BandStack, DataType, GeoReference, GeoTransform, Raster};
pub use sensor::{BandRole, Radiometry, Sensor};
