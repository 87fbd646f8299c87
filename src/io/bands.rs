//! Stacks built from one file per band (as Sentinel-2 delivers them), each band resampled
//! onto the grid of a chosen reference band: nearest neighbour for classes and masks,
//! bilinear for reflectance.

use crate::error::{Error, Result};
use crate::io::align::{Grid, check_same_grid, invert};
use crate::io::geotiff::{ReadLimits, read_geotiff};
use crate::io::sample::GeoTiffSample;
use crate::raster::{Band, BandData, BandStack};
use crate::sensor::BandRole;
use rayon::prelude::*;
use std::ops::Range;
use std::path::PathBuf;

/// How to compute a pixel of the target grid from the source band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resampling {
    /// The source pixel under the target pixel's centre (exact values: classes, masks).
    Nearest,
    /// Distance-weighted mean of the four source pixel centres around the target pixel's
    /// centre, ignoring nodata neighbours (reflectance).
    Bilinear,
}

/// One input band: a file, which band of it, its role and how to resample it.
#[derive(Debug, Clone, PartialEq)]
pub struct BandFile {
    /// The GeoTIFF.
    pub path: PathBuf,
    /// Zero-based band of the file to take.
    pub band: usize,
    /// Role in the stack.
    pub role: Option<BandRole>,
    /// Resampling onto the reference grid.
    pub resampling: Resampling,
}

impl BandFile {
    /// The first band of `path`, with a role and a resampling method.
    pub fn new(path: impl Into<PathBuf>, role: BandRole, resampling: Resampling) -> BandFile {
        BandFile {
            path: path.into(),
            band: 0,
            role: Some(role),
            resampling,
        }
    }
}

/// Reads each file's band and resamples it onto the grid of `files[reference]`, in order.
/// Every band keeps its file's nodata value (which also fills target pixels outside its
/// extent; 0 when the file has none). The stack takes the reference's georeference.
pub fn stack_from_band_files(
    files: &[BandFile],
    reference: usize,
    limits: &ReadLimits,
) -> Result<BandStack> {
    let Some(ref_file) = files.get(reference) else {
        return Err(Error::InvalidParameter {
            name: "reference".into(),
            value: reference.to_string(),
            reason: format!("only {} band files are given", files.len()),
        });
    };
    let ref_image = read_geotiff(&ref_file.path, limits)?;
    let target = Grid::of_image(&ref_image);
    let mut bands = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let image = if i == reference {
            ref_image.clone()
        } else {
            read_geotiff(&f.path, limits)?
        };
        let source = Grid::of_image(&image);
        let n = image.bands.len();
        let Some(data) = image.bands.into_iter().nth(f.band) else {
            return Err(Error::InvalidParameter {
                name: "band".into(),
                value: f.band.to_string(),
                reason: format!("{} has {n} band(s)", f.path.display()),
            });
        };
        let data = resample(&data, &source, &target, f.resampling, image.nodata)?;
        bands.push(Band {
            role: f.role,
            data,
            nodata: image.nodata,
        });
    }
    let mut stack = BandStack::new(target.width, target.height, bands)?;
    stack.georef = target.georef;
    Ok(stack)
}

/// Resamples one band from grid `from` onto grid `onto` (same CRS). Returns a copy when the
/// grids are the same. Target pixels whose centre falls outside the source get `nodata`
/// (0 when `None`). Integer results are rounded to the nearest value.
pub fn resample(
    data: &BandData,
    from: &Grid,
    onto: &Grid,
    method: Resampling,
    nodata: Option<f64>,
) -> Result<BandData> {
    if data.len() != from.width * from.height {
        return Err(Error::BandLength {
            band: 0,
            len: data.len(),
            width: from.width,
            height: from.height,
            expected: from.width * from.height,
        });
    }
    if check_same_grid(from, onto).is_ok() {
        return Ok(data.clone());
    }
    let (Some(src), Some(dst)) = (&from.georef, &onto.georef) else {
        return Err(Error::GridMismatch {
            what: "resampling needs both grids georeferenced".into(),
        });
    };
    if let (Some(a), Some(b)) = (src.crs, dst.crs)
        && a != b
    {
        return Err(Error::GridMismatch {
            what: format!("CRS {a} vs {b}: reprojection is not supported"),
        });
    }
    if invert(&src.transform, 0.0, 0.0).is_none() {
        return Err(Error::GridMismatch {
            what: "the source transform is degenerate".into(),
        });
    }
    let job = Job {
        from,
        onto,
        method,
        nodata,
    };
    Ok(job.dispatch(data, 0, 0..onto.height))
}

/// Resamples target rows `rows` of grid `onto` from `data`, which holds source rows
/// `src_row0..` (all columns) of grid `from`: the rows [`resample`] would give there, bit for
/// bit, read from the source rows [`source_rows`] says they need. Both grids must be
/// georeferenced in one CRS with an invertible source transform (the caller checks).
pub(crate) fn resample_rows(
    data: &BandData,
    src_row0: usize,
    from: &Grid,
    onto: &Grid,
    rows: Range<usize>,
    method: Resampling,
    nodata: Option<f64>,
) -> BandData {
    let job = Job {
        from,
        onto,
        method,
        nodata,
    };
    job.dispatch(data, src_row0, rows)
}

/// The source rows of grid `from` that target rows `rows` of grid `onto` read (with a
/// margin of a row each side for rounding), or `None` when they lie outside the source.
pub(crate) fn source_rows(from: &Grid, onto: &Grid, rows: Range<usize>) -> Option<Range<usize>> {
    let (src, dst) = (from.georef?.transform, onto.georef?.transform);
    if rows.is_empty() {
        return None;
    }
    let (w, r0, r1) = (onto.width as f64, rows.start as f64, rows.end as f64);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    // The map is affine: the strip's corner pixel centres bound every centre's source row.
    for (c, r) in [
        (0.5, r0 + 0.5),
        (w - 0.5, r0 + 0.5),
        (0.5, r1 - 0.5),
        (w - 0.5, r1 - 0.5),
    ] {
        let (x, y) = dst.apply(c, r);
        let (_, v) = invert(&src, x, y)?;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let first = (lo - 0.5).floor() - 1.0;
    let end = (hi + 0.5).floor() + 2.0;
    let sh = from.height as f64;
    if !(first < sh && end > 0.0) {
        return None;
    }
    Some(first.max(0.0) as usize..end.min(sh) as usize)
}

struct Job<'a> {
    from: &'a Grid,
    onto: &'a Grid,
    method: Resampling,
    nodata: Option<f64>,
}

impl Job<'_> {
    fn dispatch(&self, data: &BandData, src_row0: usize, rows: Range<usize>) -> BandData {
        match data {
            BandData::U8(v) => BandData::U8(self.run(v, src_row0, rows)),
            BandData::U16(v) => BandData::U16(self.run(v, src_row0, rows)),
            BandData::I16(v) => BandData::I16(self.run(v, src_row0, rows)),
            BandData::U32(v) => BandData::U32(self.run(v, src_row0, rows)),
            BandData::F32(v) => BandData::F32(self.run(v, src_row0, rows)),
        }
    }

    /// Target rows `rows`, from `src`: source rows `src_row0..` of the source grid. A source
    /// pixel outside `src` counts as outside the source (never, when `src` holds the rows
    /// [`source_rows`] names).
    fn run<T: GeoTiffSample>(&self, src: &[T], src_row0: usize, rows: Range<usize>) -> Vec<T> {
        let (sw, sh) = (self.from.width, self.from.height);
        let src_t = self.from.georef.expect("checked").transform;
        let dst_t = self.onto.georef.expect("checked").transform;
        let fill = T::from_f64(self.nodata.unwrap_or(0.0));
        let valid = |v: f64| v.is_finite() && self.nodata.is_none_or(|n| v != n);
        let at = |xi: usize, yi: usize| {
            yi.checked_sub(src_row0)
                .and_then(|y| src.get(y * sw + xi))
                .copied()
        };
        let mut out = vec![fill; self.onto.width * rows.len()];
        out.par_chunks_mut(self.onto.width)
            .enumerate()
            .for_each(|(i, row)| {
                let r = rows.start + i;
                for (c, px) in row.iter_mut().enumerate() {
                    let (x, y) = dst_t.apply(c as f64 + 0.5, r as f64 + 0.5);
                    let Some((u, v)) = invert(&src_t, x, y) else {
                        continue;
                    };
                    if !(u >= 0.0 && v >= 0.0 && u < sw as f64 && v < sh as f64) {
                        continue;
                    }
                    match self.method {
                        Resampling::Nearest => {
                            if let Some(s) = at(u as usize, v as usize) {
                                *px = s;
                            }
                        }
                        Resampling::Bilinear => {
                            let (fx, fy) = (u - 0.5, v - 0.5);
                            let (x0, y0) = (fx.floor(), fy.floor());
                            let (wx, wy) = (fx - x0, fy - y0);
                            let clamp = |i: f64, n: usize| (i.max(0.0) as usize).min(n - 1);
                            let (xa, xb) = (clamp(x0, sw), clamp(x0 + 1.0, sw));
                            let (ya, yb) = (clamp(y0, sh), clamp(y0 + 1.0, sh));
                            let mut sum = 0.0;
                            let mut weight = 0.0;
                            for (xi, yi, w) in [
                                (xa, ya, (1.0 - wx) * (1.0 - wy)),
                                (xb, ya, wx * (1.0 - wy)),
                                (xa, yb, (1.0 - wx) * wy),
                                (xb, yb, wx * wy),
                            ] {
                                let s = at(xi, yi).map_or(f64::NAN, GeoTiffSample::to_f64);
                                if w > 0.0 && valid(s) {
                                    sum += w * s;
                                    weight += w;
                                }
                            }
                            if weight > 0.0 {
                                *px = T::from_f64(sum / weight);
                            }
                        }
                    }
                }
            });
        out
    }
}
