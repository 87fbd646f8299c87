//! Band roles and sensor presets: which band is which, and how digital numbers become
//! reflectance.

use crate::error::{Error, Result};
use std::str::FromStr;

pub use crate::band_role::BandRole;

// Parsing lives here rather than in `band_role` because it fails with the crate's
// [`Error`], which itself names band roles.
impl BandRole {
    /// Parses a comma-separated band order such as `blue,green,red,nir`.
    pub fn parse_list(list: &str) -> Result<Vec<BandRole>> {
        list.split(',').map(|s| s.trim().parse()).collect()
    }
}

impl FromStr for BandRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        BandRole::ALL
            .into_iter()
            .find(|r| r.name() == lower)
            .ok_or_else(|| Error::UnknownName {
                kind: "band role",
                name: s.to_string(),
                known: BandRole::ALL.map(BandRole::name).join(", "),
            })
    }
}

/// The linear map from stored digital numbers to surface or top-of-atmosphere reflectance:
/// `reflectance = dn × scale + offset`, the same for every band of a stack.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Radiometry {
    /// Multiplicative factor.
    pub scale: f64,
    /// Additive offset, in reflectance units.
    pub offset: f64,
}

impl Radiometry {
    /// Values are used as they are.
    pub const IDENTITY: Radiometry = Radiometry {
        scale: 1.0,
        offset: 0.0,
    };

    /// Checks that the map is usable: finite, with a positive scale.
    pub fn validate(&self) -> Result<()> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale".into(),
                value: self.scale.to_string(),
                reason: "the reflectance scale must be finite and greater than zero".into(),
            });
        }
        if !self.offset.is_finite() {
            return Err(Error::InvalidParameter {
                name: "offset".into(),
                value: self.offset.to_string(),
                reason: "the reflectance offset must be finite".into(),
            });
        }
        Ok(())
    }

    /// The offset expressed in digital numbers (`offset / scale`). Normalized differences are
    /// evaluated in digital numbers with this shift, so that decisions need no division.
    pub fn offset_in_dn(&self) -> f64 {
        self.offset / self.scale
    }
}

impl Default for Radiometry {
    fn default() -> Self {
        Radiometry::IDENTITY
    }
}

/// A sensor preset: the band order of its usual stack and its reflectance scaling.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sensor {
    /// The name used on command lines (`sentinel2-l2a`, ...).
    pub name: String,
    /// Band roles in stack order.
    pub bands: Vec<BandRole>,
    /// DN to reflectance.
    pub radiometry: Radiometry,
}

use BandRole::*;

impl Sensor {
    /// The preset names accepted by [`Sensor::preset`].
    pub const PRESETS: [&'static str; 9] = [
        "sentinel2-l1c",
        "sentinel2-l2a",
        "landsat89-c2l2",
        "landsat-dn",
        "gf-4band",
        "gf1",
        "gf2",
        "zy3",
        "generic",
    ];

    /// Sentinel-2 Level-1C: B02, B03, B04, B08, B11, B12; reflectance = DN / 10000.
    pub fn sentinel2_l1c() -> Sensor {
        Sensor::new(
            "sentinel2-l1c",
            &[Blue, Green, Red, Nir, Swir1, Swir2],
            1e-4,
            0.0,
        )
    }

    /// Sentinel-2 Level-2A from processing baseline 04.00 (January 2022) on: the DN carry a
    /// +1000 offset, so reflectance = (DN − 1000) / 10000.
    pub fn sentinel2_l2a() -> Sensor {
        Sensor::new(
            "sentinel2-l2a",
            &[Blue, Green, Red, Nir, Swir1, Swir2],
            1e-4,
            -0.1,
        )
    }

    /// Landsat 8/9 Collection 2 Level-2 surface reflectance: SR_B2..SR_B7;
    /// reflectance = DN × 0.0000275 − 0.2.
    pub fn landsat89_c2l2() -> Sensor {
        Sensor::new(
            "landsat89-c2l2",
            &[Blue, Green, Red, Nir, Swir1, Swir2],
            0.0000275,
            -0.2,
        )
    }

    /// Landsat TM / ETM+ raw digital numbers (bands 1, 2, 3, 4, 5, 7), used as they are.
    /// Indices from raw DN are biased; detect relative change or calibrate first.
    pub fn landsat_dn() -> Sensor {
        Sensor::new(
            "landsat-dn",
            &[Blue, Green, Red, Nir, Swir1, Swir2],
            1.0,
            0.0,
        )
    }

    /// GF-1, GF-2 or ZY-3 multispectral: blue, green, red, NIR, no SWIR. Digital numbers are
    /// used as they are; per-scene calibration goes through [`Sensor::generic`].
    pub fn gf_4band(name: &str) -> Sensor {
        Sensor::new(name, &[Blue, Green, Red, Nir], 1.0, 0.0)
    }

    /// A user-described sensor: band order, scale and offset.
    pub fn generic(bands: Vec<BandRole>, scale: f64, offset: f64) -> Result<Sensor> {
        let radiometry = Radiometry { scale, offset };
        radiometry.validate()?;
        Ok(Sensor {
            name: "generic".into(),
            bands,
            radiometry,
        })
    }

    /// Looks a preset up by its command-line name. `generic` gives the six-band order with
    /// identity radiometry.
    pub fn preset(name: &str) -> Result<Sensor> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "sentinel2-l1c" => Sensor::sentinel2_l1c(),
            "sentinel2-l2a" => Sensor::sentinel2_l2a(),
            "landsat89-c2l2" => Sensor::landsat89_c2l2(),
            "landsat-dn" => Sensor::landsat_dn(),
            n @ ("gf-4band" | "gf1" | "gf2" | "zy3") => Sensor::gf_4band(n),
            "generic" => Sensor::new("generic", &BandRole::ALL, 1.0, 0.0),
            _ => {
                return Err(Error::UnknownName {
                    kind: "sensor",
                    name: name.to_string(),
                    known: Sensor::PRESETS.join(", "),
                });
            }
        })
    }

    fn new(name: &str, bands: &[BandRole], scale: f64, offset: f64) -> Sensor {
        Sensor {
            name: name.into(),
            bands: bands.to_vec(),
            radiometry: Radiometry { scale, offset },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_name_resolves_and_is_valid() {
        for name in Sensor::PRESETS {
            let s = Sensor::preset(name).unwrap();
            s.radiometry.validate().unwrap();
            assert!(s.bands.len() >= 4);
        }
        assert!(matches!(
            Sensor::preset("worldview"),
            Err(Error::UnknownName { .. })
        ));
    }

    #[test]
    fn l2a_offset_maps_dn_1000_to_zero_reflectance() {
        let r = Sensor::sentinel2_l2a().radiometry;
        assert!((1000.0 * r.scale + r.offset).abs() < 1e-12);
        let l = Sensor::landsat89_c2l2().radiometry;
        assert!((7273.0 * l.scale + l.offset).abs() < 1e-3);
    }

    #[test]
    fn gf_has_no_swir() {
        assert!(!Sensor::preset("gf2").unwrap().bands.contains(&Swir1));
    }

    #[test]
    fn roles_parse_case_insensitively() {
        assert_eq!(
            BandRole::parse_list("Blue, green,RED,nir").unwrap(),
            vec![Blue, Green, Red, Nir]
        );
        assert!(BandRole::parse_list("blue,uv").is_err());
    }
}
