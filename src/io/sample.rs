//! The sample types a GeoTIFF band can hold, as a trait over the Rust primitive types, so
//! that single-band rasters of any of them can be written and read back generically.

use crate::raster::{BandData, DataType};

/// A GeoTIFF sample type: u8, u16, i16, u32 or f32.
pub trait GeoTiffSample: bytemuck::Pod + Send + Sync + PartialEq + std::fmt::Debug {
    /// The matching [`DataType`].
    const DATA_TYPE: DataType;
    /// True for integer types (which get the horizontal-differencing predictor).
    const INTEGER: bool;
    /// The value as f64 (exact for every type).
    fn to_f64(self) -> f64;
    /// The nearest value of this type (rounded and saturated for integers; NaN gives 0).
    fn from_f64(v: f64) -> Self;
    /// `self - other`, wrapping for integers (used by the predictor).
    fn wrapping_sub(self, other: Self) -> Self;
    /// The samples of `data` if it holds this type.
    fn slice(data: &BandData) -> Option<&[Self]>;
    /// The samples of `data` if it holds this type, by value.
    fn from_band(data: BandData) -> Option<Vec<Self>>;
    /// Wraps samples of this type in a [`BandData`].
    fn into_band(samples: Vec<Self>) -> BandData;
}

macro_rules! int_sample {
    ($t:ty, $variant:ident) => {
        impl GeoTiffSample for $t {
            const DATA_TYPE: DataType = DataType::$variant;
            const INTEGER: bool = true;
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            fn from_f64(v: f64) -> Self {
                v.round() as $t
            }
            fn wrapping_sub(self, other: Self) -> Self {
                <$t>::wrapping_sub(self, other)
            }
            fn slice(data: &BandData) -> Option<&[Self]> {
                match data {
                    BandData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn from_band(data: BandData) -> Option<Vec<Self>> {
                match data {
                    BandData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_band(samples: Vec<Self>) -> BandData {
                BandData::$variant(samples)
            }
        }
    };
}

int_sample!(u8, U8);
int_sample!(u16, U16);
int_sample!(i16, I16);
int_sample!(u32, U32);

impl GeoTiffSample for f32 {
    const DATA_TYPE: DataType = DataType::F32;
    const INTEGER: bool = false;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn wrapping_sub(self, other: Self) -> Self {
        self - other
    }
    fn slice(data: &BandData) -> Option<&[Self]> {
        match data {
            BandData::F32(v) => Some(v),
            _ => None,
        }
    }
    fn from_band(data: BandData) -> Option<Vec<Self>> {
        match data {
            BandData::F32(v) => Some(v),
            _ => None,
        }
    }
    fn into_band(samples: Vec<Self>) -> BandData {
        BandData::F32(samples)
    }
}
