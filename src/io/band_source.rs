//! One date as one GeoTIFF per band (as Sentinel-2 and Landsat deliver them): a
//! [`DateSource`] whose bands are resampled onto the finest of their grids, strip by strip.

use crate::error::{Error, Result};
use crate::io::align::{Grid, Window, check_same_grid, invert, window_georef};
use crate::io::bands::{BandFile, resample_rows, source_rows};
use crate::io::geotiff::{GeoTiff, ReadLimits, read_info, read_window};
use crate::io::source::{DateSource, SourceInfo};
use crate::raster::{Band, BandStack, GeoReference};
use crate::sensor::BandRole;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A date given as one file per band, each band with its role and resampling. The bands
/// come in the order given, on the grid of the finest band (the smallest pixel area; the
/// first such file on a tie), which is the date's grid. A band on another grid (Sentinel-2's
/// 20 m SWIR under 10 m visible bands) is resampled onto it as
/// [`crate::io::stack_from_band_files`] does, bit for bit, but a strip at a time: a read of
/// rows decodes only the rows of each file that those rows need. Every band keeps its
/// file's nodata value, which also fills target pixels outside its extent (0 without one).
///
/// All files must be georeferenced in one CRS and hold one sample type.
#[derive(Debug)]
pub struct BandFilesSource {
    files: Vec<BandFile>,
    /// What the headers said at the last [`DateSource::info`], so that reads of rows do not
    /// parse every header again.
    plan: Mutex<Option<Arc<Plan>>>,
}

/// The date's grid and, per file, its grid and nodata value.
#[derive(Debug)]
struct Plan {
    info: SourceInfo,
    target: Grid,
    sources: Vec<(Grid, Option<f64>)>,
}

impl BandFilesSource {
    /// The bands of `files`, in that order (nothing is read here).
    pub fn new(files: Vec<BandFile>) -> BandFilesSource {
        BandFilesSource {
            files,
            plan: Mutex::new(None),
        }
    }

    /// The band files, in band order.
    pub fn files(&self) -> &[BandFile] {
        &self.files
    }

    /// The bands' roles, in band order (for [`crate::job::Job::bands`]).
    pub fn roles(&self) -> Vec<Option<BandRole>> {
        self.files.iter().map(|f| f.role).collect()
    }

    /// Reads every header and checks that the files can make one stack.
    fn make_plan(&self) -> Result<Plan> {
        let Some(first) = self.files.first() else {
            return Err(invalid(
                "band files",
                "none",
                "a date needs at least one band",
            ));
        };
        let mut infos = Vec::with_capacity(self.files.len());
        for f in &self.files {
            let info = read_info(&f.path)?;
            if f.band >= info.band_count {
                return Err(invalid(
                    "band",
                    &(f.band + 1).to_string(),
                    &format!("{} has {} band(s)", f.path.display(), info.band_count),
                ));
            }
            if info.georef.is_none() {
                return Err(Error::Georeference {
                    path: f.path.clone(),
                    reason: "no transform: a band file must be georeferenced to be stacked \
                             with the others"
                        .into(),
                });
            }
            infos.push(info);
        }
        let area = |g: &Option<GeoReference>| {
            let (w, h) = g.map_or((0.0, 0.0), |g| g.transform.pixel_size());
            w * h
        };
        let reference = (0..infos.len())
            .min_by(|&a, &b| area(&infos[a].georef).total_cmp(&area(&infos[b].georef)))
            .unwrap_or(0);
        let r = &infos[reference];
        for (f, info) in self.files.iter().zip(&infos) {
            check_compatible(f, info, first, &infos[0], &self.files[reference], r)?;
        }
        let target = Grid {
            width: r.width,
            height: r.height,
            georef: r.georef,
        };
        let info = SourceInfo {
            band_count: self.files.len(),
            nodata: infos[0].nodata,
            data_type: infos[0].data_type,
            block_rows: r.block_rows,
            ..SourceInfo::from(*r)
        };
        let sources = infos
            .iter()
            .map(|i| {
                let grid = Grid {
                    width: i.width,
                    height: i.height,
                    georef: i.georef,
                };
                (grid, i.nodata)
            })
            .collect();
        Ok(Plan {
            info,
            target,
            sources,
        })
    }

    fn plan(&self) -> Result<Arc<Plan>> {
        let cached = self.plan.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match cached {
            Some(plan) => Ok(plan),
            None => {
                self.info()?;
                self.plan()
            }
        }
    }
}

/// Checks that band file `f` (header `info`) can join a stack with the first file and the
/// reference (the finest grid): one sample type, one CRS, an invertible transform.
fn check_compatible(
    f: &BandFile,
    info: &crate::io::GeoTiffInfo,
    first: &BandFile,
    first_info: &crate::io::GeoTiffInfo,
    reference: &BandFile,
    reference_info: &crate::io::GeoTiffInfo,
) -> Result<()> {
    if info.data_type != first_info.data_type {
        return Err(invalid(
            "band files",
            &f.path.display().to_string(),
            &format!(
                "{} samples, but {} holds {}: the bands of a date share one sample type",
                info.data_type,
                first.path.display(),
                first_info.data_type
            ),
        ));
    }
    let (Some(g), Some(rg)) = (info.georef, reference_info.georef) else {
        return Ok(());
    };
    if let (Some(a), Some(b)) = (g.crs, rg.crs)
        && a != b
    {
        return Err(Error::GridMismatch {
            what: format!(
                "{} is in {a}, {} in {b}: band files are resampled, not reprojected",
                f.path.display(),
                reference.path.display()
            ),
        });
    }
    if invert(&g.transform, 0.0, 0.0).is_none() {
        return Err(Error::GridMismatch {
            what: format!("{}: the transform is degenerate", f.path.display()),
        });
    }
    Ok(())
}

fn invalid(name: &str, value: &str, reason: &str) -> Error {
    Error::InvalidParameter {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// The windows of whole rows read during one [`DateSource::read_rows`], by file and rows,
/// so that several bands of one file decode it once.
#[derive(Default)]
struct Windows(Vec<(PathBuf, Range<usize>, GeoTiff)>);

impl Windows {
    fn read(&mut self, path: &Path, width: usize, rows: Range<usize>) -> Result<&GeoTiff> {
        let at = self.0.iter().position(|(p, r, _)| p == path && *r == rows);
        let i = match at {
            Some(i) => i,
            None => {
                let image = read_window(
                    path,
                    0,
                    rows.start,
                    width,
                    rows.len(),
                    &ReadLimits::default(),
                )?;
                self.0.push((path.to_path_buf(), rows, image));
                self.0.len() - 1
            }
        };
        Ok(&self.0[i].2)
    }
}

impl DateSource for BandFilesSource {
    /// `ROLE=FILE` for each band, comma-separated (`ROLE=FILE#N` for band N of a file), as
    /// `landwatch enforce --before-band` takes them.
    fn name(&self) -> String {
        let files: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                let role = f.role.map_or("band", BandRole::name);
                match f.band {
                    0 => format!("{role}={}", f.path.display()),
                    b => format!("{role}={}#{}", f.path.display(), b + 1),
                }
            })
            .collect();
        files.join(",")
    }

    fn input_files(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.path.as_path()).collect()
    }

    fn info(&self) -> Result<SourceInfo> {
        let plan = Arc::new(self.make_plan()?);
        let info = plan.info;
        *self.plan.lock().unwrap_or_else(|e| e.into_inner()) = Some(plan);
        Ok(info)
    }

    fn read_rows(&self, rows: Range<usize>) -> Result<BandStack> {
        let plan = self.plan()?;
        let target = &plan.target;
        if rows.is_empty() || rows.end > target.height {
            return Err(invalid(
                "rows",
                &format!("{}..{}", rows.start, rows.end),
                &format!("outside the {} rows of the date", target.height),
            ));
        }
        let mut windows = Windows::default();
        let mut bands = Vec::with_capacity(self.files.len());
        for (f, (grid, nodata)) in self.files.iter().zip(&plan.sources) {
            let data = if check_same_grid(grid, target).is_ok() {
                windows.read(&f.path, grid.width, rows.clone())?.bands[f.band].clone()
            } else if let Some(src_rows) = source_rows(grid, target, rows.clone()) {
                let window = windows.read(&f.path, grid.width, src_rows.clone())?;
                let src = &window.bands[f.band];
                resample_rows(
                    src,
                    src_rows.start,
                    grid,
                    target,
                    rows.clone(),
                    f.resampling,
                    *nodata,
                )
            } else {
                // No source row under these rows: all nodata, as resampling would give.
                let none = Grid { height: 0, ..*grid };
                let empty = crate::io::geotiff::zeroed(plan.info.data_type, 0);
                resample_rows(
                    &empty,
                    0,
                    &none,
                    target,
                    rows.clone(),
                    f.resampling,
                    *nodata,
                )
            };
            bands.push(Band {
                role: f.role,
                data,
                nodata: *nodata,
            });
        }
        let mut stack = BandStack::new(target.width, rows.len(), bands)?;
        let window = Window {
            col: 0,
            row: rows.start,
            width: target.width,
            height: rows.len(),
        };
        stack.georef = target.georef.map(|g| window_georef(&g, &window));
        Ok(stack)
    }
}
