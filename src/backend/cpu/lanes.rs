//! Lanes: the samples of a per-pixel job, 16 pixels at a time, as f32 (and, for small
//! integers, i32) lane arrays with their validity, in the most specific shape that fits the job
//! so that the loops over them vectorise and, for the common shape, unroll.

// Lane loops index several arrays in step; an iterator chain would hide the lane.
#![allow(clippy::needless_range_loop)]

use crate::pixel::PixelJob;
use crate::raster::{BandData, u32_to_f32};

/// Pixels per lane block: one AVX-512 register of f32 (two of AVX2).
pub(crate) const LANES: usize = 16;
/// How far ahead of a block the uniform loader prefetches each slot, in samples (1 KiB of
/// u16): with twelve input streams, the hardware prefetchers alone leave the loads waiting
/// (about 15% of the fused pass on the development machine; 512 beat 256 and 1,024).
const PREFETCH_AHEAD: usize = 512;
/// Bands of one date in a change vector, at most.
pub(crate) const MAX_BANDS: usize = 6;

/// One input slot of a job: its samples and what makes one invalid.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    data: &'a BandData,
    /// The nodata value, NaN when there is none.
    nodata: f32,
}

/// Where the samples of a block come from.
pub(crate) trait Samples {
    /// Bands per date in the change vector.
    fn bands(&self) -> usize;
    /// Slots, both dates and any mask.
    fn slot_count(&self) -> usize;
    /// The samples `start..start + len` of every slot, so that the loops over them index
    /// slices of one known length (and need no bounds checks).
    fn window(&self, start: usize, len: usize) -> Self;
    /// Samples `start..start + n` of slot `s` as f32 lanes and, for 8- and 16-bit integers, as
    /// i32 lanes too (zero past `n ≤ LANES`), clearing `valid` where a sample is NaN,
    /// infinite or nodata (the loader and `is_valid` of `shaders/common.wgsl`).
    fn lanes(
        &self,
        s: usize,
        start: usize,
        n: usize,
        valid: &mut [bool; LANES],
    ) -> ([f32; LANES], [i32; LANES]);
}

/// `src[start..start + n]` mapped by `f` into lanes, zero past `n`.
#[inline(always)]
fn widen<S: Copy, T: Copy + Default>(
    src: &[S],
    start: usize,
    n: usize,
    f: impl Fn(S) -> T,
) -> [T; LANES] {
    let mut x = [T::default(); LANES];
    if let Ok(block) = <&[S; LANES]>::try_from(&src[start..start + n]) {
        for l in 0..LANES {
            x[l] = f(block[l]);
        }
    } else {
        for (x, &s) in x.iter_mut().zip(&src[start..start + n]) {
            *x = f(s);
        }
    }
    x
}

/// Integer lanes and their exact f32 values.
#[inline(always)]
fn exact(i: [i32; LANES]) -> ([f32; LANES], [i32; LANES]) {
    let mut x = [0.0; LANES];
    for l in 0..LANES {
        x[l] = i[l] as f32;
    }
    (x, i)
}

/// Clears `valid` where a lane equals the nodata value (NaN when the slot has none: no lane
/// equals it, and the loop needs no branch).
#[inline(always)]
fn clear_nodata(x: &[f32; LANES], nodata: f32, valid: &mut [bool; LANES]) {
    for l in 0..LANES {
        valid[l] &= x[l] != nodata;
    }
}

/// Any mix of sample types, and a mask: each block matches on each slot's type.
#[derive(Clone, Copy)]
pub(crate) struct MixedSlots<'a> {
    slots: &'a [Slot<'a>],
    bands: usize,
    /// Where sample 0 of this window lies in the slots.
    base: usize,
}

impl Samples for MixedSlots<'_> {
    #[inline(always)]
    fn bands(&self) -> usize {
        self.bands
    }

    #[inline(always)]
    fn slot_count(&self) -> usize {
        self.slots.len()
    }

    fn window(&self, start: usize, _len: usize) -> Self {
        MixedSlots {
            slots: self.slots,
            bands: self.bands,
            base: self.base + start,
        }
    }

    #[inline(always)]
    fn lanes(
        &self,
        s: usize,
        start: usize,
        n: usize,
        valid: &mut [bool; LANES],
    ) -> ([f32; LANES], [i32; LANES]) {
        let slot = &self.slots[s];
        let start = self.base + start;
        let (x, i) = match slot.data {
            BandData::U8(v) => exact(widen(v, start, n, i32::from)),
            BandData::U16(v) => exact(widen(v, start, n, i32::from)),
            BandData::I16(v) => exact(widen(v, start, n, i32::from)),
            BandData::U32(v) => (widen(v, start, n, u32_to_f32), [0; LANES]),
            BandData::F32(v) => (widen(v, start, n, |s| s), [0; LANES]),
        };
        clear_nodata(&x, slot.nodata, valid);
        if matches!(slot.data, BandData::F32(_)) {
            for l in 0..LANES {
                valid[l] &= x[l].is_finite();
            }
        }
        (x, i)
    }
}

/// `NB` bands a date, every slot u16, no mask: the shape of nearly every enforcement job
/// (Sentinel-2, Landsat and GF products are 16-bit), whose loops the compiler unrolls over
/// constant bounds. `NODATA` is set when some slot has a nodata value.
pub(crate) struct UniformSlots<'a, const NB: usize, const NODATA: bool> {
    data: [&'a [u16]; 2 * MAX_BANDS],
    /// Per slot, the nodata value or NaN.
    nodata: [f32; 2 * MAX_BANDS],
}

impl<const NB: usize, const NODATA: bool> Samples for UniformSlots<'_, NB, NODATA> {
    #[inline(always)]
    fn bands(&self) -> usize {
        NB
    }

    #[inline(always)]
    fn slot_count(&self) -> usize {
        2 * NB
    }

    #[inline(always)]
    fn window(&self, start: usize, len: usize) -> Self {
        // Every slot holds the whole job; a window past it is a bug, and panics here rather
        // than as an empty slice later.
        UniformSlots {
            data: self.data.map(|d| &d[start..start + len]),
            nodata: self.nodata,
        }
    }

    #[inline(always)]
    fn lanes(
        &self,
        s: usize,
        start: usize,
        n: usize,
        valid: &mut [bool; LANES],
    ) -> ([f32; LANES], [i32; LANES]) {
        #[cfg(target_arch = "x86_64")]
        {
            let ahead = self.data[s].as_ptr().wrapping_add(start + PREFETCH_AHEAD);
            // SAFETY: a prefetch reads nothing and faults on no address.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ahead.cast())
            };
        }
        let (x, i) = exact(widen(self.data[s], start, n, i32::from));
        if NODATA {
            clear_nodata(&x, self.nodata[s], valid);
        }
        (x, i)
    }
}

/// The samples of a job, in the most specific shape that fits.
pub(crate) enum JobSamples<'a> {
    /// Six bands a date of u16, no mask, no nodata value.
    U16(UniformSlots<'a, MAX_BANDS, false>),
    /// Six bands a date of u16, no mask, a nodata value in some slot.
    U16Nodata(UniformSlots<'a, MAX_BANDS, true>),
    /// Anything else.
    Mixed(MixedSlots<'a>),
}

/// The slots of a job.
pub(crate) fn slots<'a>(job: &PixelJob<'a>) -> Vec<Slot<'a>> {
    let p = &job.params;
    (job.slots.iter().enumerate())
        .map(|(s, &data)| Slot {
            data,
            nodata: if p.slot_has_nodata[s] != 0 {
                p.slot_nodata[s]
            } else {
                f32::NAN
            },
        })
        .collect()
}

impl<'a> JobSamples<'a> {
    /// The most specific shape of `slots`, those of a change job with `bands` bands a date.
    pub(crate) fn new(slots: &'a [Slot<'a>], bands: usize) -> JobSamples<'a> {
        let mut nodata = [f32::NAN; 2 * MAX_BANDS];
        for (n, slot) in nodata.iter_mut().zip(slots) {
            *n = slot.nodata;
        }
        let u16s: Option<Vec<&'a [u16]>> = (slots.iter())
            .map(|s| match s.data {
                BandData::U16(v) => Some(v.as_slice()),
                _ => None,
            })
            .collect();
        let uniform = u16s.and_then(|d| <[&'a [u16]; 2 * MAX_BANDS]>::try_from(d).ok());
        if let (Some(data), MAX_BANDS) = (uniform, bands) {
            return if nodata.iter().any(|v| !v.is_nan()) {
                JobSamples::U16Nodata(UniformSlots { data, nodata })
            } else {
                JobSamples::U16(UniformSlots { data, nodata })
            };
        }
        JobSamples::Mixed(MixedSlots {
            slots,
            bands,
            base: 0,
        })
    }
}
