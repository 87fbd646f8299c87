//! The description of one per-pixel job, shared by both backends: which band feeds which
//! slot, each slot's sample type and nodata, the operation and its constants.
//!
//! [`PixelParams`] is uploaded to the GPU as it is (see `shaders/common.wgsl`, which declares
//! the same struct) and read by the CPU twin, so the two backends cannot disagree about what
//! a job means.

pub(crate) mod slots;

use crate::error::{Error, Result};
use crate::raster::{Band, BandData, BandStack};
use crate::sensor::BandRole;
use slots::{CONSTS, FloatSlot};

/// Slots a job can address: both dates of a six-band stack fit with room to spare.
pub(crate) const MAX_SLOTS: usize = 16;

/// Value written where an index is undefined (nodata input, NaN, zero denominator).
pub const INDEX_NODATA: f32 = -9999.0;

/// Parameters of a per-pixel job, laid out exactly like `PixelParams` in WGSL.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct PixelParams {
    /// Pixels in this dispatch (set per chunk on the GPU).
    pub count: u32,
    /// Operation code, defined by the kernel family.
    pub op: u32,
    /// Slots in use.
    pub n_slots: u32,
    pub _pad: u32,
    /// Word offset of each slot's samples in the packed input buffer (GPU only).
    pub slot_offset: [u32; MAX_SLOTS],
    /// Sample type of each slot (`DataType::shader_code`).
    pub slot_dtype: [u32; MAX_SLOTS],
    /// 1 when the slot has a nodata value.
    pub slot_has_nodata: [u32; MAX_SLOTS],
    /// The slot's nodata value, as f32 (exact for every integer type up to 16 bits).
    pub slot_nodata: [f32; MAX_SLOTS],
    /// Operation constants (radiometry shifts, thresholds, index coefficients).
    pub consts: [f32; CONSTS],
    /// Integer constants (fixed-point gains, integer thresholds).
    pub iconsts: [i32; CONSTS],
}

/// A per-pixel job: parameters plus the bands behind each slot.
#[derive(Debug, Clone)]
pub(crate) struct PixelJob<'a> {
    /// Parameters shared by both backends.
    pub params: PixelParams,
    /// The band behind each slot, in slot order.
    pub slots: Vec<&'a BandData>,
    /// Pixels in the raster.
    pub len: usize,
}

impl<'a> PixelJob<'a> {
    /// Starts a job for `op` over the bands with `roles` (in slot order), failing with
    /// [`Error::MissingBand`] naming `needed_by` when the stack lacks one.
    pub fn new(stack: &'a BandStack, op: u32, roles: &[BandRole], needed_by: &str) -> Result<Self> {
        let mut job = PixelJob {
            params: bytemuck::Zeroable::zeroed(),
            slots: Vec::with_capacity(roles.len()),
            len: stack.len(),
        };
        job.params.op = op;
        job.push_bands(stack, roles, needed_by)?;
        Ok(job)
    }

    /// A job over raw data slices (results of an earlier pass), with no nodata values.
    pub fn over_data(len: usize, slots: &[&'a BandData]) -> Self {
        let mut params: PixelParams = bytemuck::Zeroable::zeroed();
        params.n_slots = slots.len() as u32;
        for (s, d) in slots.iter().enumerate() {
            params.slot_dtype[s] = d.data_type().shader_code();
        }
        PixelJob {
            params,
            slots: slots.to_vec(),
            len,
        }
    }

    /// Appends the bands with `roles` of another stack on the same grid as further slots.
    pub fn push_bands(
        &mut self,
        stack: &'a BandStack,
        roles: &[BandRole],
        needed_by: &str,
    ) -> Result<()> {
        assert!(
            self.slots.len() + roles.len() <= MAX_SLOTS,
            "kernel defines too many slots"
        );
        if stack.len() != self.len {
            return Err(Error::GridMismatch {
                what: format!(
                    "{needed_by}: a raster of {} pixels against one of {}",
                    stack.len(),
                    self.len
                ),
            });
        }
        for &role in roles {
            self.push_band(stack.require(role, needed_by)?);
        }
        Ok(())
    }

    /// Appends one band of the job's size as the next slot (a mask, for instance).
    pub fn push_band(&mut self, band: &'a Band) {
        let s = self.slots.len();
        assert!(s < MAX_SLOTS, "kernel defines too many slots");
        debug_assert_eq!(band.data.len(), self.len);
        self.params.slot_dtype[s] = band.data.data_type().shader_code();
        if let Some(nd) = band.nodata.filter(|v| !v.is_nan()) {
            self.params.slot_has_nodata[s] = 1;
            self.params.slot_nodata[s] = nd as f32;
        }
        self.slots.push(&band.data);
        self.params.n_slots = self.slots.len() as u32;
    }

    /// Sets the constant in `slot`, refusing NaN or infinite values with an error naming
    /// `name`.
    pub fn set_const(&mut self, slot: FloatSlot, name: &str, value: f64) -> Result<()> {
        let v = value as f32;
        if !v.is_finite() {
            return Err(Error::InvalidParameter {
                name: name.to_string(),
                value: value.to_string(),
                reason: "must be a finite number within f32 range".into(),
            });
        }
        self.params.consts[slot] = v;
        Ok(())
    }
}
