//! Accuracy of a change map against a reference: precision, recall, F1 and IoU of "changed".

use crate::change::{CHANGE_NODATA, UNCHANGED};
use crate::error::{Error, Result};

/// How a reference raster encodes change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceEncoding {
    /// Sparse labels: only pixels equal to `unchanged` or `changed` are scored.
    Sparse {
        /// The value of labelled unchanged pixels.
        unchanged: u8,
        /// The value of labelled changed pixels.
        changed: u8,
    },
    /// Every pixel is scored: zero is unchanged, anything else changed.
    Dense,
}

/// Confusion counts of "changed" over the scored pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Confusion {
    /// Changed in both.
    pub true_positive: u64,
    /// Changed in the prediction only.
    pub false_positive: u64,
    /// Changed in the reference only.
    pub false_negative: u64,
    /// Unchanged in both.
    pub true_negative: u64,
}

impl Confusion {
    /// Scores change codes (nonzero = changed, nodata skipped) against a reference.
    pub fn score(
        change: &[u8],
        reference: &[u8],
        encoding: ReferenceEncoding,
    ) -> Result<Confusion> {
        if change.len() != reference.len() {
            return Err(Error::GridMismatch {
                what: format!(
                    "a change map of {} pixels against a reference of {}",
                    change.len(),
                    reference.len()
                ),
            });
        }
        let mut c = Confusion::default();
        for (&p, &r) in change.iter().zip(reference) {
            let truth = match encoding {
                ReferenceEncoding::Sparse { changed, .. } if r == changed => true,
                ReferenceEncoding::Sparse { unchanged, .. } if r == unchanged => false,
                ReferenceEncoding::Sparse { .. } => continue,
                ReferenceEncoding::Dense => r != 0,
            };
            if p == CHANGE_NODATA {
                continue;
            }
            match (p != UNCHANGED, truth) {
                (true, true) => c.true_positive += 1,
                (true, false) => c.false_positive += 1,
                (false, true) => c.false_negative += 1,
                (false, false) => c.true_negative += 1,
            }
        }
        Ok(c)
    }

    /// TP / (TP + FP).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// TP / (TP + FN).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        ratio(
            2 * self.true_positive,
            2 * self.true_positive + self.false_positive + self.false_negative,
        )
    }

    /// TP / (TP + FP + FN).
    pub fn iou(&self) -> f64 {
        ratio(
            self.true_positive,
            self.true_positive + self.false_positive + self.false_negative,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_scores() {
        let change = [1, 0, 2, 0, 255, 3];
        let reference = [2, 2, 1, 1, 2, 0];
        let enc = ReferenceEncoding::Sparse {
            unchanged: 1,
            changed: 2,
        };
        let c = Confusion::score(&change, &reference, enc).unwrap();
        assert_eq!(
            c,
            Confusion {
                true_positive: 1,
                false_positive: 1,
                false_negative: 1,
                true_negative: 1
            }
        );
        assert_eq!(c.f1(), 0.5);
        assert!((c.iou() - 1.0 / 3.0).abs() < 1e-12);
    }
}
