//! Spectral index definitions: NDVI, BSI, NDWI, MNDWI, NDBI, SAVI, EVI and the generic
//! normalized difference of any two bands.
//!
//! Indices are evaluated on the stored digital numbers with the radiometry moved into the
//! denominator: for `ρ = dn·s + o`, `(ρa − ρb)/(ρa + ρb) = (a − b)/((a + b) + 2o/s)`. This is
//! the same value; it keeps sums and products of 8- and 16-bit samples exact in f32, so the
//! GPU and the CPU differ only by WGSL's division (2.5 ULP); and it lets every threshold
//! decision be made without dividing (see `classify`).

use crate::backend::{Computed, Engine, Execution, cpu};
use crate::error::Result;
use crate::pixel::{INDEX_NODATA, PixelJob};
use crate::raster::{BandStack, Raster};
use crate::sensor::BandRole::{self, *};
use std::fmt;

/// Operation codes of `shaders/index.wgsl` and its CPU twin.
pub(crate) mod op {
    /// `(a − b) / ((a + b) + shift2)` over slots a, b.
    pub const NORMALIZED_DIFFERENCE: u32 = 0;
    /// Bare-soil index over slots swir1, red, nir, blue.
    pub const BARE_SOIL: u32 = 1;
    /// Soil-adjusted vegetation index over slots nir, red.
    pub const SAVI: u32 = 2;
    /// Enhanced vegetation index over slots nir, red, blue.
    pub const EVI: u32 = 3;
}

/// A spectral index computed per pixel from reflectance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpectralIndex {
    /// (nir − red) / (nir + red).
    Ndvi,
    /// Bare-soil index ((swir1 + red) − (nir + blue)) / ((swir1 + red) + (nir + blue)).
    Bsi,
    /// McFeeters' water index (green − nir) / (green + nir).
    Ndwi,
    /// Modified water index (green − swir1) / (green + swir1).
    Mndwi,
    /// Built-up index (swir1 − nir) / (swir1 + nir).
    Ndbi,
    /// Soil-adjusted vegetation index, L = 0.5: (1 + L)(nir − red) / (nir + red + L).
    Savi,
    /// Enhanced vegetation index: G(nir − red) / (nir + C1·red − C2·blue + L), with G = 2.5,
    /// C1 = 6, C2 = 7.5, L = 1.
    Evi,
    /// (a − b) / (a + b) for any two bands.
    NormalizedDifference(BandRole, BandRole),
}

impl SpectralIndex {
    /// SAVI's soil brightness correction.
    pub const SAVI_L: f64 = 0.5;
    /// EVI's gain.
    pub const EVI_G: f64 = 2.5;
    /// EVI's red aerosol coefficient.
    pub const EVI_C1: f64 = 6.0;
    /// EVI's blue aerosol coefficient.
    pub const EVI_C2: f64 = 7.5;
    /// EVI's canopy background term.
    pub const EVI_L: f64 = 1.0;

    /// The built-in indices (the generic normalized difference excluded).
    pub const BUILT_IN: [SpectralIndex; 7] = [
        SpectralIndex::Ndvi,
        SpectralIndex::Bsi,
        SpectralIndex::Ndwi,
        SpectralIndex::Mndwi,
        SpectralIndex::Ndbi,
        SpectralIndex::Savi,
        SpectralIndex::Evi,
    ];

    /// The bands the index reads, in the slot order of its kernel.
    pub fn bands(&self) -> Vec<BandRole> {
        match *self {
            SpectralIndex::Ndvi => vec![Nir, Red],
            SpectralIndex::Bsi => vec![Swir1, Red, Nir, Blue],
            SpectralIndex::Ndwi => vec![Green, Nir],
            SpectralIndex::Mndwi => vec![Green, Swir1],
            SpectralIndex::Ndbi => vec![Swir1, Nir],
            SpectralIndex::Savi => vec![Nir, Red],
            SpectralIndex::Evi => vec![Nir, Red, Blue],
            SpectralIndex::NormalizedDifference(a, b) => vec![a, b],
        }
    }

    fn op(&self) -> u32 {
        match self {
            SpectralIndex::Bsi => op::BARE_SOIL,
            SpectralIndex::Savi => op::SAVI,
            SpectralIndex::Evi => op::EVI,
            _ => op::NORMALIZED_DIFFERENCE,
        }
    }

    /// Builds the per-pixel job for this index over `stack`.
    pub(crate) fn job<'a>(&self, stack: &'a BandStack) -> Result<PixelJob<'a>> {
        let name = self.to_string();
        let mut job = PixelJob::new(stack, self.op(), &self.bands(), &name)?;
        let r = stack.radiometry;
        r.validate()?;
        // Every index is a ratio whose numerator and denominator are linear in reflectance
        // ρ = dn·s + o. Dividing both by s moves the whole radiometry into one shift of the
        // denominator, so kernels work on exact integer sums of the stored samples.
        let (s, o) = (r.scale, r.offset);
        let (shift, gain) = match self {
            SpectralIndex::Bsi => (4.0 * o / s, 1.0),
            SpectralIndex::Savi => ((2.0 * o + Self::SAVI_L) / s, 1.0 + Self::SAVI_L),
            SpectralIndex::Evi => {
                let offsets = (1.0 + Self::EVI_C1 - Self::EVI_C2) * o;
                ((offsets + Self::EVI_L) / s, Self::EVI_G)
            }
            _ => (2.0 * o / s, 1.0),
        };
        use crate::pixel::slots::index::*;
        job.set_const(INDEX_SHIFT, "radiometric shift", shift)?;
        job.set_const(INDEX_GAIN, "gain", gain)?;
        job.set_const(EVI_C1, "C1", Self::EVI_C1)?;
        job.set_const(EVI_C2, "C2", Self::EVI_C2)?;
        Ok(job)
    }
}

impl fmt::Display for SpectralIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpectralIndex::Ndvi => f.write_str("NDVI"),
            SpectralIndex::Bsi => f.write_str("BSI"),
            SpectralIndex::Ndwi => f.write_str("NDWI"),
            SpectralIndex::Mndwi => f.write_str("MNDWI"),
            SpectralIndex::Ndbi => f.write_str("NDBI"),
            SpectralIndex::Savi => f.write_str("SAVI"),
            SpectralIndex::Evi => f.write_str("EVI"),
            SpectralIndex::NormalizedDifference(a, b) => write!(f, "ND({a},{b})"),
        }
    }
}

/// [`Engine::index`]: the index as a raster on the stack's grid.
pub(crate) fn compute(
    engine: &Engine,
    stack: &BandStack,
    index: SpectralIndex,
) -> Result<Computed<Raster<f32>>> {
    let mut out = Vec::new();
    let execution = compute_into(engine, stack, index, &mut out)?;
    Ok(Computed {
        output: stack.raster_of(out, INDEX_NODATA),
        execution,
    })
}

/// [`Engine::index_into`]: the index into a caller's buffer, resized to the stack.
pub(crate) fn compute_into(
    engine: &Engine,
    stack: &BandStack,
    index: SpectralIndex,
    out: &mut Vec<f32>,
) -> Result<Execution> {
    let job = index.job(stack)?;
    out.resize(stack.len(), 0.0);
    engine.run(
        &job,
        out,
        |gpu, job, out| gpu.index(job, out),
        |job, out| cpu::run_pixels(job, out, cpu::index::index_chunk),
        &index.to_string(),
    )
}
