//! The morphology stage: the clean-up opening of the whole change mask before labelling.

use super::*;

/// The clean-up opening of the change mask before labelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opening {
    /// A square whose side is the odd number of pixels nearest [`OPENING_M`].
    Auto,
    /// No opening.
    Off,
    /// A square of this side.
    Square(usize),
}

/// The width of the features the default opening removes, in metres.
const OPENING_M: f64 = 30.0;

impl Opening {
    /// The side of the square, if any, for pixels of `pixel_m` metres.
    pub(super) fn side(self, pixel_m: f64) -> Option<usize> {
        match self {
            Opening::Auto => {
                let side = (OPENING_M / pixel_m).round().clamp(1.0, 255.0) as usize;
                let odd = if side % 2 == 1 { side } else { side - 1 };
                (odd >= 3).then_some(odd)
            }
            Opening::Off => None,
            Opening::Square(side) => Some(side),
        }
    }
}

impl Job {
    /// The morphology stage: an opening of the whole change raster `raw` by a square of side
    /// `opening` (change types never merge or change); without one, the codes as they are.
    pub(super) fn morphology_stage(
        &self,
        engine: &Engine,
        raw: &Raster<u8>,
        opening: Option<usize>,
    ) -> Result<Raster<u8>> {
        let opened = match opening {
            Some(size) => {
                let element = StructuringElement::square(size)?;
                engine
                    .morphology(raw, MorphOp::Open, element, MorphScope::WholeMask)?
                    .output
            }
            None => raw.clone(),
        };
        self.report("morphology", 1, 1);
        Ok(opened)
    }
}
