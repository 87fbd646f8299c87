//! Patch areas in m² summed exactly, so that every order of summation (strips, tiles,
//! threads) gives the same bits: in an equal-area grid an area is a pixel count times the
//! pixel area; in every other grid each pixel's ground area is rounded to a multiple of
//! 2⁻²⁰ m² and the multiples are summed as integers.

use crate::geo::PixelArea;

/// Fixed-point scale of per-row pixel areas (units per m²).
const SCALE: f64 = (1u64 << 20) as f64;

/// The running area of one patch: its pixel count and its fixed-point area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaSum {
    /// Pixels added.
    pub pixels: u64,
    /// Sum of pixel areas in units of 2⁻²⁰ m² (grids whose pixel areas vary).
    pub units: u128,
}

impl AreaSum {
    /// Adds the pixel at `row`, `col`.
    #[inline]
    pub fn add(&mut self, pixel_area: &PixelArea, row: usize, col: usize) {
        self.pixels += 1;
        if !matches!(pixel_area, PixelArea::Uniform(_)) {
            self.units += u128::from(pixel_units(pixel_area, row, col));
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
            _ => self.units as f64 / SCALE,
        }
    }
}

/// The area of the pixel at `row`, `col` in fixed-point units.
#[inline]
fn pixel_units(pixel_area: &PixelArea, row: usize, col: usize) -> u64 {
    (pixel_area.at(row, col) * SCALE).round() as u64
}

/// The areas in m² of patches 1..=count of a label raster (index 0: background), from one
/// pass over the labels.
pub fn patch_areas(ids: &[u32], width: usize, count: u32, pixel_area: &PixelArea) -> Vec<f64> {
    let mut sums = vec![AreaSum::default(); count as usize + 1];
    for (row, line) in ids.chunks(width.max(1)).enumerate() {
        for (col, &id) in line.iter().enumerate() {
            if let Some(s) = sums.get_mut(id as usize) {
                s.add(pixel_area, row, col);
            }
        }
    }
    sums[0] = AreaSum::default();
    sums.iter().map(|s| s.m2(pixel_area)).collect()
}
