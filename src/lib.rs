//! landwatch: GPU-accelerated raster analysis of satellite images for land-use enforcement.
//!
//! Every kernel is a WGSL compute shader (under `shaders/`) run through wgpu, and every
//! kernel has a CPU twin that takes the same decisions bit for bit. A machine without a GPU
//! runs everything on the CPU, and so does a build without the default feature `gpu` (which
//! then does not depend on wgpu).
//!
//! The library writes nothing to stderr: what it probed and why it chose a backend is logged
//! through the [`log`] crate (info and debug levels), and so is what GPU drivers print while
//! they are probed (debug level, target `landwatch::gpu`).
//!
//! ```
//! use landwatch::{Backend, Band, BandData, BandRole, BandStack, Engine, SpectralIndex};
//!
//! let red = Band::new(BandRole::Red, BandData::U16(vec![1000, 2000, 0]));
//! let nir = Band::new(BandRole::Nir, BandData::U16(vec![3000, 2000, 0]));
//! let stack = BandStack::new(3, 1, vec![red, nir]).unwrap();
//! let engine = Engine::new(Backend::Cpu);
//! let ndvi = engine.index(&stack, SpectralIndex::Ndvi).unwrap().output;
//! assert_eq!(ndvi.data, vec![0.5, 0.0, landwatch::INDEX_NODATA]);
//! ```

#[macro_use]
mod setters;

pub mod accuracy;
pub mod backend;
mod band_role;
pub mod change;
pub mod classify;
#[cfg(feature = "cli")]
pub mod cli;
pub mod convert;
pub mod error;
pub mod formula;
pub mod geo;
pub mod index;
pub mod io;
pub mod job;
pub mod overlay;
pub mod patch;
pub(crate) mod pixel;
pub mod raster;
pub mod sensor;
#[cfg(feature = "serde")]
mod serde_remote;
#[cfg(test)]
mod test_rng;
pub mod zones;

pub use backend::gpu::{AdapterSummary, GpuContext, GpuOptions};
pub use backend::{Backend, BackendChoice, Computed, Device, Engine, Execution};
pub use change::{
    ChangeCodes, ChangeMaps, ChangeMethod, ChangeOptions, ChangePlanes, ChangeSettings,
    ContextModel, ContextSettings, DateRelation, DifferencedIndex, Threshold, TransitionMatrix,
};
pub use classify::ClassThresholds;
pub use error::{Error, GpuFailure, GpuFailureKind, Result};
pub use formula::{Formula, FormulaError};
pub use index::SpectralIndex;
pub use pixel::INDEX_NODATA;
pub use raster::{Band, BandData, BandStack, DataType, GeoReference, GeoTransform, Raster};
pub use sensor::{BandRole, Radiometry, Sensor};
