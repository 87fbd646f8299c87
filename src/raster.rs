//! Raster and band-stack types: pixel data of one of four sample types, band roles, nodata,
//! and the georeferencing slot (affine transform and EPSG code).

use crate::error::{Error, Result};
use crate::geo::Crs;
use crate::sensor::{BandRole, Radiometry, Sensor};

/// The sample type of a band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit (decoded to the nearest f32 by kernels, identically on both backends).
    U32,
    /// 32-bit IEEE float.
    F32,
}

impl DataType {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            DataType::U8 => 1,
            DataType::U16 | DataType::I16 => 2,
            DataType::U32 | DataType::F32 => 4,
        }
    }

    /// The code the WGSL loader switches on (`shaders/common.wgsl`).
    pub(crate) fn shader_code(self) -> u32 {
        match self {
            DataType::U8 => 0,
            DataType::U16 => 1,
            DataType::I16 => 2,
            DataType::F32 => 3,
            DataType::U32 => 4,
        }
    }
}

impl std::fmt::Display for DataType {
    /// GDAL's name of the type (`Byte`, `UInt16`, …), as in `gdalinfo`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataType::U8 => "Byte",
            DataType::U16 => "UInt16",
            DataType::I16 => "Int16",
            DataType::U32 => "UInt32",
            DataType::F32 => "Float32",
        })
    }
}

/// The samples of one band, row-major, in their stored type. Kernels read them directly,
/// without widening the whole band first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BandData {
    /// Unsigned 8-bit samples.
    U8(Vec<u8>),
    /// Unsigned 16-bit samples.
    U16(Vec<u16>),
    /// Signed 16-bit samples.
    I16(Vec<i16>),
    /// Unsigned 32-bit samples.
    U32(Vec<u32>),
    /// 32-bit float samples.
    F32(Vec<f32>),
}

impl BandData {
    /// The sample type.
    pub fn data_type(&self) -> DataType {
        match self {
            BandData::U8(_) => DataType::U8,
            BandData::U16(_) => DataType::U16,
            BandData::I16(_) => DataType::I16,
            BandData::U32(_) => DataType::U32,
            BandData::F32(_) => DataType::F32,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            BandData::U8(v) => v.len(),
            BandData::U16(v) => v.len(),
            BandData::I16(v) => v.len(),
            BandData::U32(v) => v.len(),
            BandData::F32(v) => v.len(),
        }
    }

    /// True when the band holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes, native endian (little endian on every supported target).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            BandData::U8(v) => v,
            BandData::U16(v) => bytemuck::cast_slice(v),
            BandData::I16(v) => bytemuck::cast_slice(v),
            BandData::U32(v) => bytemuck::cast_slice(v),
            BandData::F32(v) => bytemuck::cast_slice(v),
        }
    }

    /// The samples at `picked`, in that order, with the same type.
    pub fn select(&self, picked: &[usize]) -> BandData {
        fn pick<T: Copy>(v: &[T], picked: &[usize]) -> Vec<T> {
            picked.iter().map(|&i| v[i]).collect()
        }
        match self {
            BandData::U8(v) => BandData::U8(pick(v, picked)),
            BandData::U16(v) => BandData::U16(pick(v, picked)),
            BandData::I16(v) => BandData::I16(pick(v, picked)),
            BandData::U32(v) => BandData::U32(pick(v, picked)),
            BandData::F32(v) => BandData::F32(pick(v, picked)),
        }
    }

    /// Sample `i` as f32: exact for the 8- and 16-bit types, correctly rounded for u32.
    pub fn get_f32(&self, i: usize) -> f32 {
        match self {
            BandData::U8(v) => f32::from(v[i]),
            BandData::U16(v) => f32::from(v[i]),
            BandData::I16(v) => f32::from(v[i]),
            BandData::U32(v) => u32_to_f32(v[i]),
            BandData::F32(v) => v[i],
        }
    }
}

/// Converts a u32 to the nearest f32 the way the WGSL loader does (two exact halves and one
/// correctly rounded add), so that both backends see the same value.
#[inline(always)]
pub(crate) fn u32_to_f32(v: u32) -> f32 {
    ((v >> 16) as f32) * 65536.0 + ((v & 0xffff) as f32)
}

/// One band: its samples, its role (when known) and its nodata value.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Spectral role; `None` for bands no computation addresses.
    pub role: Option<BandRole>,
    /// The samples.
    pub data: BandData,
    /// Samples equal to this value are nodata. NaN and infinite samples are always nodata.
    pub nodata: Option<f64>,
}

impl Band {
    /// A band with a role and no nodata value.
    pub fn new(role: BandRole, data: BandData) -> Band {
        Band {
            role: Some(role),
            data,
            nodata: None,
        }
    }

    /// Sets the nodata value.
    pub fn with_nodata(mut self, nodata: f64) -> Band {
        self.nodata = Some(nodata);
        self
    }

    /// Whether sample value `v` of this band is valid: finite and not the nodata value.
    pub fn is_valid(&self, v: f32) -> bool {
        v.is_finite() && self.nodata.is_none_or(|n| f64::from(v) != n)
    }
}

/// A six-coefficient affine transform in GDAL order: `x = c[0] + col·c[1] + row·c[2]`,
/// `y = c[3] + col·c[4] + row·c[5]`, for the corner of pixel (col, row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform(pub [f64; 6]);

impl GeoTransform {
    /// Map coordinates of the top-left corner of pixel `(col, row)`; fractional positions
    /// address points inside pixels (`+0.5` is the centre).
    pub fn apply(&self, col: f64, row: f64) -> (f64, f64) {
        let c = &self.0;
        (
            c[0] + col * c[1] + row * c[2],
            c[3] + col * c[4] + row * c[5],
        )
    }

    /// Pixel width and height in CRS units (absolute values, for north-up grids).
    pub fn pixel_size(&self) -> (f64, f64) {
        (self.0[1].hypot(self.0[4]), self.0[2].hypot(self.0[5]))
    }
}

impl std::fmt::Display for GeoTransform {
    /// `origin (x, y), pixel dx × dy`, with the rotation terms when there are any.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [x0, a, b, y0, d, e] = self.0;
        write!(f, "origin ({x0}, {y0}), pixel {a} × {e}")?;
        if b != 0.0 || d != 0.0 {
            write!(f, ", rotation {b}, {d}")?;
        }
        Ok(())
    }
}

/// Where a raster lies on the Earth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoReference {
    /// Pixel to CRS transform.
    pub transform: GeoTransform,
    /// The CRS, when the data says.
    pub crs: Option<Crs>,
}

impl GeoReference {
    /// A georeference in the CRS of EPSG code `code`.
    pub fn epsg(transform: GeoTransform, code: u32) -> GeoReference {
        GeoReference {
            transform,
            crs: Some(Crs::epsg(code)),
        }
    }

    /// The EPSG code of the CRS, when it has one.
    pub fn epsg_code(&self) -> Option<u32> {
        self.crs.and_then(|c| c.epsg_code())
    }

    /// A georeference for messages: its transform and CRS, or that there is none.
    pub fn describe(georef: Option<&GeoReference>) -> String {
        georef.map_or_else(|| "no georeference".into(), |g| g.to_string())
    }
}

impl std::fmt::Display for GeoReference {
    /// The transform, then the CRS (or "no CRS").
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.crs {
            Some(crs) => write!(f, "{} in {crs}", self.transform),
            None => write!(f, "{} with no CRS", self.transform),
        }
    }
}

/// A multi-band raster on one grid: the input of every per-pixel kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct BandStack {
    width: usize,
    height: usize,
    bands: Vec<Band>,
    /// DN to reflectance, shared by all bands.
    pub radiometry: Radiometry,
    /// Georeferencing, when known.
    pub georef: Option<GeoReference>,
}

impl BandStack {
    /// A raster of `data` on this stack's grid, with `nodata`.
    pub(crate) fn raster_of<T>(&self, data: Vec<T>, nodata: T) -> Raster<T> {
        Raster {
            width: self.width(),
            height: self.height(),
            data,
            nodata,
            georef: self.georef,
        }
    }
}

impl BandStack {
    /// Builds a stack, checking that it is non-empty, that every band has `width × height`
    /// samples, and that no role is given twice.
    pub fn new(width: usize, height: usize, bands: Vec<Band>) -> Result<BandStack> {
        if width == 0 || height == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        let expected = width.checked_mul(height).ok_or_else(|| Error::TooLarge {
            what: format!("{width}×{height} pixels overflow the address space"),
        })?;
        for (band, b) in bands.iter().enumerate() {
            if b.data.len() != expected {
                return Err(Error::BandLength {
                    band,
                    len: b.data.len(),
                    width,
                    height,
                    expected,
                });
            }
        }
        for (i, b) in bands.iter().enumerate() {
            if let Some(role) = b.role
                && bands[..i].iter().any(|o| o.role == Some(role))
            {
                return Err(Error::DuplicateRole { role });
            }
        }
        Ok(BandStack {
            width,
            height,
            bands,
            radiometry: Radiometry::IDENTITY,
            georef: None,
        })
    }

    /// Builds a stack from bands in a sensor's order, taking its roles and radiometry.
    /// Extra bands beyond the sensor's list keep no role.
    pub fn from_sensor(
        width: usize,
        height: usize,
        data: Vec<BandData>,
        sensor: &Sensor,
    ) -> Result<BandStack> {
        let bands = data
            .into_iter()
            .enumerate()
            .map(|(i, d)| Band {
                role: sensor.bands.get(i).copied(),
                data: d,
                nodata: None,
            })
            .collect();
        let mut stack = BandStack::new(width, height, bands)?;
        stack.set_radiometry(sensor.radiometry)?;
        Ok(stack)
    }

    /// The stack with band `i` given `roles[i]` (no role for bands beyond `roles`); an error
    /// for more roles than bands or a role given twice.
    pub(crate) fn with_roles(self, roles: &[BandRole]) -> Result<BandStack> {
        if roles.len() > self.bands.len() {
            return Err(Error::InvalidParameter {
                name: "roles".into(),
                value: roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(","),
                reason: format!("the image has only {} band(s)", self.bands.len()),
            });
        }
        let BandStack {
            width,
            height,
            bands,
            radiometry,
            georef,
        } = self;
        let bands = bands
            .into_iter()
            .enumerate()
            .map(|(i, band)| Band {
                role: roles.get(i).copied(),
                ..band
            })
            .collect();
        let mut stack = BandStack::new(width, height, bands)?;
        stack.radiometry = radiometry;
        stack.georef = georef;
        Ok(stack)
    }

    /// Sets the DN-to-reflectance map after checking it.
    pub fn set_radiometry(&mut self, radiometry: Radiometry) -> Result<()> {
        radiometry.validate()?;
        self.radiometry = radiometry;
        Ok(())
    }

    /// Sets one nodata value on every band.
    pub fn set_nodata(&mut self, nodata: Option<f64>) {
        for b in &mut self.bands {
            b.nodata = nodata;
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Pixel count.
    pub fn len(&self) -> usize {
        self.width * self.height
    }

    /// Always false: a stack holds at least one pixel.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bands in stack order.
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    /// The band with `role`, if any.
    pub fn band(&self, role: BandRole) -> Option<&Band> {
        self.bands.iter().find(|b| b.role == Some(role))
    }

    /// The band with `role`, or an error naming the role and `needed_by`.
    pub fn require(&self, role: BandRole, needed_by: &str) -> Result<&Band> {
        self.band(role).ok_or_else(|| Error::MissingBand {
            needed_by: needed_by.to_string(),
            role,
            available: self.role_list(),
        })
    }

    fn role_list(&self) -> String {
        let roles: Vec<&str> = self
            .bands
            .iter()
            .filter_map(|b| b.role.map(BandRole::name))
            .collect();
        if roles.is_empty() {
            "no named bands".into()
        } else {
            roles.join(", ")
        }
    }
}

/// A single-band result on the grid of its input: an index (f32) or a class map (u8).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster<T> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major samples.
    pub data: Vec<T>,
    /// The value that marks nodata in `data`.
    pub nodata: T,
    /// Georeferencing copied from the input.
    pub georef: Option<GeoReference>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_checks_sizes_and_roles() {
        let b = |r, n| Band::new(r, BandData::U8(vec![0; n]));
        assert!(matches!(
            BandStack::new(0, 5, vec![]),
            Err(Error::EmptyRaster { .. })
        ));
        assert!(matches!(
            BandStack::new(2, 2, vec![b(BandRole::Red, 4), b(BandRole::Nir, 3)]),
            Err(Error::BandLength { band: 1, .. })
        ));
        assert!(matches!(
            BandStack::new(2, 2, vec![b(BandRole::Red, 4), b(BandRole::Red, 4)]),
            Err(Error::DuplicateRole { .. })
        ));
        let s = BandStack::new(2, 2, vec![b(BandRole::Red, 4)]).unwrap();
        let e = s.require(BandRole::Swir1, "BSI").unwrap_err().to_string();
        assert!(
            e.contains("swir1") && e.contains("BSI") && e.contains("red"),
            "{e}"
        );
    }

    #[test]
    fn transform_maps_pixel_corners() {
        let t = GeoTransform([500000.0, 30.0, 0.0, 3600000.0, 0.0, -30.0]);
        assert_eq!(t.apply(1.0, 2.0), (500030.0, 3599940.0));
        assert_eq!(t.pixel_size(), (30.0, 30.0));
    }
}
