//! Patch areas in m² summed exactly, so that every order of summation (strips, tiles,
//! threads) gives the same bits: in a projected grid an area is a pixel count times the
//! pixel area; in a geographic grid each row's pixel area is rounded to a multiple of
//! 2⁻²⁰ m² and the multiples are summed as integers.

use crate::geo::PixelArea;

/// Fixed-point scale of per-row pixel areas (units per m²).
const SCALE: f64 = (1u64 << 20) as f64;

/// The running area of one patch: its pixel count and its fixed-point area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaSum {
    /// Pixels added.
    pub pixels: u64,
    /// Sum of per-row pixel areas in units of 2⁻²⁰ m² (geographic grids only).
    pub units: u128,
}

impl AreaSum {
    /// Adds `n` pixels of row `row`.
    #[inline]
    pub fn add(&mut self, pixel_area: &PixelArea, row: usize, n: u64) {
        self.pixels += n;
        if let PixelArea::PerRow(_) = pixel_area {
            self.units += u128::from(row_units(pixel_area, row)) * u128::from(n);
        }
    }

    /// Adds another sum.
    pub fn merge(&mut self, other: &AreaSum) {
        self.pixels += other.pixels;
        self.units += other.units;
    }

    /// The area in m².
    pub fn m2(&self, pixel_area: &PixelArea) -> f64 {
        match pixel_area {
            PixelArea::Uniform(a) => self.pixels as f64 * a,
            PixelArea::PerRow(_) => self.units as f64 / SCALE,
        }
    }
}

/// Pixel area of `row` in fixed-point units.
#[inline]
fn row_units(pixel_area: &PixelArea, row: usize) -> u64 {
    (pixel_area.at_row(row) * SCALE).round() as u64
}

/// The areas in m² of patches 1..=count of a label raster (index 0: background), from one
/// pass over the labels.
pub fn patch_areas(ids: &[u32], width: usize, count: u32, pixel_area: &PixelArea) -> Vec<f64> {
    let mut sums = vec![AreaSum::default(); count as usize + 1];
    for (row, line) in ids.chunks(width.max(1)).enumerate() {
        for &id in line {
            if let Some(s) = sums.get_mut(id as usize) {
                s.add(pixel_area, row, 1);
            }
        }
    }
    sums[0] = AreaSum::default();
    sums.iter().map(|s| s.m2(pixel_area)).collect()
}
