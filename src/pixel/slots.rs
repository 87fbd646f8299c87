//! The one layout of a per-pixel job's constants: every slot of [`PixelParams::consts`]
//! (`f32`) and [`PixelParams::iconsts`] (`i32`) that a kernel family reads, by name.
//!
//! This is the only place where slot numbers are written. The same names reach the shaders:
//! the kernel registry (`src/backend/gpu/kernels.rs`) puts each family's [`Family::wgsl`]
//! declarations (`const CHANGE_THRESHOLD: u32 = 11u;`) in front of the kernels that read
//! it, so WGSL says `params.consts[CHANGE_THRESHOLD]` where Rust says
//! `params.consts[CHANGE_THRESHOLD]`. A slot indexes only its own array: a `FloatSlot`
//! cannot index `iconsts`.
//!
//! [`PixelParams::consts`]: super::PixelParams::consts
//! [`PixelParams::iconsts`]: super::PixelParams::iconsts
// Without the `gpu` feature there is no registry to read the WGSL tables, nor host code for
// the patch kernels, the only readers of their slots; the default build still checks for
// dead code here.
#![cfg_attr(not(feature = "gpu"), allow(dead_code))]

use std::ops::{Index, IndexMut};

/// Constants of one job: the length of both constant arrays.
pub(crate) const CONSTS: usize = 16;

/// A slot of `PixelParams::consts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FloatSlot(pub usize);

/// A run of `len` slots of `PixelParams::consts` starting at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FloatSlots(pub usize, pub usize);

/// A slot of `PixelParams::iconsts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntSlot(pub usize);

/// A run of `len` slots of `PixelParams::iconsts` starting at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntSlots(pub usize, pub usize);

impl FloatSlots {
    /// The `i`-th slot of the run; panics past its end (callers check against the length).
    pub fn at(self, i: usize) -> FloatSlot {
        assert!(i < self.1, "slot {i} of a run of {}", self.1);
        FloatSlot(self.0 + i)
    }

    /// Slots in the run.
    pub const fn len(self) -> usize {
        self.1
    }
}

impl Index<FloatSlot> for [f32; CONSTS] {
    type Output = f32;
    fn index(&self, slot: FloatSlot) -> &f32 {
        &self[slot.0]
    }
}

impl IndexMut<FloatSlot> for [f32; CONSTS] {
    fn index_mut(&mut self, slot: FloatSlot) -> &mut f32 {
        &mut self[slot.0]
    }
}

impl Index<IntSlot> for [i32; CONSTS] {
    type Output = i32;
    fn index(&self, slot: IntSlot) -> &i32 {
        &self[slot.0]
    }
}

impl IndexMut<IntSlot> for [i32; CONSTS] {
    fn index_mut(&mut self, slot: IntSlot) -> &mut i32 {
        &mut self[slot.0]
    }
}

impl Index<IntSlots> for [i32; CONSTS] {
    type Output = [i32];
    fn index(&self, slots: IntSlots) -> &[i32] {
        &self[slots.0..slots.0 + slots.1]
    }
}

impl IndexMut<IntSlots> for [i32; CONSTS] {
    fn index_mut(&mut self, slots: IntSlots) -> &mut [i32] {
        &mut self[slots.0..slots.0 + slots.1]
    }
}

/// Which array a slot lives in, for the layout checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Array {
    /// `consts`, f32.
    Float,
    /// `iconsts`, i32.
    Int,
}

/// One named slot (or run of slots) of a family, as the layout checks see it.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct SlotInfo {
    /// The name, the same in Rust and WGSL.
    pub name: &'static str,
    /// The array it indexes.
    pub array: Array,
    /// First slot.
    pub start: usize,
    /// Slots taken.
    pub len: usize,
}

/// The slots a kernel family reads: their WGSL declarations and their layout.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Family {
    /// `const NAME: u32 = N;` for every slot, prefixed to the family's kernels.
    pub wgsl: &'static str,
    /// Every slot, for the overlap checks.
    pub slots: &'static [SlotInfo],
}

/// What each slot kind means to the layout tables.
trait SlotKind {
    const ARRAY: Array;
}
impl SlotKind for FloatSlot {
    const ARRAY: Array = Array::Float;
}
impl SlotKind for FloatSlots {
    const ARRAY: Array = Array::Float;
}
impl SlotKind for IntSlot {
    const ARRAY: Array = Array::Int;
}
impl SlotKind for IntSlots {
    const ARRAY: Array = Array::Int;
}

/// Declares kernel families: a module per family with one Rust constant per slot, and its
/// [`Family`] with the same names as WGSL constants.
macro_rules! families {
    ($(
        $(#[$fdoc:meta])*
        $family:ident {
            $( $(#[$doc:meta])* $name:ident: $kind:ident($start:literal $(, $len:literal)?); )*
        }
    )*) => {$(
        $(#[$fdoc])*
        pub(crate) mod $family {
            #[allow(unused_imports)]
            use super::{FloatSlot, FloatSlots, IntSlot, IntSlots};
            $( $(#[$doc])* pub(crate) const $name: $kind = $kind($start $(, $len)?); )*
            /// This family's slots, for the kernel registry and its checks.
            pub(crate) const FAMILY: super::Family = super::Family {
                wgsl: concat!($("const ", stringify!($name), ": u32 = ", stringify!($start), "u;\n",)*),
                slots: &[$(super::SlotInfo {
                    name: stringify!($name),
                    array: <$kind as super::SlotKind>::ARRAY,
                    start: $start,
                    len: families!(@len $($len)?),
                },)*],
            };
        }
    )*};
    (@len) => { 1 };
    (@len $len:literal) => { $len };
}

families! {
    /// Spectral indices (`shaders/index.wgsl`, `backend/cpu/index.rs`).
    index {
        /// The DN shift added to the denominator: the radiometric offset (and SAVI's or
        /// EVI's L) in digital numbers.
        INDEX_SHIFT: FloatSlot(0);
        /// Gain on the numerator (SAVI's 1 + L, EVI's G).
        INDEX_GAIN: FloatSlot(1);
        /// EVI's red aerosol coefficient C1.
        EVI_C1: FloatSlot(2);
        /// EVI's blue aerosol coefficient C2.
        EVI_C2: FloatSlot(3);
    }

    /// Land-cover rules (`shaders/classify_rules.wgsl`, `backend/cpu/classify.rs`), read by
    /// classification and by every change kernel.
    classify {
        /// NDWI threshold.
        NDWI: FloatSlot(0);
        /// MNDWI threshold.
        MNDWI: FloatSlot(1);
        /// NDVI threshold.
        NDVI: FloatSlot(2);
        /// BSI threshold.
        BSI: FloatSlot(3);
        /// NDBI threshold.
        NDBI: FloatSlot(4);
        /// `2·offset/scale` of the (first) date, in DN.
        SHIFT2: FloatSlot(5);
        /// `4·offset/scale` of the (first) date, in DN.
        SHIFT4: FloatSlot(6);
        /// Bare-soil redness threshold (four-band rules).
        REDNESS: FloatSlot(12);
        /// The NDVI below which four-band pixels are bare soil or built-up.
        BARE_NDVI: FloatSlot(13);
    }

    /// Pass 1 of change detection and the fused pass (`shaders/change.wgsl`,
    /// `shaders/change_fused.wgsl`, `backend/cpu/change.rs`), next to the land-cover rules.
    change {
        /// `2·offset/scale` of the second date, in DN.
        AFTER_SHIFT2: FloatSlot(7);
        /// `4·offset/scale` of the second date, in DN.
        AFTER_SHIFT4: FloatSlot(8);
        /// Quantization factor of the first date.
        QUANTIZE_BEFORE: FloatSlot(9);
        /// Quantization factor of the second date.
        QUANTIZE_AFTER: FloatSlot(10);
        /// The fused pass's threshold, an integer up to 65,536 (exact in f32).
        CHANGE_THRESHOLD: FloatSlot(11);
        /// Per band, the second date's gain onto the first in Q12 (six slots).
        GAIN_Q12: IntSlots(0, 6);
        /// Per band, the second date's offset onto the first in Q12 (six slots).
        OFFSET_Q12: IntSlots(6, 6);
        /// Bands per date.
        BANDS_PER_DATE: IntSlot(12);
        /// The measure: 0 change-vector magnitude, 1 |ΔNDVI|, 2 |ΔBSI|, 3 |ΔNDBI|.
        MEASURE: IntSlot(13);
        /// The first date's integer offset after quantization.
        OFFSET_BEFORE: IntSlot(14);
        /// The second date's integer offset after quantization.
        OFFSET_AFTER: IntSlot(15);
    }

    /// Pass 2 of change detection (`shaders/change_codes.wgsl`).
    change_codes {
        /// The threshold on the pass-1 measure.
        CODES_THRESHOLD: IntSlot(0);
        /// The change method's code.
        CODES_METHOD: IntSlot(1);
    }

    /// Generated formula kernels (`formula/wgsl.rs`, `formula/eval.rs`).
    formula {
        /// The radiometric scale of the stack.
        FORMULA_SCALE: FloatSlot(0);
        /// The radiometric offset of the stack.
        FORMULA_OFFSET: FloatSlot(1);
        /// The formula's named constants, in order.
        FORMULA_CONSTANTS: FloatSlots(2, 14);
    }

    /// Every patch kernel: the size of the code raster in slot 0 (`shaders/label_grid.wgsl`).
    raster {
        /// Raster width in pixels.
        RASTER_WIDTH: IntSlot(0);
        /// Raster height in pixels.
        RASTER_HEIGHT: IntSlot(1);
    }

    /// Morphology (`shaders/morphology.wgsl`), next to the raster size.
    morphology {
        /// Radius of the structuring element.
        ELEMENT_RADIUS: IntSlot(2);
        /// 1 for a cross (plus-shaped) element, 0 for a square.
        ELEMENT_CROSS: IntSlot(3);
        /// 1 when the operation treats the change mask as a whole, 0 per change type.
        WHOLE_MASK: IntSlot(4);
    }

    /// Connected-component labelling (`shaders/label.wgsl`), next to the raster size.
    label {
        /// 4 or 8.
        CONNECTIVITY: IntSlot(2);
        /// Blocks of the block-local pass.
        LABEL_BLOCKS: IntSlot(3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_lie_inside_their_arrays() {
        let families = [
            &index::FAMILY,
            &classify::FAMILY,
            &change::FAMILY,
            &change_codes::FAMILY,
            &formula::FAMILY,
            &raster::FAMILY,
            &morphology::FAMILY,
            &label::FAMILY,
        ];
        for family in families {
            for slot in family.slots {
                assert!(slot.len >= 1 && slot.start + slot.len <= CONSTS, "{slot:?}");
            }
            assert_eq!(family.wgsl.lines().count(), family.slots.len());
        }
        assert_eq!(
            change::FAMILY.wgsl.lines().nth(4),
            Some("const CHANGE_THRESHOLD: u32 = 11u;")
        );
    }
}
