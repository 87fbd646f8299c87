//! The pass-1 word of change detection: what pass 1 (`shaders/change.wgsl` and its twin
//! `backend/cpu/change.rs`) writes per pixel, and what the histogram, pass 2 and the maps
//! read back. This type is the one place that knows the bit layout.
//!
//! | bits  | field                                                      |
//! |-------|------------------------------------------------------------|
//! | 0-3   | class before (15 = nodata)                                 |
//! | 4-7   | class after (15 = nodata)                                  |
//! | 8-13  | direction sector: bit j set when band j grew              |
//! | 16-31 | measure: change-vector magnitude or |Δindex| (thousandths) |

use crate::classify::CLASS_NODATA;

/// The class nibble of a pixel that is nodata on either date.
pub(crate) const NODATA_CLASS: u32 = 15;

/// Bins of the measure histogram: one per value of the 16-bit measure.
pub(crate) const HISTOGRAM_BINS: usize = 65536;

/// One pixel's pass-1 word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct PassOneWord(pub u32);

impl PassOneWord {
    /// The word of a pixel that is nodata on either date.
    pub const NODATA: PassOneWord = PassOneWord(NODATA_CLASS | NODATA_CLASS << 4);

    /// Packs a valid pixel's classes, direction sector and measure (at most 65,535).
    #[inline(always)]
    pub fn pack(class_before: u8, class_after: u8, direction: u32, measure: u32) -> PassOneWord {
        PassOneWord(
            u32::from(class_before) | u32::from(class_after) << 4 | direction << 8 | measure << 16,
        )
    }

    /// Whether the pixel was valid on both dates.
    #[inline(always)]
    pub fn is_valid(self) -> bool {
        self.0 & 0xf != NODATA_CLASS
    }

    /// The class nibble before (15 = nodata).
    #[inline(always)]
    pub fn before(self) -> u32 {
        self.0 & 0xf
    }

    /// The class nibble after (15 = nodata).
    #[inline(always)]
    pub fn after(self) -> u32 {
        self.0 >> 4 & 0xf
    }

    /// The class before as a class code ([`CLASS_NODATA`] for nodata).
    #[inline(always)]
    pub fn class_before(self) -> u8 {
        class_code(self.before())
    }

    /// The class after as a class code ([`CLASS_NODATA`] for nodata).
    #[inline(always)]
    pub fn class_after(self) -> u8 {
        class_code(self.after())
    }

    /// The direction sector (6 bits), 255 for nodata.
    #[inline(always)]
    pub fn direction(self) -> u8 {
        if self.is_valid() {
            (self.0 >> 8 & 0x3f) as u8
        } else {
            255
        }
    }

    /// The 16-bit measure.
    #[inline(always)]
    pub fn measure(self) -> u32 {
        self.0 >> 16
    }
}

#[inline(always)]
fn class_code(nibble: u32) -> u8 {
    if nibble == NODATA_CLASS {
        CLASS_NODATA
    } else {
        nibble as u8
    }
}

/// The planes of a run of pass-1 words: classes before and after, direction and measure.
pub(crate) struct PassOnePlanes {
    /// Class codes of the first date.
    pub class_before: Vec<u8>,
    /// Class codes of the second date.
    pub class_after: Vec<u8>,
    /// Direction sectors (255 nodata).
    pub direction: Vec<u8>,
    /// Measures.
    pub magnitude: Vec<u16>,
}

impl PassOnePlanes {
    /// Splits `words` into their planes.
    pub fn split(words: &[u32]) -> PassOnePlanes {
        let plane =
            |field: fn(PassOneWord) -> u8| words.iter().map(move |&w| field(PassOneWord(w)));
        PassOnePlanes {
            class_before: plane(PassOneWord::class_before).collect(),
            class_after: plane(PassOneWord::class_after).collect(),
            direction: plane(PassOneWord::direction).collect(),
            magnitude: words
                .iter()
                .map(|&w| PassOneWord(w).measure() as u16)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_word_reads_back_its_fields() {
        let w = PassOneWord::pack(2, 4, 0b10_1101, 65_535);
        assert!(w.is_valid());
        assert_eq!((w.class_before(), w.class_after()), (2, 4));
        assert_eq!((w.direction(), w.measure()), (0b10_1101, 65_535));
        let nodata = PassOneWord::NODATA;
        assert!(!nodata.is_valid());
        assert_eq!(
            (nodata.class_before(), nodata.direction()),
            (CLASS_NODATA, 255)
        );
    }
}
