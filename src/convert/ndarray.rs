//! `Raster<T>` ↔ `Array2<T>` and `BandStack` ↔ `Array3<T>` (feature `ndarray`).
//!
//! Arrays are row-major: a raster is `rows × columns` (`[[row, col]]`), a stack is
//! `bands × rows × columns`. An array has no place for a georeference, a nodata value, band
//! roles or radiometry: converting to an array drops them, converting back takes them from
//! the caller (roles, nodata) or leaves them unset (`georef: None`, identity radiometry).

use crate::error::{Error, Result};
use crate::raster::{Band, BandData, BandStack, DataType, Raster};
use crate::sensor::BandRole;
use ::ndarray::{Array, Array2, Array3, ArrayView2, ArrayViewMut2, Axis, Dimension};

/// A sample type that a [`BandData`] variant stores: `u8`, `u16`, `i16`, `u32` or `f32`.
///
/// This trait is sealed: landwatch implements it for exactly these five types.
pub trait Sample: Copy + sealed::Sealed + 'static {
    /// The band sample type of `Self`.
    const DATA_TYPE: DataType;
    /// The samples of `data` when it holds this type, else `None`.
    fn samples(data: &BandData) -> Option<&[Self]>;
    /// Band data holding `samples`.
    fn into_band_data(samples: Vec<Self>) -> BandData;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! sample {
    ($t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Sample for $t {
            const DATA_TYPE: DataType = DataType::$variant;
            fn samples(data: &BandData) -> Option<&[$t]> {
                match data {
                    BandData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_band_data(samples: Vec<$t>) -> BandData {
                BandData::$variant(samples)
            }
        }
    };
}

sample!(u8, U8);
sample!(u16, U16);
sample!(i16, I16);
sample!(u32, U32);
sample!(f32, F32);

/// `rows × cols`, or an error when it overflows.
fn pixel_count(width: usize, height: usize) -> Result<usize> {
    width.checked_mul(height).ok_or_else(|| Error::TooLarge {
        what: format!("{width}×{height} pixels overflow the address space"),
    })
}

/// The shape error of a raster whose `data` does not hold `width × height` samples.
fn check_raster_len(len: usize, width: usize, height: usize) -> Result<()> {
    let expected = pixel_count(width, height)?;
    if len == expected {
        return Ok(());
    }
    Err(Error::BandLength {
        band: 0,
        len,
        width,
        height,
        expected,
    })
}

/// The elements of `a` in row-major order, reusing its buffer when it already is.
fn into_row_major<T: Clone, D: Dimension>(a: Array<T, D>) -> Vec<T> {
    if !a.is_standard_layout() {
        return a.iter().cloned().collect();
    }
    let n = a.len();
    let (mut v, offset) = a.into_raw_vec_and_offset();
    let offset = offset.unwrap_or(0);
    // A standard-layout array holds its `n` elements contiguously from `offset`.
    v.truncate(offset + n);
    v.drain(..offset);
    v
}

impl<T> TryFrom<Raster<T>> for Array2<T> {
    type Error = Error;

    /// The samples as a `height × width` array, without copying; the georeference and
    /// nodata value are dropped. Fails when `data` does not hold `width × height` samples.
    fn try_from(raster: Raster<T>) -> Result<Array2<T>> {
        check_raster_len(raster.data.len(), raster.width, raster.height)?;
        let shape = (raster.height, raster.width);
        Array2::from_shape_vec(shape, raster.data).map_err(|e| shape_error(&e))
    }
}

/// An ndarray shape error after our own checks passed (unreachable in practice), typed.
fn shape_error(e: &::ndarray::ShapeError) -> Error {
    Error::InvalidParameter {
        name: "array shape".into(),
        value: e.to_string(),
        reason: "ndarray refused the shape".into(),
    }
}

impl<T> Raster<T> {
    /// A raster of `array` (`rows × columns`) with `nodata` and no georeference; the
    /// buffer is reused when the array is in standard (row-major) layout.
    pub fn from_array(array: Array2<T>, nodata: T) -> Raster<T>
    where
        T: Clone,
    {
        let (height, width) = array.dim();
        Raster {
            width,
            height,
            data: into_row_major(array),
            nodata,
            georef: None,
        }
    }

    /// A `height × width` view of the samples, without copying. Fails when `data` does not
    /// hold `width × height` samples.
    pub fn view(&self) -> Result<ArrayView2<'_, T>> {
        check_raster_len(self.data.len(), self.width, self.height)?;
        ArrayView2::from_shape((self.height, self.width), &self.data).map_err(|e| shape_error(&e))
    }

    /// A mutable `height × width` view of the samples, without copying. Fails when `data`
    /// does not hold `width × height` samples.
    pub fn view_mut(&mut self) -> Result<ArrayViewMut2<'_, T>> {
        check_raster_len(self.data.len(), self.width, self.height)?;
        ArrayViewMut2::from_shape((self.height, self.width), &mut self.data)
            .map_err(|e| shape_error(&e))
    }
}

/// The error for band `band` holding `found` where `T` was asked for.
fn type_error<T: Sample>(band: usize, found: DataType) -> Error {
    Error::InvalidParameter {
        name: "sample type".into(),
        value: T::DATA_TYPE.to_string(),
        reason: format!("band {band} holds {found} samples"),
    }
}

impl BandStack {
    /// A `height × width` view of band `band`'s samples, without copying. Fails when there
    /// is no such band or it does not hold `T` samples.
    pub fn band_view<T: Sample>(&self, band: usize) -> Result<ArrayView2<'_, T>> {
        let b = self
            .bands()
            .get(band)
            .ok_or_else(|| Error::InvalidParameter {
                name: "band".into(),
                value: band.to_string(),
                reason: format!("the stack has {} band(s)", self.bands().len()),
            })?;
        let samples =
            T::samples(&b.data).ok_or_else(|| type_error::<T>(band, b.data.data_type()))?;
        ArrayView2::from_shape((self.height(), self.width()), samples).map_err(|e| shape_error(&e))
    }

    /// The samples as a `bands × height × width` array of their stored type `T` (one copy).
    /// Roles, nodata, radiometry and georeference are dropped. Fails, naming the band, when a
    /// band does not hold `T` samples; [`BandStack::to_array3_f32`] takes any mix of types.
    pub fn to_array3<T: Sample>(&self) -> Result<Array3<T>> {
        let mut data = Vec::with_capacity(self.bands().len() * self.len());
        for (i, b) in self.bands().iter().enumerate() {
            let samples =
                T::samples(&b.data).ok_or_else(|| type_error::<T>(i, b.data.data_type()))?;
            data.extend_from_slice(samples);
        }
        let shape = (self.bands().len(), self.height(), self.width());
        Array3::from_shape_vec(shape, data).map_err(|e| shape_error(&e))
    }

    /// The samples as a `bands × height × width` array of `f32`, whatever their stored
    /// types: exact for the 8- and 16-bit types and `f32`, correctly rounded for `u32`
    /// ([`BandData::get_f32`]). Raw values: the radiometry is not applied.
    pub fn to_array3_f32(&self) -> Array3<f32> {
        let (w, h) = (self.width(), self.height());
        let mut out = Array3::zeros((self.bands().len(), h, w));
        for (mut plane, b) in out.axis_iter_mut(Axis(0)).zip(self.bands()) {
            for (dst, i) in plane.iter_mut().zip(0..) {
                *dst = b.data.get_f32(i);
            }
        }
        out
    }

    /// A stack of the `bands × height × width` `array`, band `i` with role `roles[i]`
    /// (bands beyond `roles` get none), no nodata, identity radiometry and no
    /// georeference (set them with [`BandStack::set_nodata`],
    /// [`BandStack::set_radiometry`] and the `georef` field). Fails on an empty array
    /// (no band, row or column), more roles than bands, or a role given twice.
    pub fn from_array3<T: Sample>(array: Array3<T>, roles: &[BandRole]) -> Result<BandStack> {
        let (n, height, width) = array.dim();
        if n == 0 {
            return Err(Error::InvalidParameter {
                name: "array".into(),
                value: format!("{n}×{height}×{width}"),
                reason: "a stack needs at least one band".into(),
            });
        }
        if roles.len() > n {
            return Err(Error::InvalidParameter {
                name: "roles".into(),
                value: roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(","),
                reason: format!("the array has only {n} band(s)"),
            });
        }
        let plane = pixel_count(width, height)?;
        let mut data = into_row_major(array);
        let mut bands = Vec::with_capacity(n);
        // Split off the planes from the back, so that each split moves no sample twice.
        for i in (0..n).rev() {
            let samples = data.split_off(i * plane);
            bands.push(Band {
                role: roles.get(i).copied(),
                data: T::into_band_data(samples),
                nodata: None,
            });
        }
        bands.reverse();
        BandStack::new(width, height, bands)
    }
}

impl<T: Sample> TryFrom<&BandStack> for Array3<T> {
    type Error = Error;

    /// [`BandStack::to_array3`].
    fn try_from(stack: &BandStack) -> Result<Array3<T>> {
        stack.to_array3()
    }
}
