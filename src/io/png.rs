//! PNG quicklooks: true- and false-colour composites of a band stack with a 2–98 %
//! percentile stretch per band (nodata transparent black), and class maps with a fixed
//! palette.

use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;
use crate::raster::{Band, BandStack, Raster};
use crate::sensor::BandRole;
use image::{ExtendedColorType, ImageEncoder};
use std::path::Path;

/// Lower and upper percentiles of the quicklook stretch.
pub const STRETCH_PERCENTILES: (f64, f64) = (0.02, 0.98);

/// Writes a true-colour quicklook (red, green, blue).
pub fn true_colour_png(path: impl AsRef<Path>, stack: &BandStack) -> Result<()> {
    composite_png(
        path,
        stack,
        [BandRole::Red, BandRole::Green, BandRole::Blue],
    )
}

/// Writes a false-colour quicklook (near infrared, red, green: vegetation shows red).
pub fn false_colour_png(path: impl AsRef<Path>, stack: &BandStack) -> Result<()> {
    composite_png(path, stack, [BandRole::Nir, BandRole::Red, BandRole::Green])
}

/// Writes an RGBA PNG with the bands of `roles` as red, green and blue, each stretched
/// linearly between its 2nd and 98th percentile of valid samples. Pixels that are nodata,
/// NaN or infinite in any of the three bands are transparent black.
pub fn composite_png(
    path: impl AsRef<Path>,
    stack: &BandStack,
    roles: [BandRole; 3],
) -> Result<()> {
    let rgba = composite_rgba(stack, roles)?;
    write_rgba(path.as_ref(), &rgba, stack.width(), stack.height())
}

/// The RGBA pixels of [`composite_png`], row-major.
pub fn composite_rgba(stack: &BandStack, roles: [BandRole; 3]) -> Result<Vec<u8>> {
    let need = |r| stack.require(r, "a colour quicklook");
    let bands = [need(roles[0])?, need(roles[1])?, need(roles[2])?];
    let stretches = [stretch(bands[0])?, stretch(bands[1])?, stretch(bands[2])?];
    let n = stack.len();
    let mut rgba = vec![0u8; n * 4];
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        let mut all_valid = true;
        for (k, band) in bands.iter().enumerate() {
            let v = band.data.get_f32(i);
            if !band.is_valid(v) {
                all_valid = false;
                break;
            }
            px[k] = stretches[k].apply(v);
        }
        if all_valid {
            px[3] = 255;
        } else {
            px.copy_from_slice(&[0, 0, 0, 0]);
        }
    }
    Ok(rgba)
}

/// Writes a class map: each class value gets its palette colour (RGBA); the raster's nodata
/// value and classes missing from the palette are transparent black.
pub fn class_map_png(
    path: impl AsRef<Path>,
    raster: &Raster<u8>,
    palette: &[(u8, [u8; 4])],
) -> Result<()> {
    let expected = raster.width * raster.height;
    if raster.data.len() != expected || expected == 0 {
        return Err(Error::BandLength {
            band: 0,
            len: raster.data.len(),
            width: raster.width,
            height: raster.height,
            expected,
        });
    }
    let mut lut = [[0u8; 4]; 256];
    for &(class, colour) in palette {
        lut[usize::from(class)] = colour;
    }
    lut[usize::from(raster.nodata)] = [0; 4];
    let rgba: Vec<u8> = raster
        .data
        .iter()
        .flat_map(|&c| lut[usize::from(c)])
        .collect();
    write_rgba(path.as_ref(), &rgba, raster.width, raster.height)
}

/// A linear map from `[lo, hi]` to `[0, 255]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stretch {
    lo: f32,
    hi: f32,
}

impl Stretch {
    fn apply(self, v: f32) -> u8 {
        if self.hi > self.lo {
            ((v - self.lo) / (self.hi - self.lo) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        } else {
            128
        }
    }
}

/// The 2–98 % stretch of a band's valid samples.
fn stretch(band: &Band) -> Result<Stretch> {
    let mut values: Vec<f32> = (0..band.data.len())
        .map(|i| band.data.get_f32(i))
        .filter(|&v| band.is_valid(v))
        .collect();
    if values.is_empty() {
        return Err(Error::AllNodata {
            what: "a colour quicklook".into(),
        });
    }
    let last = values.len() - 1;
    let at = |values: &mut Vec<f32>, q: f64| {
        let k = ((last as f64) * q).round() as usize;
        *values.select_nth_unstable_by(k, f32::total_cmp).1
    };
    let lo = at(&mut values, STRETCH_PERCENTILES.0);
    let hi = at(&mut values, STRETCH_PERCENTILES.1);
    Ok(Stretch { lo, hi })
}

/// Writes row-major RGBA pixels as a PNG, atomically.
pub fn write_rgba(path: &Path, rgba: &[u8], width: usize, height: usize) -> Result<()> {
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(Error::TooLarge {
            what: format!("{width}×{height} is too large for a PNG"),
        });
    };
    write_atomically(path, |out| {
        image::codecs::png::PngEncoder::new(out)
            .write_image(rgba, w, h, ExtendedColorType::Rgba8)
            .map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: match e {
                    image::ImageError::IoError(io) => io,
                    other => std::io::Error::other(other.to_string()),
                },
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::BandData;

    #[test]
    fn stretch_ignores_nodata_and_clamps() {
        // 0..=100 plus nodata 9999: 2 % is 2, 98 % is 98.
        let mut v: Vec<u16> = (0..=100).collect();
        v.push(9999);
        let band = Band::new(BandRole::Red, BandData::U16(v)).with_nodata(9999.0);
        let s = stretch(&band).unwrap();
        assert_eq!((s.lo, s.hi), (2.0, 98.0));
        assert_eq!(s.apply(0.0), 0);
        assert_eq!(s.apply(50.0), 128);
        assert_eq!(s.apply(200.0), 255);
        let empty = Band::new(BandRole::Red, BandData::U16(vec![9999])).with_nodata(9999.0);
        assert!(matches!(stretch(&empty), Err(Error::AllNodata { .. })));
    }
}
