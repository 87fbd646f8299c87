//! The spectral role of a band, on its own so that the error type can name a role without
//! depending on the sensor presets (which return errors).

use std::fmt;

/// The spectral role of a band. Indices and classification address bands by role, never by
/// position, so that stacks in any band order work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum BandRole {
    /// Blue, about 0.45–0.52 µm.
    Blue,
    /// Green, about 0.52–0.60 µm.
    Green,
    /// Red, about 0.63–0.69 µm.
    Red,
    /// Near infrared, about 0.77–0.90 µm.
    Nir,
    /// Shortwave infrared 1, about 1.55–1.75 µm.
    Swir1,
    /// Shortwave infrared 2, about 2.08–2.35 µm.
    Swir2,
}

impl BandRole {
    /// All roles, in the conventional stack order.
    pub const ALL: [BandRole; 6] = [
        BandRole::Blue,
        BandRole::Green,
        BandRole::Red,
        BandRole::Nir,
        BandRole::Swir1,
        BandRole::Swir2,
    ];

    /// The lower-case name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            BandRole::Blue => "blue",
            BandRole::Green => "green",
            BandRole::Red => "red",
            BandRole::Nir => "nir",
            BandRole::Swir1 => "swir1",
            BandRole::Swir2 => "swir2",
        }
    }
}

impl fmt::Display for BandRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
